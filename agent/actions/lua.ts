// Resource actions written in Lua in tether-cm, in Argo CD's format: `resource.customizations.actions.<group>_<kind>`
// (or the legacy block's `actions:`) holds YAML with `discovery.lua` (returns the actions the object has) and
// `definitions: [{name, action.lua}]` (each returns the changed object, or a list of
// `{operation: create|patch, resource}`). Pure: scripts and the live object in, actions and results out.
import YAML from "yaml";
import type { Manifest } from "../api/types.ts";
import { runLua } from "../lua/index.ts";
import type { TetherSettings } from "../settings/index.ts";
import { ActionError, groupKindOf, type ActionParam, type ResourceAction } from "./builtin.ts";

/** One `definitions[]` entry: the action's name and its script. */
export interface LuaActionDefinition {
  readonly name: string;
  readonly actionLua: string;
}

/** The `actions` YAML of one kind (Argo CD's ResourceActions). */
export interface LuaActions {
  /** Where it came from, for messages: `resource.customizations.actions.apps_Deployment`. */
  readonly key: string;
  readonly discoveryLua: string;
  readonly definitions: readonly LuaActionDefinition[];
  /** Argo CD's `mergeBuiltinActions`: show the built-in actions too (the Lua ones win on a name both have). */
  readonly mergeBuiltinActions: boolean;
}

/** What an action asks for: Argo CD's ImpactedResource. */
export interface ImpactedResource {
  readonly operation: "patch" | "create";
  readonly resource: Manifest;
}

/** The config key a kind's actions are written under, as Argo CD spells it. */
export function actionsKey(obj: Pick<Manifest, "apiVersion" | "kind">): string {
  return `resource.customizations.actions.${groupKindOf(obj).replace("/", "_")}`;
}

/**
 * The Lua actions tether-cm gives the object's kind, or undefined when none. Argo CD looks actions up by
 * the exact group/kind (no wildcards), so this does too. A YAML that cannot be read is an ActionError
 * naming the key and the fix.
 */
export function luaActionsFor(settings: TetherSettings, obj: Pick<Manifest, "apiVersion" | "kind">): LuaActions | undefined {
  const text = settings.overrides.get(groupKindOf(obj))?.actions;
  return text === undefined || text === "" ? undefined : parseLuaActions(text, actionsKey(obj));
}

/** Reads the `actions` YAML; `key` names it in errors. */
export function parseLuaActions(text: string, key: string): LuaActions {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new ActionError(`tether-cm ${key}: not valid YAML (${(err as Error).message.split("\n")[0] ?? ""}); fix the ConfigMap`);
  }
  if (!isRecord(doc)) throw new ActionError(`tether-cm ${key}: expected a map with discovery.lua and definitions`);
  const discovery = doc["discovery.lua"];
  if (typeof discovery !== "string" || discovery.trim() === "") {
    throw new ActionError(`tether-cm ${key}: discovery.lua is missing; it returns the actions, e.g. \`return {["my-action"] = {}}\``);
  }
  const defs = doc.definitions ?? [];
  if (!Array.isArray(defs)) throw new ActionError(`tether-cm ${key}: definitions must be a list of {name, action.lua}`);
  const definitions = defs.map((d: unknown, i) => {
    if (!isRecord(d) || typeof d.name !== "string" || typeof d["action.lua"] !== "string") {
      throw new ActionError(`tether-cm ${key}: definitions[${i}] needs a name and an action.lua (strings)`);
    }
    return { name: d.name, actionLua: d["action.lua"] };
  });
  return { key, discoveryLua: discovery, definitions, mergeBuiltinActions: doc.mergeBuiltinActions === true };
}

/**
 * Runs `discovery.lua` on the object: the actions it returns (a table keyed by action name, each with
 * `disabled`, `iconClass`, `displayName`, `params`), sorted by name. An empty table is no actions.
 */
export function discoverLuaActions(obj: Manifest, actions: LuaActions): ResourceAction[] {
  const out = runLua({ script: actions.discoveryLua, obj, name: "discovery.lua" });
  if (!out.ok) throw new ActionError(`tether-cm ${actions.key}: discovery.lua failed: ${out.error}`);
  if (Array.isArray(out.value) && out.value.length === 0) return [];
  if (!isRecord(out.value)) throw new ActionError(`tether-cm ${actions.key}: discovery.lua must return a table keyed by action name`);
  return Object.entries(out.value).map(([name, value]) => actionOf(name, value)).sort((a, b) => a.name.localeCompare(b.name));
}

function actionOf(name: string, value: unknown): ResourceAction {
  if (!isRecord(value)) return { name, disabled: false };
  const params = Array.isArray(value.params) ? value.params.filter(isRecord).map(paramOf) : [];
  return {
    name, disabled: value.disabled === true,
    ...(typeof value.iconClass === "string" && value.iconClass ? { iconClass: value.iconClass } : {}),
    ...(typeof value.displayName === "string" && value.displayName ? { displayName: value.displayName } : {}),
    ...(params.length > 0 ? { params } : {}),
  };
}

function paramOf(p: Record<string, unknown>): ActionParam {
  return { name: typeof p.name === "string" ? p.name : "", ...(typeof p.default === "string" ? { default: p.default } : {}) };
}

/**
 * Runs one `action.lua` on the object with `actionParams` set, as Argo CD does: a returned object is a
 * patch of the object itself; a returned list holds `{operation: "create"|"patch", resource}`. An empty
 * table that was a map in the object stays a map (Lua cannot tell them apart), as Argo CD's cleanup does.
 */
export function runLuaAction(obj: Manifest, script: string, params: Readonly<Record<string, string>>): ImpactedResource[] {
  const out = runLua({ script, obj, globals: { actionParams: params }, name: "action.lua" });
  if (!out.ok) throw new ActionError(out.error);
  const value = out.value;
  if (Array.isArray(value)) {
    return value.map((item, i) => {
      if (!isRecord(item) || !isRecord(item.resource)) throw new ActionError(`action.lua returned a list whose item ${i + 1} is not {operation, resource}`);
      if (item.operation !== "create" && item.operation !== "patch") {
        throw new ActionError(`unsupported operation: ${JSON.stringify(item.operation ?? null)} (item ${i + 1}); expected "create" or "patch"`);
      }
      const resource = item.resource as unknown as Manifest;
      return { operation: item.operation, resource: item.operation === "patch" ? cleanReturned(resource, obj) as Manifest : resource };
    });
  }
  if (!isRecord(value)) throw new ActionError(`action.lua must return a table (the changed object, or a list of {operation, resource}), not ${typeof value}`);
  return [{ operation: "patch", resource: cleanReturned(value, obj) as Manifest }];
}

/** Argo CD's cleanReturnedObj: where the object had a map and the script returned an empty list, a map again. */
export function cleanReturned(next: unknown, prev: unknown): unknown {
  if (isRecord(next) && isRecord(prev)) {
    const out: Record<string, unknown> = { ...next };
    for (const [key, old] of Object.entries(prev)) {
      if (!Object.hasOwn(next, key)) continue;
      const value = next[key];
      if (Array.isArray(value) && value.length === 0 && isRecord(old)) out[key] = {};
      else out[key] = cleanReturned(value, old);
    }
    return out;
  }
  if (Array.isArray(next) && Array.isArray(prev)) return next.map((v: unknown, i) => (i < prev.length ? cleanReturned(v, prev[i]) : v));
  return next;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
