// The inventory is the list of objects an Application applied, kept in its status so that prune
// needs nothing from memory and survives agent restarts (as Flux keeps it in the Kustomization).
import { splitApiVersion } from "../api/gvk.ts";
import type { ApplicationStatus, Manifest, ObjectRef, ResourceStatus } from "../api/types.ts";

/** `group/version/kind/namespace/name`; empty segments for the core group and cluster-scoped objects. */
export function refKey(ref: ObjectRef): string {
  return [ref.group, ref.version, ref.kind, ref.namespace ?? "", ref.name].join("/");
}

/** Identity without the version: the same object served under two versions is one object. */
export function identity(ref: ObjectRef): string {
  return [ref.group, ref.kind, ref.namespace ?? "", ref.name].join("/");
}

/**
 * One `status.inventory` entry: `namespace_name_group_kind_version`, Flux's spelling (empty segments
 * for the core group and cluster-scoped objects). `_` occurs in no namespace, group, kind or version,
 * so the name is what lies between the first and the last three separators, whatever it holds.
 */
export function inventoryEntry(ref: ObjectRef): string {
  return [ref.namespace ?? "", ref.name, ref.group, ref.kind, ref.version].join("_");
}

/** An inventory entry in either spelling: Flux's (above) or the first one, `group/version/kind/namespace/name`. */
export function parseInventoryEntry(entry: string): ObjectRef {
  if (entry.includes("/")) return parseRefKey(entry);
  const parts = entry.split("_");
  const namespace = parts[0] ?? "";
  const [group = "", kind = "", version = ""] = parts.slice(-3);
  const name = parts.slice(1, -3).join("_");
  return { group, version, kind, name, ...(namespace ? { namespace } : {}) };
}

export function parseRefKey(key: string): ObjectRef {
  const [group = "", version = "", kind = "", namespace = "", name = ""] = key.split("/");
  return { group, version, kind, name, ...(namespace ? { namespace } : {}) };
}

/** The object a `status.resources` entry names (Argo CD leaves the core group's empty `group` out, as Tether now does). */
export function resourceRef(r: Pick<ResourceStatus, "group" | "version" | "kind" | "namespace" | "name">): ObjectRef {
  return { group: r.group ?? "", version: r.version, kind: r.kind, name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) };
}

/** A `status.resources` entry for `ref`, spelled as Argo CD spells it: no empty `group`, no `health` when there is none. */
export function resourceEntry(ref: ObjectRef, status: ResourceStatus["status"], health?: ResourceStatus["health"]): ResourceStatus {
  const { group, ...rest } = ref;
  return { ...(group ? { group } : {}), ...rest, status, ...(health ? { health } : {}) };
}

export function refOf(obj: Manifest): ObjectRef {
  const { group, version } = splitApiVersion(obj.apiVersion);
  const namespace = obj.metadata.namespace;
  return { group, version, kind: obj.kind, name: obj.metadata.name ?? "", ...(namespace ? { namespace } : {}) };
}

export function apiVersionOf(ref: Pick<ObjectRef, "group" | "version">): string {
  return ref.group ? `${ref.group}/${ref.version}` : ref.version;
}

/** `Kind/namespace/name` (or `Kind/name`): how objects are named in messages. */
export function displayRef(ref: Pick<ObjectRef, "kind" | "namespace" | "name">): string {
  return [ref.kind, ref.namespace, ref.name].filter(Boolean).join("/");
}

/** Entries of the previous inventory that the new desired set no longer holds: what prune may delete. */
export function staleEntries(previous: readonly string[], desired: readonly ObjectRef[]): ObjectRef[] {
  const wanted = new Set(desired.map(identity));
  return previous.map(parseInventoryEntry).filter((ref) => !wanted.has(identity(ref)));
}

export interface InventoryInput {
  /** The inventory before this sync. */
  readonly previous: readonly string[];
  /** What this app applies now (objects another app tracks left out). */
  readonly desired: readonly ObjectRef[];
  /** Objects of the previous inventory Git no longer holds, still live; `owned` when they still carry this app's tracking id. */
  readonly stale: readonly { readonly ref: ObjectRef; readonly owned: boolean }[];
  /** What the sync did; empty when nothing was synced. */
  readonly changes: readonly { readonly ref: ObjectRef; readonly action: string }[];
}

