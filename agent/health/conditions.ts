import type { HealthStatusCode, Manifest } from "../api/types.ts";
import { condition, field, num } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/**
 * How a controller's `Ready` condition reads as health: True is Healthy, False is `whenFalse` (Degraded
 * for kinds whose controller keeps Ready=False only for real failures), absent or Unknown is Progressing
 * with `waiting`. The condition's own message is kept: it is what the controller says to do.
 */
export function readyHealth(obj: Manifest, whenFalse: HealthStatusCode, waiting: string): HealthResult {
  const ready = condition(obj, "Ready");
  if (ready?.status === "True") return health("Healthy", ready.message);
  if (ready?.status === "False") return health(whenFalse, ready.message ?? ready.reason);
  return health("Progressing", ready?.message ?? waiting);
}

/** Progressing while the controller has not seen the latest spec (kstatus' first rule); undefined once it has. */
export function generationBehind(obj: Manifest): HealthResult | undefined {
  const generation = num(obj, "metadata", "generation");
  const observed = field(obj, "status", "observedGeneration");
  if (generation === undefined || typeof observed !== "number" || observed >= generation) return undefined;
  return health("Progressing", `Waiting for the controller to observe generation ${generation} (observed ${observed})`);
}

/** A condition of `type` that holds (`status` True), if any. */
export function holds(obj: Manifest, type: string): { readonly message?: string; readonly reason?: string } | undefined {
  const c = condition(obj, type);
  return c?.status === "True" ? c : undefined;
}
