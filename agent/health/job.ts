import type { Manifest } from "../api/types.ts";
import { conditions } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/** Job health from its terminal conditions: Failed is Degraded, Complete is Healthy, Suspended is Suspended, else running. */
export function jobHealth(obj: Manifest): HealthResult {
  // Only conditions that hold count: a Job resumed after suspension keeps `Suspended` with status False.
  const holding = conditions(obj).filter((c) => c.status === "True");
  const failed = holding.find((c) => c.type === "Failed");
  if (failed) return health("Degraded", failed.message);
  const complete = holding.find((c) => c.type === "Complete");
  if (complete) return health("Healthy", complete.message);
  const suspended = holding.find((c) => c.type === "Suspended");
  if (suspended) return health("Suspended", suspended.message);
  return health("Progressing");
}
