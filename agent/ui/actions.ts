// The UI's buttons as JSON patches on the Application: pure, so what each button writes is tested
// without a cluster. The agent acts on them as it does on `tether app sync/refresh/rollback/delete`.
import { FINALIZER, REFRESH_ANNOTATION, ROLLBACK_ANNOTATION, type Application } from "../api/types.ts";
import { escapeToken } from "../diff/json.ts";
import { parseRefKey } from "../apply/inventory.ts";

export type JsonPatch = { op: "add" | "remove" | "replace" | "test"; path: string; value?: unknown }[];

/** A request that cannot be carried out as asked; answered 400 with the message. */
export class BadRequest extends Error {}

export interface SyncRequest {
  readonly prune?: boolean;
  readonly dryRun?: boolean;
  /** Inventory keys (`group/version/kind/namespace/name`) to sync; all when absent or empty. */
  readonly resources?: readonly string[];
}

/** Adds or sets the refresh annotation, whether or not the object has annotations yet. */
function refreshOps(app: Application, now: Date): JsonPatch {
  if (app.metadata?.annotations === undefined) return [{ op: "add", path: "/metadata/annotations", value: { [REFRESH_ANNOTATION]: now.toISOString() } }];
  return [{ op: "add", path: `/metadata/annotations/${escapeToken(REFRESH_ANNOTATION)}`, value: now.toISOString() }];
}

export function refreshPatch(app: Application, now: Date): JsonPatch {
  return refreshOps(app, now);
}

/** `operation.sync` as Argo CD writes it, with `resources` as `{group, kind, namespace, name}` for a partial sync. */
export function syncPatch(app: Application, req: SyncRequest, user: string, now: Date): JsonPatch {
  const resources = (req.resources ?? []).map((key) => {
    const ref = parseRefKey(key);
    if (!ref.kind || !ref.name) throw new BadRequest(`resource "${key}" is not group/version/kind/namespace/name`);
    return { group: ref.group, kind: ref.kind, name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) };
  });
  const sync = { prune: req.prune === true, dryRun: req.dryRun === true, ...(resources.length ? { resources } : {}) };
  return [{ op: "add", path: "/operation", value: { sync, initiatedBy: { username: user } } }, ...refreshOps(app, now)];
}

/**
 * A sync to the revision of history entry `id`, with automated sync turned off first (as Argo CD
 * requires), so the next poll does not move the application straight back to the branch head.
 */
export function rollbackPatch(app: Application, id: number, user: string, now: Date): JsonPatch {
  const entry = (app.status?.history ?? []).find((h) => h.id === id);
  if (!entry) throw new BadRequest(`history entry ${id} of ${app.metadata?.name} does not exist; pick one from the history list`);
  const automated: JsonPatch = app.spec.syncPolicy?.automated === undefined ? [] : [{ op: "remove", path: "/spec/syncPolicy/automated" }];
  const note = JSON.stringify({ id, revision: entry.revision, ...(app.spec.syncPolicy?.automated ? { automated: app.spec.syncPolicy.automated } : {}) });
  return [
    ...automated,
    // Several sources: every source back to the revision this entry recorded for it, as Argo CD's rollback.
    { op: "add", path: "/operation", value: { sync: { revision: entry.revision, ...(entry.revisions ? { revisions: entry.revisions } : {}), prune: false }, initiatedBy: { username: user } } },
    ...refreshOps(app, now),
    { op: "add", path: `/metadata/annotations/${escapeToken(ROLLBACK_ANNOTATION)}`, value: note },
  ];
}

/**
 * Before a delete: the finalizer present for a cascading delete (the agent deletes what the app
 * applied, then lets the Application go), absent for a delete that leaves those objects running.
 */
export function finalizerPatch(app: Application, cascade: boolean): JsonPatch {
  const finalizers = app.metadata?.finalizers ?? [];
  const at = finalizers.indexOf(FINALIZER);
  if (cascade && at < 0) {
    return app.metadata?.finalizers === undefined
      ? [{ op: "add", path: "/metadata/finalizers", value: [FINALIZER] }]
      : [{ op: "add", path: "/metadata/finalizers/-", value: FINALIZER }];
  }
  if (!cascade && at >= 0) return [{ op: "test", path: `/metadata/finalizers/${at}`, value: FINALIZER }, { op: "remove", path: `/metadata/finalizers/${at}` }];
  return [];
}
