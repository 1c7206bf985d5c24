import type { Manifest } from "../api/types.ts";
import { generationBehind, holds } from "./conditions.ts";
import { condition } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/**
 * Health of a kind nobody described, by the conventions most controllers follow (kstatus): the spec not
 * yet observed → Progressing; `Stalled` → Degraded; `Reconciling` → Progressing; `Ready` or `Available`
 * True → Healthy, False or Unknown → Progressing (kstatus calls it in progress: a controller that gives
 * up says Stalled); Crossplane's `Synced` False → Degraded. A kind without any of these is Healthy once
 * it exists, as in Argo CD.
 */
export function genericHealth(obj: Manifest): HealthResult {
  return genericSignal(obj) ?? health("Healthy");
}

/**
 * What the conventions above say of `obj`, or undefined when it carries none of them (a ConfigMap, a
 * Role): Argo CD has no health check for such a kind, and its status lists the resource without health.
 */
export function genericSignal(obj: Manifest): HealthResult | undefined {
  const behind = generationBehind(obj);
  if (behind) return behind;
  const stalled = holds(obj, "Stalled");
  if (stalled) return health("Degraded", stalled.message ?? stalled.reason ?? "The controller stalled");
  const synced = condition(obj, "Synced");
  if (synced?.status === "False") return health("Degraded", synced.message ?? synced.reason ?? "The controller could not sync the resource");
  const reconciling = holds(obj, "Reconciling");
  if (reconciling) return health("Progressing", reconciling.message ?? reconciling.reason ?? "Reconciling");
  for (const type of ["Ready", "Available"]) {
    const c = condition(obj, type);
    if (c === undefined) continue;
    if (c.status === "True") return health("Healthy", c.message);
    return health("Progressing", c.message ?? c.reason ?? `Waiting for ${type}`);
  }
  return undefined;
}
