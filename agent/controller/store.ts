// The objects of one kind on one cluster as the live cache holds them: pure, so the rules that keep a
// deleted object from coming back are table-tested. Two layers, as client-go's informer store and
// gitops-engine's cluster cache keep them apart:
// - `watched`: written only by a list and the watch events that follow it;
// - `own`: what the agent's own writes returned (read-your-writes before the watch event arrives),
//   keyed by resourceVersion. An entry leaves the overlay as soon as the watch shows the object at
//   that version or later, or deleted after it, or a list at or after it; it never goes into `watched`.
// A DELETED event that arrives while a wave is still applying therefore wins over the apply's answer,
// and nothing the syncer does can bring a deleted object back.
import type { Manifest } from "../api/types.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

/** A change between two lists, reported as the watch would have reported it. */
export interface StoreEvent {
  readonly type: WatchEventType;
  readonly obj: Manifest;
  /** The object as it was held before a MODIFIED (what ignoreResourceUpdates compares with). */
  readonly before?: Manifest;
}

/**
 * How resourceVersion `a` compares with `b`: the API server's are etcd revisions, compared as
 * numbers; anything else (opaque by contract) is "unknown", and callers then trust the watch.
 */
export function compareVersions(a: string | undefined, b: string | undefined): -1 | 0 | 1 | "unknown" {
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return "unknown";
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

const keyOfObject = (obj: Manifest) => objectKey(obj.metadata.namespace, obj.metadata.name ?? "");
const versionOf = (obj: Manifest | undefined): string | undefined => {
  const v = obj?.metadata.resourceVersion;
  return typeof v === "string" ? v : undefined;
};

export class ObjectStore {
  private watched = new Map<string, Manifest>();
  /** Keys of the watched objects by the value of `indexLabel` (the tracking label: the app's name). */
  private readonly index = new Map<string, Set<string>>();
  private readonly own = new Map<string, Manifest>();
  /**
   * The latest version the list and watch delivered (events and bookmarks arrive in version order):
   * every change at or before it is already in `watched`, so a write at or before it needs no overlay.
   */
  private seen: string | undefined;

  /** `indexLabel`: the label whose value {@link labelled} looks up (what an app's objects carry). */
  constructor(private readonly indexLabel?: string) {}

  /** Objects the watch holds (the overlay is not counted: it is always about to be replaced). */
  get size(): number {
    return this.watched.size;
  }

  /** Entries of the overlay still waiting for their watch event (a metric, and what tests read). */
  get pending(): number {
    return this.own.size;
  }

  /** The object as the agent may read it: its own later write, else what the watch holds. */
  get(key: string): Manifest | undefined {
    const own = this.own.get(key);
    const watched = this.watched.get(key);
    if (own === undefined) return watched;
    return compareVersions(versionOf(own), versionOf(watched)) === 1 || watched === undefined ? own : watched;
  }

  /** The watched objects whose index label has `value` (an app's objects, found by tracking, not by inventory). */
  labelled(value: string): Manifest[] {
    return [...this.index.get(value) ?? []].flatMap((key) => this.watched.get(key) ?? []);
  }

  /**
   * What an apply of the agent returned. Kept only while it is newer than what the watch holds; a
   * version the server did not number as an etcd revision is not kept (the watch brings it soon).
   */
  wrote(obj: Manifest): void {
    const key = keyOfObject(obj);
    if (compareVersions(versionOf(obj), "0") === "unknown") return;
    if (this.seen !== undefined && compareVersions(versionOf(obj), this.seen) !== 1) return;
    const held = this.own.get(key);
    if (held !== undefined && compareVersions(versionOf(obj), versionOf(held)) !== 1) return;
    this.own.set(key, obj);
  }

  /** A bookmark: the watch has delivered every change up to `version`. */
  progress(version: string | undefined): void {
    if (compareVersions(version, this.seen) === 1 || this.seen === undefined) this.seen = version;
  }

  /** A watch event: the only way, with a list, that `watched` changes. Returns the object held before. */
  event(type: WatchEventType, obj: Manifest): Manifest | undefined {
    const key = keyOfObject(obj);
    this.progress(versionOf(obj));
    const before = this.watched.get(key);
    this.unindex(key, before);
    if (type === "DELETED") this.watched.delete(key);
    else {
      this.watched.set(key, obj);
      this.indexed(key, obj);
    }
    const own = this.own.get(key);
    // A write newer than the event (the agent recreated what was deleted) stays until its own event.
    if (own !== undefined && compareVersions(versionOf(own), versionOf(obj)) !== 1) this.own.delete(key);
    return before;
  }

  /**
   * A fresh list at `listVersion` replaces everything the watch held; returns what changed since
   * (a relist after a dropped watch reports what happened meanwhile as events).
   */
  replace(items: readonly Manifest[], listVersion: string | undefined): StoreEvent[] {
    const next = new Map(items.map((o) => [keyOfObject(o), o]));
    const previous = this.watched;
    this.watched = next;
    this.index.clear();
    for (const [key, obj] of next) this.indexed(key, obj);
    this.seen = listVersion;
    for (const [key, own] of this.own) {
      if (compareVersions(versionOf(own), listVersion) !== 1) this.own.delete(key);
    }
    const events: StoreEvent[] = [];
    for (const [key, obj] of next) {
      const before = previous.get(key);
      if (!before) events.push({ type: "ADDED", obj });
      else if (versionOf(before) !== versionOf(obj)) events.push({ type: "MODIFIED", obj, before });
    }
    for (const [key, obj] of previous) if (!next.has(key)) events.push({ type: "DELETED", obj });
    return events;
  }

  private labelOf(obj: Manifest | undefined): string | undefined {
    return this.indexLabel === undefined ? undefined : obj?.metadata.labels?.[this.indexLabel];
  }

  private indexed(key: string, obj: Manifest): void {
    const value = this.labelOf(obj);
    if (value === undefined) return;
    let keys = this.index.get(value);
    if (!keys) this.index.set(value, keys = new Set<string>());
    keys.add(key);
  }

  private unindex(key: string, obj: Manifest | undefined): void {
    const value = this.labelOf(obj);
    if (value === undefined) return;
    const keys = this.index.get(value);
    keys?.delete(key);
    if (keys?.size === 0) this.index.delete(value);
  }
}
