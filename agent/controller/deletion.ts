// Deletion of an Application: with the pre-delete finalizer its PreDelete hooks run first and must
// succeed; then, with the resources finalizer, it takes what it manages with it, child Applications
// first (each cascades in turn; without the finalizer everything stays); then, with the post-delete
// finalizer, its PostDelete hooks run (apply/delete-hooks.ts).
import type { TetherClient } from "../api/client.ts";
import { FINALIZER, GROUP, POST_DELETE_FINALIZER, PRE_DELETE_FINALIZER, TRACKING_ANNOTATION, type Application, type Manifest } from "../api/types.ts";
import type { Cluster } from "../apply/cluster.ts";
import { runDeleteHooks } from "../apply/delete-hooks.ts";
import type { DeleteHookType } from "../apply/hooks.ts";
import { displayRef, inventoryOf, parseInventoryEntry } from "../apply/inventory.ts";
import { trackingId, type PlannedObject } from "../apply/plan.ts";
import { optionsOf } from "../apply/options.ts";
import { pruneAll } from "../apply/sync.ts";
import { summarize } from "../apply/changeset.ts";
import { errorMessage } from "../errors.ts";

export interface DeletionDeps {
  /** The cluster the app deployed to. */
  readonly cluster: Cluster;
  /** The agent's own cluster, where child Applications live. */
  readonly local: Cluster;
  readonly client: TetherClient;
  readonly log: (line: string) => void;
  /** The app's planned objects at its target revision, rendered now (only asked for with a pre- or post-delete finalizer). */
  readonly planned?: () => Promise<readonly PlannedObject[]>;
}

/** One step of deleting `app`; true once its finalizers are removed, false to be called again later. */
export async function deleteCascade(app: Application, deps: DeletionDeps): Promise<boolean> {
  let finalizers = app.metadata?.finalizers ?? [];
  // PreDelete hooks before anything is deleted; a failed one leaves everything in place (DeletionError).
  if (finalizers.includes(PRE_DELETE_FINALIZER)) {
    if (!await deletionHooks(app, deps, "PreDelete")) return false;
    finalizers = await removeFinalizer(app, finalizers, PRE_DELETE_FINALIZER, deps);
  }
  if (finalizers.includes(FINALIZER)) {
    if (!await deleteResources(app, deps)) return false;
    finalizers = await removeFinalizer(app, finalizers, FINALIZER, deps);
  }
  if (finalizers.includes(POST_DELETE_FINALIZER)) {
    // After a cascade, the hooks start only once every deleted object is gone (not just terminating).
    const left = app.metadata?.finalizers?.includes(FINALIZER) ? await stillThere(app, deps) : [];
    if (left.length > 0) {
      deps.log(`${app.metadata?.name ?? ""}: deleting; waiting for ${left.join(", ")} to be gone before the PostDelete hooks`);
      return false;
    }
    if (!await deletionHooks(app, deps, "PostDelete")) return false;
    await removeFinalizer(app, finalizers, POST_DELETE_FINALIZER, deps);
  }
  return true;
}

async function removeFinalizer(app: Application, finalizers: readonly string[], finalizer: string, deps: DeletionDeps): Promise<string[]> {
  const left = finalizers.filter((f) => f !== finalizer);
  await deps.client.patchApplication(app.metadata?.name ?? "", [
    { op: "test", path: "/metadata/finalizers", value: finalizers },
    { op: "replace", path: "/metadata/finalizers", value: left },
  ]);
  return left;
}

async function stillThere(app: Application, deps: DeletionDeps): Promise<string[]> {
  const refs = inventoryOf(app.status).map(parseInventoryEntry).filter((r) => !(r.group === GROUP && r.kind === "Application"));
  const appRef = { name: app.metadata?.name ?? "", namespace: app.metadata?.namespace ?? "" };
  const left: string[] = [];
  for (const ref of refs) {
    const live = await deps.cluster.get(ref);
    if (live && live.metadata.annotations?.[TRACKING_ANNOTATION] === trackingId(appRef, ref)) left.push(displayRef(ref));
  }
  return left;
}