/**
 * What the app owns after a sync, as Flux computes its inventory from the change set: what it
 * applies (a failed create is not owned yet, a failed update still is), plus stale objects still
 * there because they were not pruned (prune off, `Prune=false`: the app shows them OutOfSync, as
 * Argo CD does) or their prune failed. An object another app now tracks leaves the inventory.
 */
export function nextInventory(input: InventoryInput): string[] {
  const actions = new Map(input.changes.map((c) => [identity(c.ref), c.action]));
  const before = new Set(input.previous.map((k) => identity(parseInventoryEntry(k))));
  const owned = input.desired.filter((ref) => actions.get(identity(ref)) !== "failed" || before.has(identity(ref)));
  const kept = input.stale.filter((s) => s.owned && actions.get(identity(s.ref)) !== "deleted");
  return [...new Set([...owned.map(inventoryEntry), ...kept.map((s) => inventoryEntry(s.ref))])].sort();
}

/** `status.inventoryFromResources`: the inventory as the exceptions to `status.resources`. */
export type InventoryFold = NonNullable<ApplicationStatus["inventoryFromResources"]>;

/**
 * The inventory written as what sets it apart from `status.resources`: most objects are in both, so a
 * 5,000-object app does not spell each one twice. `except`: listed resources the app does not own (another
 * app's, a create that failed, an object Git added that no sync applied yet), or, when that is the shorter
 * list, `only`: the listed resources it owns (an app whose first sync has not run owns none: `only: []`);
 * `also`: owned objects the list leaves out (gone from both the cluster and Git). Lossless: inventoryOf
 * gives back the same objects.
 */
export function foldInventory(inventory: readonly string[], resources: readonly ResourceStatus[]): InventoryFold {
  const owned = new Map(inventory.map((entry) => [identity(parseInventoryEntry(entry)), entry]));
  const refs = resources.map(resourceRef);
  const listed = new Set(refs.map(identity));
  const entries = (keep: (r: ObjectRef) => boolean) => [...new Set(refs.filter(keep).map(inventoryEntry))].sort();
  const except = entries((r) => !owned.has(identity(r)));
  const also = [...owned].filter(([id]) => !listed.has(id)).map(([, entry]) => entry).sort();
  const ofListed = except.length * 2 > listed.size ? { only: entries((r) => owned.has(identity(r))) } : except.length > 0 ? { except } : {};
  return { ...ofListed, ...(also.length > 0 ? { also } : {}) };
}

/**
 * What the app owns (what prune and deletion may delete), from its status: `inventory` when a status
 * written before the fold holds it (so an upgraded agent keeps pruning what the old one recorded), else
 * `status.resources` folded as above; nothing without either (a new app, a lost status: prune then
 * finds only objects that carry the app's tracking id).
 */
export function inventoryOf(status: Pick<ApplicationStatus, "inventory" | "inventoryFromResources" | "resources"> | undefined): string[] {
  if (status?.inventory !== undefined) return [...status.inventory];
  const fold = status?.inventoryFromResources;
  if (fold === undefined) return [];
  const ids = (entries: readonly string[] | undefined) => new Set((entries ?? []).map((entry) => identity(parseInventoryEntry(entry))));
  const [only, except] = [fold.only === undefined ? undefined : ids(fold.only), ids(fold.except)];
  const owns = (r: ObjectRef) => (only === undefined ? !except.has(identity(r)) : only.has(identity(r)));
  const listed = (status?.resources ?? []).map(resourceRef).filter(owns).map(inventoryEntry);
  return [...new Set([...listed, ...fold.also ?? []])].sort();
}

/** The status with its inventory as the list written before the fold (for an Application CRD that does not know the fold). */
export function inventoryListed(status: ApplicationStatus): ApplicationStatus {
  const next: ApplicationStatus = { ...status, inventory: inventoryOf(status) };
  delete next.inventoryFromResources;
  return next;
}
