import type { Manifest } from "../api/types.ts";
import { condition, num } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/** ReplicaSet health: a ReplicaFailure condition (quota, admission) is Degraded, otherwise wait for available pods. */
export function replicaSetHealth(obj: Manifest): HealthResult {
  if ((num(obj, "status", "observedGeneration") ?? 0) < (num(obj, "metadata", "generation") ?? 0)) {
    return health("Progressing", "Waiting for rollout to finish: observed replica set generation less than desired generation");
  }
  const failure = condition(obj, "ReplicaFailure");
  if (failure?.status === "True") return health("Degraded", failure.message);
  const desired = num(obj, "spec", "replicas") ?? 1;
  const available = num(obj, "status", "availableReplicas") ?? 0;
  if (available < desired) {
    return health("Progressing", `Waiting for rollout to finish: ${available} out of ${desired} new replicas are available...`);
  }
  return health("Healthy");
}
