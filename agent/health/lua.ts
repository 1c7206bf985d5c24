import type { Manifest } from "../api/types.ts";
import { runLua } from "../lua/index.ts";
import { isObject } from "./fields.ts";
import { HEALTH_ORDER } from "./order.ts";
import { health, type HealthResult } from "./result.ts";

/**
 * A `health.lua` from tether-cm, run as Argo CD runs it: the object as `obj`, the returned table's
 * `status` and `message` taken. A script error, a result that is not a table, or a status Argo CD does
 * not know gives Unknown with the reason (Argo CD's words), never a guess. A script that returns nothing
 * (nil or an empty table) has no opinion: Argo CD then shows no health, Tether counts it Healthy.
 */
export function luaHealth(live: Manifest, script: string, openLibs: boolean): HealthResult {
  const out = runLua({ script, obj: live, openLibs, name: "health.lua" });
  if (!out.ok) return health("Unknown", out.error);
  const value = out.value;
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return health("Healthy");
  if (!isObject(value)) return health("Unknown", `expect table output from Lua script, not ${luaTypeOf(value)}`);
  const status = value.status;
  const message = typeof value.message === "string" ? value.message : undefined;
  if (typeof status !== "string" || !(HEALTH_ORDER as readonly string[]).includes(status)) {
    return health("Unknown", "Lua returned an invalid health status");
  }
  return health(status as HealthResult["status"], message);
}

function luaTypeOf(value: unknown): string {
  if (Array.isArray(value)) return "table";
  return typeof value === "boolean" ? "boolean" : typeof value === "number" ? "number" : "string";
}
