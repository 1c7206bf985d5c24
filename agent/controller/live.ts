// The watch-fed live cache: one list + watch per managed kind per destination cluster, started the
// first time a reconcile reads that kind and shared by every app. It feeds the read-live stage (a
// reconcile of unchanged objects sends no request) and the drift watches (selfHeal), so each kind is
// watched once.
//
// What it holds: the objects that carry the tracking label (what Tether applied), whole. Compare reads
// managedFields (Tether's entry tells a field dropped from Git; `ignoreDifferences.managedFieldsManagers`
// reads other managers' entries), so they are kept; memory grows with the managed objects, never with
// the rest of the cluster. An object not in the cache (one Tether would adopt, one that does not exist
// yet, or a kind whose list the agent may not read, such as a namespaced install) is read with a GET.
import { setTimeout as sleep } from "node:timers/promises";
import { Watch } from "@kubernetes/client-node";
import { apiBase } from "../api/gvk.ts";
import { TRACKING_LABEL, type Manifest, type ObjectRef } from "../api/types.ts";
import type { Destination } from "../apply/destinations.ts";
import { KubeApiError, KubeHttp } from "../apply/http.ts";
import { apiVersionOf } from "../apply/inventory.ts";
import { mapLimit } from "../apply/changeset.ts";
import { errorMessage } from "../errors.ts";
import { objectKey, ObjectStore } from "./store.ts";

export type LiveEventType = "ADDED" | "MODIFIED" | "DELETED";

/** A change seen on a watched kind: what the drift watches turn into reconciles. */
export type LiveListener = (type: LiveEventType, obj: Manifest, before?: Manifest) => void;

/** How the read-live stage reads one destination cluster. */
export interface LiveReader {
  /**
   * The live objects, in the order of `refs`: from the cache once their kind has listed; what it does
   * not hold with a GET each, or one list of the namespace when several of one kind are missing there
   * (a first sync into a new namespace costs one request per kind, not one per object).
   */
  read(refs: readonly ObjectRef[], concurrency: number, opts?: ReadOptions): Promise<(Manifest | undefined)[]>;
  /**
   * What an apply returned, so the next read sees the agent's own write before its watch event
   * arrives: an overlay the watch replaces (a later version, or a DELETED), never written into what
   * the watch holds, so an object deleted during the wave is read as missing (store.ts).
   */
  applied(obj: Manifest): void;
  /**
   * An object the cache does not hold exists (an apply that could only create it was refused: another
   * Application's object without the label): later reads GET it instead of reading it as missing.
   */
  found(ref: ObjectRef): void;
  /**
   * The objects labelled for `app` in every kind watched on this cluster: an app's objects found by
   * tracking rather than by its inventory alone (an orphan of a lost status write is pruned too).
   */
  tracked(app: string): Manifest[];
}

export interface ReadOptions {
  /**
   * Refs (by index) the caller will server-side apply if they are not in the cache: not held there
   * (not created yet, or without Tether's label), they are read as missing without a request. The
   * apply may then only create them (`createOnly`): one that exists is refused, read, and left to the
   * Application that tracks it or applied over (`found` makes later reads GET it). Only once the kind listed.
   */
  readonly appliedIfMissing?: (i: number) => boolean;
}

/** Objects of one kind missing from the cache in one namespace from which one list replaces a GET each. */
const LIST_MISSES_FROM = 4;
/** The most objects such a list reads; a fuller namespace falls back to a GET per missing object. */
const LIST_LIMIT = 500;

interface Miss {
  readonly ref: ObjectRef;
  readonly i: number;
  readonly informer: KindInformer;
}

export interface LiveCacheOptions {
  readonly log: (line: string) => void;
  /** How often each kind is listed again although its watch runs: bounds what a missed event leaves wrong. */
  readonly relistMs?: number;
}

/** Default of {@link LiveCacheOptions.relistMs}, as gitops-engine's cluster cache resyncs. */
export const DEFAULT_RELIST_MS = 10 * 60_000;

/** How the read-live stage's objects were read: the no-op guarantee ("no request") is read from these. */
export interface LiveReads {
  cache: number;
  get: number;
  list: number;
  /** Objects not in the cache read as missing without a request: the apply that follows answers (ReadOptions). */
  skipped: number;
}

