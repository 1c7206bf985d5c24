import type { Manifest } from "../api/types.ts";
import { condition, field, num } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/**
 * Deployment health, as `kubectl rollout status` and Argo CD judge it: the controller must have
 * seen the current spec before its replica counts mean anything.
 */
export function deploymentHealth(obj: Manifest): HealthResult {
  if (field(obj, "spec", "paused") === true) return health("Suspended", "Deployment is paused");
  if ((num(obj, "status", "observedGeneration") ?? 0) < (num(obj, "metadata", "generation") ?? 0)) {
    return health("Progressing", "Waiting for rollout to finish: observed deployment generation less than desired generation");
  }
  if (condition(obj, "Progressing")?.reason === "ProgressDeadlineExceeded") {
    return health("Degraded", `Deployment "${obj.metadata.name ?? ""}" exceeded its progress deadline`);
  }
  // The API server defaults spec.replicas to 1, so a missing value means 1.
  const desired = num(obj, "spec", "replicas") ?? 1;
  const replicas = num(obj, "status", "replicas") ?? 0;
  const updated = num(obj, "status", "updatedReplicas") ?? 0;
  const available = num(obj, "status", "availableReplicas") ?? 0;
  if (updated < desired) {
    return health("Progressing", `Waiting for rollout to finish: ${updated} out of ${desired} new replicas have been updated...`);
  }
  if (replicas > updated) {
    return health("Progressing", `Waiting for rollout to finish: ${replicas - updated} old replicas are pending termination...`);
  }
  if (available < updated) {
    return health("Progressing", `Waiting for rollout to finish: ${available} of ${updated} updated replicas are available...`);
  }
  return health("Healthy");
}
