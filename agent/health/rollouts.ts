import type { Manifest } from "../api/types.ts";
import { holds } from "./conditions.ts";
import { condition, field, list, num, str } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/**
 * Argo Rollouts Rollout. The controller (v1.0+) writes its own verdict in `status.phase` and
 * `status.message`; for older ones the replica counts decide, as for a Deployment. A pause (by a step
 * or a person) is Suspended: the next wave must not wait on a canary someone holds on purpose.
 */
export function rolloutHealth(obj: Manifest): HealthResult {
  if (specNotObserved(obj)) return health("Progressing", "Waiting for rollout spec update to be observed");
  const invalid = holds(obj, "InvalidSpec");
  if (invalid) return health("Degraded", invalid.message ?? "InvalidSpec");
  if (field(obj, "status", "abort") === true) return health("Degraded", str(obj, "status", "message") ?? "Rollout is aborted");
  const phase = str(obj, "status", "phase");
  const message = str(obj, "status", "message");
  if (phase === "Paused") return health("Suspended", message ?? "Rollout is paused");
  if (phase === "Healthy" || phase === "Progressing" || phase === "Degraded") return health(phase, message);
  if (field(obj, "spec", "paused") === true || list(obj, "status", "pauseConditions").length > 0) {
    return health("Suspended", "Rollout is paused");
  }
  const progressing = condition(obj, "Progressing");
  if (progressing?.status === "False" && progressing.reason === "ProgressDeadlineExceeded") {
    return health("Degraded", progressing.message ?? "Rollout exceeded its progress deadline");
  }
  return replicaHealth(obj);
}

/** The controller has not seen the latest spec, or (workloadRef) the latest Deployment it takes its template from. */
function specNotObserved(obj: Manifest): boolean {
  const generation = num(obj, "metadata", "generation");
  const observed = field(obj, "status", "observedGeneration");
  const observedNumber = typeof observed === "number" ? observed : typeof observed === "string" && /^\d+$/.test(observed) ? Number(observed) : undefined;
  if (generation !== undefined && observedNumber !== undefined && observedNumber < generation) return true;
  const workloadGeneration = obj.metadata.annotations?.["rollout.argoproj.io/workload-generation"];
  if (field(obj, "spec", "workloadRef") === undefined || workloadGeneration === undefined) return false;
  const workloadObserved = field(obj, "status", "workloadObservedGeneration");
  return (typeof workloadObserved === "number" || typeof workloadObserved === "string" ? String(workloadObserved) : "") !== workloadGeneration;
}

function replicaHealth(obj: Manifest): HealthResult {
  const desired = num(obj, "spec", "replicas") ?? 1;
  const updated = num(obj, "status", "updatedReplicas") ?? 0;
  const available = num(obj, "status", "availableReplicas") ?? 0;
  const total = num(obj, "status", "replicas") ?? 0;
  if (updated < desired) return health("Progressing", `Waiting for rollout to finish: ${updated} out of ${desired} new replicas have been updated...`);
  if (total > updated) return health("Progressing", `Waiting for rollout to finish: ${total - updated} old replicas are pending termination...`);
  if (available < updated) return health("Progressing", `Waiting for rollout to finish: ${available} of ${updated} updated replicas are available...`);
  return health("Healthy");
}

/** Argo Rollouts AnalysisRun: by its phase; Inconclusive is Unknown (as Argo CD): a person must decide. */
export function analysisRunHealth(obj: Manifest): HealthResult {
  const phase = str(obj, "status", "phase");
  const message = str(obj, "status", "message");
  switch (phase) {
    case "Successful": return health("Healthy", message);
    case "Failed": case "Error": return health("Degraded", message ?? `Analysis ${phase.toLowerCase()}`);
    case "Inconclusive": return health("Unknown", message ?? "Analysis is inconclusive");
    default: return health("Progressing", message ?? "Analysis is running");
  }
}