export class LiveCache {
  /** Objects read from the cache, objects read with a GET, lists of a namespace that replaced GETs. */
  readonly reads: LiveReads = { cache: 0, get: 0, list: 0, skipped: 0 };
  private readonly kinds = new Map<string, KindInformer>();
  private readonly listeners = new Set<LiveListener>();
  private stopped = false;

  constructor(private readonly opts: LiveCacheOptions) {}

  reader(destination: Destination): LiveReader {
    return {
      read: async (refs, concurrency, opts) => {
        const informers = refs.map((ref) => this.informer(destination, apiVersionOf(ref), ref.kind));
        await Promise.all([...new Set(informers)].map((i) => i.listed()));
        const found = refs.map((ref, i) => informers[i]!.cached(ref));
        this.reads.cache += found.filter((f) => f !== undefined).length;
        const groups = new Map<string, Miss[]>();
        for (const [i, ref] of refs.entries()) {
          if (found[i]) continue;
          if (informers[i]!.trusted && opts?.appliedIfMissing?.(i) === true && !informers[i]!.outside(ref)) {
            this.reads.skipped++;
            continue;
          }
          const key = `${ref.group}/${ref.kind}/${ref.namespace ?? ""}`;
          groups.set(key, [...groups.get(key) ?? [], { ref, i, informer: informers[i]! }]);
        }
        await mapLimit([...groups.values()], concurrency, async (group) => {
          const listed = group.length >= LIST_MISSES_FROM ? await group[0]!.informer.listUnlabelled(group[0]!.ref.namespace) : undefined;
          if (listed) this.reads.list++;
          await mapLimit(group, concurrency, async (m) => {
            const inList = listed?.items.get(m.ref.name);
            // A complete list proves absence; otherwise what it did not hold is read on its own.
            if (inList || listed?.complete) {
              found[m.i] = inList;
              if (!inList) m.informer.gone(m.ref);
              return;
            }
            this.reads.get++;
            found[m.i] = await destination.cluster.get(m.ref);
            if (found[m.i] === undefined) m.informer.gone(m.ref);
          });
        });
        return found;
      },
      applied: (obj) => {
        if (obj.metadata.labels?.[TRACKING_LABEL] === undefined) return;
        this.informer(destination, obj.apiVersion, obj.kind).wrote(obj);
      },
      found: (ref) => this.informer(destination, apiVersionOf(ref), ref.kind).found(ref),
      tracked: (app) => [...this.kinds.values()].filter((k) => k.destination.server === destination.server).flatMap((k) => k.labelled(app)),
    };
  }

  /** Makes sure `kind` is watched on `destination` (the drift watches ask for every kind of an inventory). */
  watch(destination: Destination, apiVersion: string, kind: string): void {
    this.informer(destination, apiVersion, kind);
  }

  subscribe(listener: LiveListener): void {
    this.listeners.add(listener);
  }

  /** Objects held, over every kind and cluster (a metric, and what the memory figure depends on). */
  get size(): number {
    let n = 0;
    for (const k of this.kinds.values()) n += k.size;
    return n;
  }

  stop(): void {
    this.stopped = true;
    for (const k of this.kinds.values()) k.stop();
  }

  /**
   * Stops and drops every watch on `server`: its client was rebuilt (a rotated credential), and the
   * next read or drift watch starts them again on the new one, instead of relisting with the old.
   */
  forget(server: string): void {
    for (const [id, k] of this.kinds) {
      if (k.destination.server !== server) continue;
      k.stop();
      this.kinds.delete(id);
    }
  }

  private informer(destination: Destination, apiVersion: string, kind: string): KindInformer {
    const id = `${destination.server}|${apiVersion}/${kind}`;
    let informer = this.kinds.get(id);
    if (!informer) {
      informer = new KindInformer({
        destination, apiVersion, kind, emit: (t, o, b) => this.emit(t, o, b), log: this.opts.log, relistMs: this.opts.relistMs ?? DEFAULT_RELIST_MS,
      });
      this.kinds.set(id, informer);
      if (this.stopped) informer.stop();
      else informer.start();
    }
    return informer;
  }

  private emit(type: LiveEventType, obj: Manifest, before?: Manifest): void {
    for (const l of this.listeners) l(type, obj, before);
  }
}

