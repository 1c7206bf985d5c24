// Applies the planned objects of one task batch by batch with bounded parallelism inside a batch, and
// prunes stale objects in reverse wave order; the order of tasks is the task engine's (tasks.ts).
// Returns a change set; never throws for one object's failure, so one bad object does not hide what
// happened to the others.
import { setTimeout as sleep } from "node:timers/promises";
import { TRACKING_ANNOTATION, type Manifest, type ObjectRef } from "../api/types.ts";
import { errorMessage } from "../errors.ts";
import { mapLimit, type Change } from "./changeset.ts";
import { ObjectExists, type Cluster } from "./cluster.ts";
import { displayRef } from "./inventory.ts";
import { appOptionsOf, optionsOf } from "./options.ts";
import { trackedElsewhere } from "./ownership.ts";
import { batches, waveOf, type PlannedObject } from "./plan.ts";

export interface ApplyOptions {
  readonly cluster: Cluster;
  /** Requests in flight at once within one batch. */
  readonly concurrency?: number;
  /** Objects already found equal to Git: reported unchanged without a request. */
  readonly unchanged?: ReadonlySet<PlannedObject>;
  /** The live objects read before the sync, to tell `created` from `configured`. */
  readonly before?: ReadonlyMap<PlannedObject, Manifest | undefined>;
}

export interface ApplyResult {
  readonly changes: Change[];
  /** Live objects as the server returned them after apply, keyed by planned object. */
  readonly live: Map<PlannedObject, Manifest>;
  /**
   * Objects read as missing that turned out to exist, tracked by another Application: left as they
   * are, with no change (as when the read had found them), for the status to name (SharedResource).
   */
  readonly shared?: Map<PlannedObject, SharedObject>;
}

export interface SharedObject {
  readonly live: Manifest;
  /** The Application that tracks it, `namespace/name`. */
  readonly owner: string;
}

/**
 * Applies the objects of one task (a wave, or the CRDs and Namespaces) in order; when to go on to the
 * next wave is the task engine's decision (tasks.ts). A failed batch stops the later ones.
 */
export async function applyAll(objects: readonly PlannedObject[], opts: ApplyOptions): Promise<ApplyResult> {
  const changes: Change[] = [];
  const live = new Map<PlannedObject, Manifest>();
  const shared = new Map<PlannedObject, SharedObject>();
  let failed = false;
  for (const batch of batches(objects)) {
    if (failed) {
      changes.push(...batch.map((o) => ({ ref: o.ref, action: "skipped" as const, message: "an earlier wave failed" })));
      continue;
    }
    const results = await mapLimit(batch, opts.concurrency ?? 8, (o) => applyOne(o, opts));
    for (const [i, r] of results.entries()) {
      if (r.change) changes.push(r.change);
      if (r.live) live.set(batch[i]!, r.live);
      if (r.shared) shared.set(batch[i]!, r.shared);
    }
    failed = results.some((r) => r.change?.action === "failed");
    if (!failed && batch.some((o) => o.ref.kind === "CustomResourceDefinition")) {
      await waitEstablished(batch.filter((o) => o.ref.kind === "CustomResourceDefinition"), opts.cluster);
    }
  }
  return { changes, live, ...(shared.size > 0 ? { shared } : {}) };
}

interface Applied {
  /** Absent for an object left to the Application that tracks it. */
  readonly change?: Change;
  readonly live?: Manifest;
  readonly shared?: SharedObject;
}

async function applyOne(obj: PlannedObject, opts: ApplyOptions): Promise<Applied> {
  if (opts.unchanged?.has(obj)) return { change: { ref: obj.ref, action: "unchanged" } };
  const before = opts.before?.get(obj);
  const { method, validate, force } = obj.options;
  // Read as missing (maybe without a request: the live cache holds only labelled objects), so it may only be created.
  const createOnly = before === undefined && method === "server-side" && !force;
  try {
    const live = await opts.cluster.apply(obj.manifest, { method, validate, force, ...(before ? { live: before } : {}), ...(createOnly ? { createOnly } : {}) });
    return { change: { ref: obj.ref, action: before ? "configured" : "created" }, live };
  } catch (err) {
    if (err instanceof ObjectExists) return await applyExisting(obj, opts);
    return { change: { ref: obj.ref, action: "failed", message: errorMessage(err) } };
  }
}

