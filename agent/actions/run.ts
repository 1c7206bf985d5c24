// Running a resource action for an Application: the object must be one of the app's, the action one
// its kind has, the changed object one the app's project permits, and the patch is sent as the
// identity the pipeline says the app writes with (the project's ServiceAccount when it impersonates).
// The caller (the UI API, `tether app actions run`) records the Event and the log line.
import type { Application, Manifest, ObjectRef } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { appContext, type PipelineDeps } from "../controller/pipeline.ts";
import { checkObjects } from "../policy/project.ts";
import type { Cluster } from "../apply/cluster.ts";
import { KubeApiError } from "../apply/http.ts";
import { refOf } from "../apply/inventory.ts";
import { EMPTY_SETTINGS, type TetherSettings } from "../settings/index.ts";
import { ActionError, builtinActions, mergePatch, runBuiltin, type ResourceAction } from "./builtin.ts";
import { discoverLuaActions, luaActionsFor, runLuaAction, type ImpactedResource } from "./lua.ts";

/** The field manager of what actions write: not `tether`, so a sync does not count it as Git's. */
export const ACTION_FIELD_MANAGER = "tether-action";

/** Which object of the app: kind and name, the group and namespace when the name alone is ambiguous. */
export interface ActionTarget {
  readonly kind: string;
  readonly name: string;
  readonly group?: string;
  readonly namespace?: string;
}

export type ActionDeps = Pick<PipelineDeps, "project" | "destinations" | "allowLocalRepos" | "diffSettings"> & {
  /** tether-cm as it stands (the agent's settings watch; the CLI reads it once): its Lua actions. */
  readonly customizations?: () => TetherSettings | Promise<TetherSettings>;
};

/** The object of `app` that `target` names, from the app's status; an error names the candidates. */
export function resolveTarget(app: Application, target: ActionTarget): ObjectRef {
  const matches = (app.status?.resources ?? []).filter((r) => r.kind === target.kind && r.name === target.name
    && (target.group === undefined || (r.group ?? "") === target.group) && (target.namespace === undefined || (r.namespace ?? "") === target.namespace));
  const name = app.metadata?.name ?? "";
  if (matches.length === 0) {
    throw new ActionError(`${target.kind}/${target.name} is not a resource of application ${name}; \`tether app get ${name}\` lists its resources`);
  }
  if (matches.length > 1) {
    throw new ActionError(`${target.kind}/${target.name} names ${matches.length} resources of ${name} (${matches.map((r) => `${r.group || "core"}/${r.namespace ?? ""}`).join(", ")}); pass --group and --namespace`);
  }
  const r = matches[0]!;
  return { group: r.group ?? "", version: r.version ?? "v1", kind: r.kind, name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) };
}

/**
 * The actions the live object has, for `actions list` and the UI's menu: tether-cm's Lua actions of its
 * kind (discovery.lua), then the built-in ones, unless the Lua actions stand alone (Argo CD's
 * `mergeBuiltinActions: false`, its default). A Lua action hides a built-in one of the same name.
 */
export function actionsOf(live: Manifest, settings: TetherSettings = EMPTY_SETTINGS): ResourceAction[] {
  const lua = luaActionsFor(settings, live);
  if (lua === undefined) return builtinActions(live);
  const own = discoverLuaActions(live, lua);
  if (!lua.mergeBuiltinActions) return own;
  return [...own, ...builtinActions(live).filter((b) => !own.some((a) => a.name === b.name))];
}

export interface ActionRequest {
  readonly app: Application;
  readonly target: ActionTarget;
  readonly action: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly now?: Date;
}

export interface ActionOutcome {
  readonly ref: ObjectRef;
  /** For the Event and the log: `restart on apps/Deployment web/shop`. */
  readonly message: string;
}

/** The live object an action acts on, read as the app's writer; and the context that checks and writes it. */
export async function actionTarget(app: Application, target: ActionTarget, deps: ActionDeps) {
  const ref = resolveTarget(app, target);
  const ctx = await appContext(app, deps);
  if (!ctx.writer) throw new Error("internal: actions run without destinations");
  const live = await ctx.writer.get(ref);
  if (!live) throw new ActionError(`${ref.kind}/${ref.name} does not exist in the cluster (yet); sync the app first`);
  return { ref, ctx, writer: ctx.writer, live };
}

/**
 * Runs `action` on the app's object: a Lua action of tether-cm's, else the built-in one. Every object it
 * changes or creates is checked against the project first, then written as the app's writer: a patch
 * of the object (its status through the status subresource when the kind has one, as Argo CD does),
 * a create for each new object.
 */
