import type { Manifest } from "../api/types.ts";
import { num, str } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/** StatefulSet health, after `kubectl rollout status`: ready pods first, then the rollout per update strategy. */
export function statefulSetHealth(obj: Manifest): HealthResult {
  const observed = num(obj, "status", "observedGeneration") ?? 0;
  if (observed === 0 || observed < (num(obj, "metadata", "generation") ?? 0)) {
    return health("Progressing", "Waiting for statefulset spec update to be observed...");
  }
  const desired = num(obj, "spec", "replicas") ?? 1;
  const ready = num(obj, "status", "readyReplicas") ?? 0;
  if (ready < desired) return health("Progressing", `Waiting for ${desired - ready} pods to be ready...`);
  // OnDelete replaces pods only when someone deletes them, so there is no rollout to wait for.
  if (str(obj, "spec", "updateStrategy", "type") === "OnDelete") {
    return health("Healthy", `statefulset has ${ready} ready pods`);
  }
  return rollingUpdateHealth(obj, desired);
}

function rollingUpdateHealth(obj: Manifest, desired: number): HealthResult {
  const partition = num(obj, "spec", "updateStrategy", "rollingUpdate", "partition") ?? 0;
  const updated = num(obj, "status", "updatedReplicas") ?? 0;
  const revision = str(obj, "status", "updateRevision");
  if (updated < desired - partition) {
    const what = partition > 0 ? "partitioned roll out" : "rollout";
    return health("Progressing", `Waiting for ${what} to finish: ${updated} out of ${desired - partition} new pods have been updated...`);
  }
  // With a partition the current and update revisions stay apart on purpose (a canary), so the
  // partitioned rollout is done once the pods above the partition are updated.
  if (partition > 0) return health("Healthy", `partitioned roll out complete: ${updated} new pods have been updated...`);
  if (revision !== str(obj, "status", "currentRevision")) {
    return health("Progressing", `waiting for statefulset rolling update to complete ${updated} pods at revision ${revision ?? ""}...`);
  }
  return health("Healthy", `statefulset rolling update complete ${num(obj, "status", "currentReplicas") ?? 0} pods at revision ${revision ?? ""}...`);
}
