import type { Manifest } from "../api/types.ts";
import { num, str } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/** DaemonSet health, after `kubectl rollout status`: every scheduled pod updated and available. */
export function daemonSetHealth(obj: Manifest): HealthResult {
  if ((num(obj, "status", "observedGeneration") ?? 0) < (num(obj, "metadata", "generation") ?? 0)) {
    return health("Progressing", "Waiting for rollout to finish: observed daemon set generation less than desired generation");
  }
  const name = obj.metadata.name ?? "";
  const desired = num(obj, "status", "desiredNumberScheduled") ?? 0;
  const updated = num(obj, "status", "updatedNumberScheduled") ?? 0;
  const available = num(obj, "status", "numberAvailable") ?? 0;
  // OnDelete replaces pods only when someone deletes them, so old pods are not a pending rollout.
  if (str(obj, "spec", "updateStrategy", "type") === "OnDelete") {
    return health("Healthy", `daemon set ${updated} out of ${desired} new pods have been updated`);
  }
  if (updated < desired) {
    return health("Progressing", `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`);
  }
  if (available < desired) {
    return health("Progressing", `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`);
  }
  return health("Healthy");
}