/**
 * An object read as missing exists (without Tether's label): read it, then, as if the read had found
 * it, leave it to the Application that tracks it, or apply over it (another tool's: adopted, configured).
 */
async function applyExisting(obj: PlannedObject, opts: ApplyOptions): Promise<Applied> {
  try {
    const current = await opts.cluster.get(obj.ref);
    const owner = trackedElsewhere(obj.manifest, current);
    if (current && owner !== undefined) return { shared: { live: current, owner } };
    const { method, validate } = obj.options;
    const live = await opts.cluster.apply(obj.manifest, { method, validate, ...(current ? { live: current } : {}) });
    return { change: { ref: obj.ref, action: current ? "configured" : "created" }, live };
  } catch (err) {
    return { change: { ref: obj.ref, action: "failed", message: errorMessage(err) } };
  }
}

/**
 * Custom resources of a CRD applied in the same sync need the CRD served first: Established, and
 * its kind found by discovery (which the cluster edge refreshes when a kind is missing).
 */
async function waitEstablished(crds: readonly PlannedObject[], cluster: Cluster, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    const served = servedKinds(crd.manifest);
    while (Date.now() < deadline) {
      const live = await cluster.get(crd.ref);
      const conditions = (live?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
      const established = conditions.some((c) => c.type === "Established" && c.status === "True");
      if (established && (await Promise.all(served.map((s) => cluster.isNamespaced(s.apiVersion, s.kind)))).every((n) => n !== undefined)) break;
      await sleep(200);
    }
  }
}

/** The apiVersion/kind pairs a CRD serves. */
function servedKinds(crd: Manifest): { apiVersion: string; kind: string }[] {
  const spec = crd.spec as { group?: string; names?: { kind?: string }; versions?: { name: string; served?: boolean }[] } | undefined;
  if (!spec?.group || !spec.names?.kind) return [];
  return (spec.versions ?? []).filter((v) => v.served !== false).map((v) => ({ apiVersion: `${spec.group}/${v.name}`, kind: spec.names!.kind! }));
}

export interface PruneOptions {
  readonly cluster: Cluster;
  /** The tracking id an object must carry to be ours; anything else is left alone. */
  readonly trackingIdOf: (ref: ObjectRef) => string;
  readonly concurrency?: number;
  /** How long to wait for one wave's objects to be gone before the next; past it, the next reconcile goes on. */
  readonly waitMs?: number;
  /** `spec.syncPolicy.syncOptions`: `Prune=false` and `Delete=false` there hold for every object. */
  readonly appSyncOptions?: readonly string[];
}

export interface StaleObject {
  readonly ref: ObjectRef;
  /** `PruneLast=true` on the object or the Application: deleted after every other stale object. */
  readonly pruneLast?: boolean;
  /** The sync wave it was applied in (from its live annotations when not given). */
  readonly wave?: number;
}

export interface PruneResult {
  readonly changes: Change[];
  /** Set when objects of one group were still terminating: the later groups wait for the next reconcile. */
  readonly waiting?: string;
}

/**
 * Deletes stale objects that still carry this app's tracking id in Argo CD's reverse wave order:
 * the highest wave first, and the next group only once the objects of the one before are gone.
 * Within a wave, Namespaces and CRDs go after the rest (deleting them first would take their
 * contents with them); what asked to be pruned last goes after everything.
 */
