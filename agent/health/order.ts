import type { HealthStatusCode } from "../api/types.ts";

/**
 * Health codes from least to most severe, Argo CD's order. Suspended ranks below Progressing
 * because a paused rollout is a deliberate state, not one to wait for. Missing ranks below
 * Degraded because the next sync creates what is missing, while Degraded needs a person. Unknown
 * ranks worst: a health that could not be assessed must never let a sync wave or `app wait` pass.
 */
export const HEALTH_ORDER: readonly HealthStatusCode[] = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"];

/** The most severe of `statuses`; Healthy when there are none (nothing to be unhealthy about). */
export function worst(...statuses: readonly HealthStatusCode[]): HealthStatusCode {
  return statuses.reduce<HealthStatusCode>(
    (acc, status) => (HEALTH_ORDER.indexOf(status) > HEALTH_ORDER.indexOf(acc) ? status : acc),
    "Healthy",
  );
}
