// Running a resource action for an Application: the object must be one of the app's, the action one
// its kind has, the changed object one the app's project permits, and the patch is sent as the
// identity the pipeline says the app writes with (the project's ServiceAccount when it impersonates).
// The caller (the UI API, `tether app actions run`) records the Event and the log line.
import type { Application, Manifest, ObjectRef } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { appContext, type PipelineDeps } from "../controller/pipeline.ts";
import { checkObjects } from "../policy/project.ts";
import { ActionError, builtinActions, mergePatch, runBuiltin, type ResourceAction } from "./builtin.ts";

/** The field manager of what actions write: not `tether`, so a sync does not count it as Git's. */
export const ACTION_FIELD_MANAGER = "tether-action";

/** Which object of the app: kind and name, the group and namespace when the name alone is ambiguous. */
export interface ActionTarget {
  readonly kind: string;
  readonly name: string;
  readonly group?: string;
  readonly namespace?: string;
}

export type ActionDeps = Pick<PipelineDeps, "project" | "destinations" | "allowLocalRepos" | "diffSettings">;

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

/** The actions the live object has (built-in ones), for `actions list` and the UI's menu. */
export function actionsOf(live: Manifest): ResourceAction[] {
  return builtinActions(live);
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

/** Runs `action` on the app's object: the changed object is checked against the project, then patched as the app's writer. */
export async function runAction(req: ActionRequest, deps: ActionDeps): Promise<ActionOutcome> {
  const { ref, ctx, writer, live } = await actionTarget(req.app, req.target, deps);
  const available = actionsOf(live).find((a) => a.name === req.action);
  const where = `${ref.group ? `${ref.group}/` : ""}${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}`;
  if (available === undefined) {
    const names = actionsOf(live).map((a) => a.name);
    throw new ActionError(`${where} has no action "${req.action}"; its actions: ${names.join(", ") || "none"}`);
  }
  if (available.disabled) throw new ActionError(`action "${req.action}" is disabled on ${where} (it would change nothing)`);
  const changed = runBuiltin(req.action, live, req.params ?? {}, req.now ?? new Date());
  if (changed === undefined) throw new Error(`internal: action ${req.action} listed but not runnable`);
  checkObjects(ctx.project, req.app.spec.destination, [{ manifest: changed, namespaced: ref.namespace !== undefined }]);
  if (!writer.patch) throw new TetherError("SyncError", "this cluster client cannot patch", { object: where });
  await writer.patch(ref, mergePatch(stripVolatile(live), stripVolatile(changed)), { fieldManager: ACTION_FIELD_MANAGER });
  return { ref, message: `${req.action} on ${where}${paramText(req.params)}` };
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
  delete (copy as { status?: unknown }).status;
  return copy;
}
