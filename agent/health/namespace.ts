import type { Manifest } from "../api/types.ts";
import { str } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/**
 * Namespace health from its phase. A Terminating namespace also carries a deletionTimestamp, so
 * assessHealth reports it as pending deletion before this check runs.
 */
export function namespaceHealth(obj: Manifest): HealthResult {
  const phase = str(obj, "status", "phase");
  // The API server writes phase Active on create; a missing phase is a namespace read mid-create.
  if (phase === undefined || phase === "Active") return health("Healthy");
  return health("Progressing", `Namespace is ${phase}`);
}
