import type { HealthStatusCode, Manifest } from "../api/types.ts";
import { field, str } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";
import { HEALTH_ORDER, worst } from "./order.ts";

/**
 * Health of a child tether.dev Application (app-of-apps): the health it reports about itself.
 * A child with automated sync that is OutOfSync is about to change, so it is at best Progressing;
 * that keeps a parent's sync waves from moving on before the child has applied its new spec.
 */
export function applicationHealth(obj: Manifest): HealthResult {
  const reported = str(obj, "status", "health", "status");
  if (reported === undefined) return health("Progressing", "Waiting for the Application to report its health");
  if (!isHealthStatusCode(reported)) return health("Unknown", `The Application reports an unknown health "${reported}"`);
  const message = str(obj, "status", "health", "message");
  const outOfSync = str(obj, "status", "sync", "status") === "OutOfSync";
  if (outOfSync && field(obj, "spec", "syncPolicy", "automated") !== undefined) {
    return health(worst(reported, "Progressing"), message ?? "Waiting for the automated sync of an OutOfSync Application");
  }
  return health(reported, message ?? (outOfSync ? "The Application is OutOfSync" : undefined));
}

function isHealthStatusCode(value: string): value is HealthStatusCode {
  return (HEALTH_ORDER as readonly string[]).includes(value);
}