interface KindOptions {
  readonly destination: Destination;
  readonly apiVersion: string;
  readonly kind: string;
  readonly emit: LiveListener;
  readonly log: (line: string) => void;
  readonly relistMs: number;
}

/** How a watch ended: closed by the server (resume from `version`) or too old to resume (list again). */
type WatchEnd = { readonly kind: "closed"; readonly version: string } | { readonly kind: "gone" };

/** The objects of one kind on one cluster that carry the tracking label: list, then watch from there. */
class KindInformer {
  private readonly store = new ObjectStore(TRACKING_LABEL);
  /** Keys of objects found live without the label (LiveReader.found), until a read finds them gone. */
  private readonly unlabelled = new Set<string>();
  private readonly http: KubeHttp;
  private watch: AbortController | undefined;
  private stopped = false;
  /** Resolves once the first list answered (true) or failed (false): reads wait for one list, not a GET each. */
  private first: Promise<boolean>;
  private settleFirst: (ok: boolean) => void = () => undefined;
  private synced = false;

  constructor(private readonly opts: KindOptions) {
    this.http = new KubeHttp(opts.destination.kc);
    this.first = new Promise((resolve) => { this.settleFirst = resolve; });
  }

  get size(): number {
    return this.store.size;
  }

  get destination(): Destination {
    return this.opts.destination;
  }

  /** The objects labelled for `app`, once the kind listed (nothing before: absence is not known yet). */
  labelled(app: string): Manifest[] {
    return this.synced ? this.store.labelled(app) : [];
  }

  /** Whether reads may trust the cache: the kind listed at least once and its watch has not failed since. */
  async listed(): Promise<boolean> {
    return this.synced || await this.first;
  }

  /** Whether the cache may be trusted now: listed, and its watch has not failed since. */
  get trusted(): boolean {
    return this.synced;
  }

  /** The object when the cache may be trusted and holds it. */
  cached(ref: ObjectRef): Manifest | undefined {
    return this.synced ? this.store.get(keyOf(ref.namespace, ref.name)) : undefined;
  }

  /** Whether the object was found live without the label: absence from the cache does not mean missing. */
  outside(ref: ObjectRef): boolean {
    return this.unlabelled.size > 0 && this.unlabelled.has(keyOf(ref.namespace, ref.name));
  }

  found(ref: ObjectRef): void {
    this.unlabelled.add(keyOf(ref.namespace, ref.name));
  }

  gone(ref: ObjectRef): void {
    this.unlabelled.delete(keyOf(ref.namespace, ref.name));
  }

  /**
   * Every object of the kind in `namespace` (the whole cluster for a cluster-scoped kind), labelled or
   * not, up to {@link LIST_LIMIT}; `complete` says whether that was all of them.
   */
  async listUnlabelled(namespace: string | undefined): Promise<{ items: Map<string, Manifest>; complete: boolean } | undefined> {
    try {
      const path = await this.path();
      const scoped = namespace === undefined ? path : path.replace(/\/([^/]+)$/, `/namespaces/${encodeURIComponent(namespace)}/$1`);
      const res = await this.http.request("GET", `${scoped}?limit=${LIST_LIMIT}`);
      if (res.status >= 400) return undefined;
      const list = res.body as { metadata?: { continue?: string }; items?: Manifest[] };
      const items = new Map((list.items ?? []).map((o) => [o.metadata.name ?? "", { ...o, apiVersion: this.opts.apiVersion, kind: this.opts.kind }]));
      return { items, complete: !list.metadata?.continue };
    } catch {
      return undefined;
    }
  }

  /** What the agent's own write returned: an overlay entry until the watch shows that version or later. */
  wrote(obj: Manifest): void {
    this.store.wrote(obj);
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.abort();
    this.settleFirst(false);
  }

