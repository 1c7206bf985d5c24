// Health stage: live object in, { status, message } out. See README.md.
export { assessHealth, explainHealth, resourceHealth, kindKey, type AssessHealthOptions, type HealthCheck, type HealthRule } from "./health.ts";
export { HEALTH_ORDER, worst } from "./order.ts";
export type { HealthResult } from "./result.ts";
export { healthRules, healthRulesInUse, NO_RULES, useHealthRules, type HealthRules } from "./rules.ts";
