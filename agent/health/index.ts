// Health stage: live object in, { status, message } out. See README.md.
export { assessHealth, type AssessHealthOptions, type HealthCheck } from "./health.ts";
export { HEALTH_ORDER, worst } from "./order.ts";
export type { HealthResult } from "./result.ts";