  /**
   * List, then watch from the list's version; a watch the server closes resumes from the last version
   * it delivered (bookmarks included), one whose version is too old (410 Gone) lists again, quietly.
   * A list every `relistMs` bounds what a missed event could leave wrong. Errors back off.
   */
  private async run(): Promise<void> {
    let failures = 0;
    let version: string | undefined;
    let listedAt = 0;
    while (!this.stopped) {
      try {
        const path = await this.path();
        if (version === undefined || Date.now() - listedAt >= this.opts.relistMs) {
          version = await this.list(path);
          listedAt = Date.now();
        }
        const started = Date.now();
        const end = await this.watchFrom(path, version);
        failures = 0;
        version = end.kind === "closed" ? end.version : undefined;
        // A server that closes every watch at once is not asked again in a tight loop.
        if (!this.stopped && Date.now() - started < 1000) await sleep(1000);
        continue;
      } catch (err) {
        this.synced = false;
        this.settleFirst(false);
        version = undefined;
        failures++;
        if (failures === 1) {
          this.opts.log(`live cache: cannot list ${this.opts.kind} (${this.opts.apiVersion}) in ${this.opts.destination.name}: ${errorMessage(err)}; `
            + "reading those objects one by one until it can");
        }
      }
      if (!this.stopped) await sleep(Math.min(1000 * 2 ** Math.max(0, failures - 1), 60_000));
    }
  }

  private async path(): Promise<string> {
    const plural = await this.opts.destination.cluster.plural(this.opts.apiVersion, this.opts.kind);
    if (!plural) throw new Error("the server does not serve this kind (yet)");
    return `${apiBase(this.opts.apiVersion)}/${plural}`;
  }

  /** Replaces the cache with a fresh list; returns the list's resourceVersion to watch from. */
  private async list(path: string): Promise<string> {
    const query = `?labelSelector=${encodeURIComponent(TRACKING_LABEL)}`;
    const res = await this.http.request("GET", `${path}${query}`);
    if (res.status >= 400) throw new KubeApiError(res.status, res.body, "GET", path);
    const list = res.body as { metadata?: { resourceVersion?: string }; items?: Manifest[] };
    const { apiVersion, kind } = this.opts;
    // A list's items carry neither apiVersion nor kind.
    const items = (list.items ?? []).map((item) => ({ ...item, apiVersion, kind }));
    const wasSynced = this.synced || this.store.size > 0;
    const events = this.store.replace(items, list.metadata?.resourceVersion);
    // What changed while no watch ran (a relist after a dropped watch) is drift like any watch event.
    if (wasSynced) for (const e of events) this.opts.emit(e.type, e.obj, e.before);
    this.synced = true;
    this.settleFirst(true);
    return list.metadata?.resourceVersion ?? "";
  }

  /** Resolves when the watch ends: the server closes it after `timeoutSeconds`, or its version is gone. */
  private async watchFrom(path: string, resourceVersion: string): Promise<WatchEnd> {
    if (this.stopped) return { kind: "closed", version: resourceVersion };
    let version = resourceVersion;
    let gone = false;
    // Spread over 5–10 minutes, as client-go's reflector, so the watches of many kinds do not end together.
    const timeoutSeconds = Math.round(300 * (1 + Math.random()));
    await new Promise<void>((resolve, reject) => {
      const query = { labelSelector: TRACKING_LABEL, resourceVersion, allowWatchBookmarks: true, timeoutSeconds };
      const done = (err: unknown) => {
        if (!err || this.stopped || gone) resolve();
        else if ((err as { statusCode?: number }).statusCode === 410) {
          gone = true;
          resolve();
        } else reject(err instanceof Error ? err : new Error(errorMessage(err)));
      };
      new Watch(this.opts.destination.kc).watch(path, query, (type: string, obj: Manifest) => {
        if (type === "ERROR") {
          // 410 Gone (the version was compacted away) is routine: list again. Anything else is logged.
          const status = obj as unknown as { code?: number; message?: string };
          if (status.code !== 410) this.opts.log(`live cache: the watch of ${this.opts.kind} in ${this.opts.destination.name} ended: ${status.message ?? ""}`);
          gone = true;
          this.watch?.abort();
          resolve();
          return;
        }
        const v = obj.metadata?.resourceVersion;
        if (typeof v === "string") version = v;
        if (type === "BOOKMARK") this.store.progress(version);
        if (type !== "ADDED" && type !== "MODIFIED" && type !== "DELETED") return;
        const full = { ...obj, apiVersion: this.opts.apiVersion, kind: this.opts.kind };
        const before = this.store.event(type, full);
        this.opts.emit(type, full, before);
      }, done).then((controller) => {
        this.watch = controller;
        if (this.stopped) controller.abort();
      }, reject);
    });
    return gone ? { kind: "gone" } : { kind: "closed", version };
  }
}

const keyOf = objectKey;
