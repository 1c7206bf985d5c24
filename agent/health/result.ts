import type { HealthStatusCode } from "../api/types.ts";

/** The health of one object: what the Application status lists per resource. */
export interface HealthResult {
  readonly status: HealthStatusCode;
  /** What a person can act on, e.g. "Waiting for rollout to finish: 1 out of 3 new replicas have been updated...". */
  readonly message?: string;
}

/** Builds a result, leaving out an empty message so status output carries no `message: ""`. */
export function health(status: HealthStatusCode, message?: string): HealthResult {
  return message ? { status, message } : { status };
}
