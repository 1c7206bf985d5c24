// The inventory is the list of objects an Application applied, kept in its status so that prune
// needs nothing from memory and survives agent restarts (as Flux keeps it in the Kustomization).
import { splitApiVersion } from "../api/gvk.ts";
import type { Manifest, ObjectRef } from "../api/types.ts";

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