export async function runAction(req: ActionRequest, deps: ActionDeps): Promise<ActionOutcome> {
  const { ref, ctx, writer, live } = await actionTarget(req.app, req.target, deps);
  const settings = await (deps.customizations?.() ?? EMPTY_SETTINGS);
  const where = `${ref.group ? `${ref.group}/` : ""}${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}`;
  const listed = actionsOf(live, settings);
  const available = listed.find((a) => a.name === req.action);
  if (available === undefined) {
    throw new ActionError(`${where} has no action "${req.action}"; its actions: ${listed.map((a) => a.name).join(", ") || "none"}`);
  }
  if (available.disabled) throw new ActionError(`action "${req.action}" is disabled on ${where} (it would change nothing)`);
  const impacted = await placed(actionResult(live, req, settings), ref, writer);
  checkObjects(ctx.project, req.app.spec.destination, impacted.map((i) => ({ manifest: i.resource, namespaced: i.namespaced })));
  const created: string[] = [];
  for (const item of impacted) {
    if (item.operation === "patch") await patchObject(writer, ref, { live, changed: item.resource });
    else created.push(describe(await writer.create(item.resource)));
  }
  const also = created.length > 0 ? `; created ${created.join(", ")}` : "";
  return { ref, message: `${req.action} on ${where}${paramText(req.params)}${also}` };
}

/**
 * What the action asks for (pure): its Lua definition's result, else the built-in's changed object.
 * The Argo CD library bench (test/bench/actions-library.ts) runs this same function.
 */
export function actionResult(live: Manifest, req: Pick<ActionRequest, "action" | "params" | "now">, settings: TetherSettings): ImpactedResource[] {
  const lua = luaActionsFor(settings, live);
  const definition = lua?.definitions.find((d) => d.name === req.action);
  if (definition !== undefined) return runLuaAction(live, definition.actionLua, req.params ?? {});
  const changed = runBuiltin(req.action, live, req.params ?? {}, req.now ?? new Date());
  if (changed === undefined) {
    throw new ActionError(`${live.kind}/${live.metadata.name ?? ""}: action "${req.action}" is listed by discovery.lua but ${lua?.key ?? "tether-cm"} has no definitions entry for it; `
      + `add {name: ${req.action}, action.lua: ...} to its definitions`);
  }
  return [{ operation: "patch", resource: changed }];
}

type Placed = ImpactedResource & { readonly namespaced: boolean };

/** Each result with its scope known: a patch must be of the object itself; a namespaced create without a namespace goes to the object's. */
async function placed(items: readonly ImpactedResource[], ref: ObjectRef, writer: Cluster): Promise<Placed[]> {
  return await Promise.all(items.map(async (item): Promise<Placed> => {
    const r = item.resource;
    if (typeof r.apiVersion !== "string" || typeof r.kind !== "string" || !isRecord(r.metadata)) {
      throw new ActionError(`action.lua returned a ${item.operation} of something that is not an object (apiVersion, kind and metadata are needed)`);
    }
    if (item.operation === "patch") {
      const target = refOf(r);
      if (target.group !== ref.group || target.kind !== ref.kind || target.name !== ref.name || (target.namespace ?? "") !== (ref.namespace ?? "")) {
        throw new ActionError(`action.lua may patch only the object it runs on (${ref.kind}/${ref.name}), not ${describe(r)}; return {operation: "create"} for a new one`);
      }
      return { ...item, namespaced: ref.namespace !== undefined };
    }
    if (!r.metadata.name && !r.metadata.generateName) throw new ActionError(`action.lua created a ${r.kind} without metadata.name`);
    const namespaced = await writer.isNamespaced(r.apiVersion, r.kind);
    if (namespaced === undefined) throw new ActionError(`action.lua created a ${r.apiVersion} ${r.kind}, which the cluster does not serve; install its CRD first`);
    const resource = namespaced && !r.metadata.namespace && ref.namespace ? { ...r, metadata: { ...r.metadata, namespace: ref.namespace } } : r;
    return { operation: "create", resource, namespaced };
  }));
}

/**
 * The merge patch from the live object to the changed one. A status change goes to the status
 * subresource first; a kind without one answers 404 and the status stays in the main patch.
 */
async function patchObject(writer: Cluster, ref: ObjectRef, { live, changed }: { live: Manifest; changed: Manifest }): Promise<void> {
  if (!writer.patch) throw new TetherError("SyncError", "this cluster client cannot patch", { object: `${ref.kind}/${ref.name}` });
  const patch = mergePatch(stripVolatile(live), stripVolatile(changed)) as Record<string, unknown>;
  if (patch.status !== undefined) {
    const viaSubresource = await writer.patch(ref, { status: patch.status }, { fieldManager: ACTION_FIELD_MANAGER, subresource: "status" })
      .then(() => true, (err: unknown) => {
        if (err instanceof KubeApiError && err.code === 404) return false;
        throw err;
      });
    if (viaSubresource) delete patch.status;
  }
  if (Object.keys(patch).length > 0) await writer.patch(ref, patch, { fieldManager: ACTION_FIELD_MANAGER });
}

function describe(obj: Manifest): string {
  return `${obj.kind}/${[obj.metadata.namespace, obj.metadata.name].filter(Boolean).join("/")}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function paramText(params: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(params ?? {});
  return entries.length === 0 ? "" : ` (${entries.map(([k, v]) => `${k}=${v}`).join(", ")})`;
}

/** What a patch must not carry: the server's bookkeeping (a stale resourceVersion would be a conflict). */
function stripVolatile(obj: Manifest): Manifest {
  const copy = structuredClone(obj);
  delete copy.metadata.managedFields;
  delete copy.metadata.resourceVersion;
  return copy;
}
