import type { Manifest } from "../api/types.ts";
import { holds, readyHealth } from "./conditions.ts";
import { health, type HealthResult } from "./result.ts";

/** KEDA ScaledObject and ScaledJob: Paused is Suspended, Fallback (a trigger failing) Degraded, then Ready. */
export function kedaHealth(obj: Manifest): HealthResult {
  const paused = holds(obj, "Paused");
  if (paused) return health("Suspended", paused.message ?? `${obj.kind} is paused`);
  const fallback = holds(obj, "Fallback");
  if (fallback) return health("Degraded", fallback.message ?? "A trigger is failing: KEDA scales to the fallback replicas");
  return readyHealth(obj, "Degraded", `Waiting for KEDA to set up the ${obj.kind}`);
}