/**
 * The PreDelete hooks (before anything is deleted) or the PostDelete hooks (once the app's resources
 * are gone): true when all succeeded. A failure shows as a `DeletionError` condition (Argo CD's) and
 * the deletion waits.
 */
async function deletionHooks(app: Application, deps: DeletionDeps, type: DeleteHookType): Promise<boolean> {
  const name = app.metadata?.name ?? "";
  if (!deps.planned) throw new Error(`${name}: cannot run ${type} hooks here`);
  let outcome;
  try {
    outcome = await runDeleteHooks({
      cluster: deps.cluster, hooks: await deps.planned(), revision: app.status?.sync?.revision ?? "",
      deletionTimestamp: String(app.metadata?.deletionTimestamp ?? ""),
    }, type);
  } catch (err) {
    const finalizer = type === "PreDelete" ? PRE_DELETE_FINALIZER : POST_DELETE_FINALIZER;
    outcome = { state: "failed" as const, message: `${type} hooks: ${errorMessage(err)}; remove the finalizer ${finalizer} to delete the app without them` };
  }
  deps.log(`${name}: deleting; ${outcome.message}`);
  const others = (app.status?.conditions ?? []).filter((c) => c.type !== "DeletionError");
  if (outcome.state === "failed") {
    await deps.client.writeStatus(name, { ...app.status, conditions: [...others, { type: "DeletionError", message: outcome.message, lastTransitionTime: new Date().toISOString() }] });
  } else if (others.length !== (app.status?.conditions ?? []).length) {
    await deps.client.writeStatus(name, { ...app.status, conditions: others });
  }
  return outcome.state === "done";
}

/**
 * What a parent's cascade does to a child Application, as prune decides for any object: deleted only
 * when it still carries the parent's tracking id and does not say `Delete=false` (either annotation
 * spelling, or the parent's syncOptions) or `helm.sh/resource-policy: keep`.
 */
export function childDeletion(live: Manifest | undefined, trackingIdOfParent: string, appOptions: readonly string[])
  : "delete" | "gone" | "Delete=false" | "tracked by another owner" {
  if (!live) return "gone";
  if (live.metadata.annotations?.[TRACKING_ANNOTATION] !== trackingIdOfParent) return "tracked by another owner";
  return optionsOf(live, appOptions).delete ? "delete" : "Delete=false";
}

/** The app's resources deleted (children first, then the rest in reverse wave order): true once they are gone. */
async function deleteResources(app: Application, deps: DeletionDeps): Promise<boolean> {
  const name = app.metadata?.name ?? "";
  const refs = inventoryOf(app.status).map(parseInventoryEntry);
  const isChild = (r: { group: string; kind: string }) => r.group === GROUP && r.kind === "Application";
  const appRef = { name, namespace: app.metadata?.namespace ?? "" };
  const waiting: string[] = [];
  for (const child of refs.filter(isChild)) {
    const live = await deps.local.get(child);
    const decision = childDeletion(live, trackingId(appRef, child), app.spec.syncPolicy?.syncOptions ?? []);
    if (decision !== "delete") {
      if (decision !== "gone") deps.log(`${name}: deleting; child application ${displayRef(child)} kept (${decision})`);
      continue;
    }
    if (!live!.metadata.deletionTimestamp) await deps.local.delete(child);
    waiting.push(displayRef(child));
  }
  if (waiting.length > 0) {
    deps.log(`${name}: deleting; waiting for child applications ${waiting.join(", ")}`);
    return false;
  }
  const { changes, waiting: terminating } = await pruneAll(refs.filter((r) => !isChild(r)).map((ref) => ({ ref })), {
    cluster: deps.cluster, trackingIdOf: (ref) => trackingId(appRef, ref), appSyncOptions: app.spec.syncPolicy?.syncOptions ?? [],
  });
  if (terminating) {
    deps.log(`${name}: deleting; waiting for ${terminating}`);
    return false;
  }
  if (changes.some((c) => c.action === "failed")) {
    deps.log(`${name}: cascade deletion incomplete: ${summarize(changes)}`);
    return false;
  }
  deps.log(`${name}: deleted with its resources: ${summarize(changes)}`);
  return true;
}