export async function pruneAll(stale: readonly StaleObject[], opts: PruneOptions): Promise<PruneResult> {
  const changes: Change[] = [];
  const live = await mapLimit(stale, opts.concurrency ?? 8, async (s) => ({ ...s, wave: s.wave ?? waveOfLive(await opts.cluster.get(s.ref)) }));
  const groups = pruneOrder(live);
  for (const [index, group] of groups.entries()) {
    const done = await mapLimit(group, opts.concurrency ?? 8, (s) => pruneOne(s.ref, opts));
    changes.push(...done);
    if (index === groups.length - 1 || done.some((c) => c.action === "failed")) break;
    const deleted = done.filter((c) => c.action === "deleted" && c.message === undefined).map((c) => c.ref);
    const left = await untilGone(deleted, opts);
    if (left.length > 0) return { changes, waiting: `deletion of ${left.map(displayRef).join(", ")} before pruning wave ${groups[index + 1]![0]!.wave ?? 0}` };
  }
  return { changes };
}

/** The groups prune deletes one after another. */
export function pruneOrder(stale: readonly StaleObject[]): StaleObject[][] {
  const container = (r: ObjectRef) => r.kind === "Namespace" || r.kind === "CustomResourceDefinition";
  const rank = (s: StaleObject) => `${s.pruneLast ? 1 : 0}:${container(s.ref) ? 1 : 0}`;
  const sorted = [...stale].sort((a, b) => Number(a.pruneLast ?? false) - Number(b.pruneLast ?? false)
    || (b.wave ?? 0) - (a.wave ?? 0) || Number(container(a.ref)) - Number(container(b.ref)));
  const groups: StaleObject[][] = [];
  let key: string | undefined;
  for (const s of sorted) {
    const k = `${rank(s)}:${s.pruneLast ? 0 : s.wave ?? 0}`;
    if (k !== key) groups.push([]);
    key = k;
    groups[groups.length - 1]!.push(s);
  }
  return groups;
}

export function waveOfLive(live: Manifest | undefined): number {
  if (!live) return 0;
  try {
    return waveOf(live);
  } catch {
    return 0;
  }
}

/** Waits (bounded) until deleted objects are gone; returns those still there. */
async function untilGone(refs: readonly ObjectRef[], opts: PruneOptions): Promise<ObjectRef[]> {
  const deadline = Date.now() + (opts.waitMs ?? 60_000);
  let left = [...refs];
  while (left.length > 0) {
    const present = await mapLimit(left, opts.concurrency ?? 8, async (ref) => (await opts.cluster.get(ref)) !== undefined);
    left = left.filter((_, i) => present[i]);
    if (left.length === 0 || Date.now() > deadline) break;
    await sleep(250);
  }
  return left;
}

async function pruneOne(ref: ObjectRef, opts: PruneOptions): Promise<Change> {
  try {
    const live = await opts.cluster.get(ref);
    if (!live) return { ref, action: "deleted", message: "already gone" };
    if (live.metadata.annotations?.[TRACKING_ANNOTATION] !== opts.trackingIdOf(ref)) {
      return { ref, action: "skipped", message: `${displayRef(ref)} is no longer tracked by this application; left in place` };
    }
    const options = optionsOf(live, opts.appSyncOptions);
    // Prune=false holds for cascade deletion too: such an object outlives its application.
    if (!options.prune) return { ref, action: "skipped", message: "Prune=false; left in place" };
    if (!options.delete) return { ref, action: "skipped", message: "Delete=false; left in place" };
    // The uid read above: an object replaced since (deleted and created again by someone else) is not deleted.
    await opts.cluster.delete(ref, { propagation: appOptionsOf(opts.appSyncOptions).propagation, ...(live.metadata.uid ? { uid: live.metadata.uid } : {}) });
    return { ref, action: "deleted" };
  } catch (err) {
    if ((err as { code?: unknown }).code === 409) return { ref, action: "skipped", message: `${displayRef(ref)} was replaced by another object since it was read; left in place` };
    return { ref, action: "failed", message: errorMessage(err) };
  }
}
