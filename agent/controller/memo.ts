// In-memory shortcuts. Both only save work: after a restart they are empty and the agent reaches the
// same state with a few more requests, so nothing needed for correctness lives here.
import { hash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Application, Manifest } from "../api/types.ts";
import type { PlannedObject } from "../apply/plan.ts";
import type { SourcesRender } from "../render/sources.ts";

/** The default bound of the render cache: `--render-cache-size`. */
export const DEFAULT_RENDER_CACHE_MB = 64;

/**
 * Rendered objects by render key (commit + every input that changes the output), so an unchanged
 * commit is not rendered again. Bounded in bytes, least recently used evicted first. It holds what
 * the renderer produced and nothing else: every guard runs after each lookup, hit or miss.
 */
export class RenderCache {
  private readonly entries: LRUCache<string, SourcesRender>;

  constructor(maxMegabytes = DEFAULT_RENDER_CACHE_MB) {
    this.entries = new LRUCache<string, SourcesRender>({
      maxSize: Math.max(1, Math.round(maxMegabytes * 1024 * 1024)),
      // A render bigger than the whole cache is simply not kept.
      sizeCalculation: sizeOf,
    });
  }

  get(key: string): SourcesRender | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: SourcesRender): void {
    this.entries.set(key, value);
  }

  /** Bytes held, for the metrics. */
  get size(): number {
    return this.entries.calculatedSize;
  }
}

/**
 * Bytes a render holds, once per render: a render kept for a new revision (build.ts, previousRender) is
 * set again under the new key, and its 20 objects were serialized again for every app a push moved.
 */
const sizes = new WeakMap<SourcesRender, number>();
function sizeOf(value: SourcesRender): number {
  let size = sizes.get(value);
  if (size === undefined) {
    size = Math.max(1, value.objects.reduce((n, r) => n + JSON.stringify(r.manifest).length + r.file.length, 0) + value.warnings.reduce((n, w) => n + w.length, 0));
    sizes.set(value, size);
  }
  return size;
}

/**
 * Which live object versions were last found (or made) equal to which desired manifests: an object
 * whose resourceVersion and desired manifest are both unchanged needs no dry-run to compare again.
 */
export class SyncMemo {
  /** Per app (its uid), per object: the desired digest and live resourceVersion last found equal. Dropped with the app. */
  private readonly seen = new Map<string, Map<string, string>>();
  /** `uid@resourceVersion` of objects as this agent's applies left them: their watch events are our own echo. */
  private readonly own = new Set<string>();

  /** Records an object the agent just applied, so its own watch event does not trigger another reconcile. */
  applied(app: Application, obj: PlannedObject, live: Manifest): void {
    this.remember(app, obj, live);
    this.own.add(`${String(live.metadata.uid)}@${String(live.metadata.resourceVersion)}`);
    if (this.own.size > 50_000) this.own.delete(this.own.values().next().value!);
  }

  /** Whether a watched object is exactly what an apply of this agent produced. */
  isOwnWrite(live: Manifest): boolean {
    return this.own.has(`${String(live.metadata?.uid)}@${String(live.metadata?.resourceVersion)}`);
  }

  remember(app: Application, obj: PlannedObject, live: Manifest): void {
    const key = appKey(app);
    let objects = this.seen.get(key);
    if (!objects) this.seen.set(key, objects = new Map<string, string>());
    objects.set(objectKey(obj), this.value(obj, live));
  }

  unchangedSinceApply(app: Application, obj: PlannedObject, live: Manifest): boolean {
    return this.seen.get(appKey(app))?.get(objectKey(obj)) === this.value(obj, live);
  }

  /** Drops what is remembered for an app that was deleted. */
  forget(app: Application): void {
    this.seen.delete(appKey(app));
  }

  /** Apps remembered (what the eviction test reads). */
  get apps(): number {
    return this.seen.size;
  }

  private value(obj: PlannedObject, live: Manifest): string {
    // One-shot hash: a Hash object per applied object was a visible share of a first sync's CPU.
    const digest = hash("sha256", JSON.stringify(obj.manifest), "hex");
    return `${digest}@${String(live.metadata.resourceVersion)}`;
  }
}

const appKey = (app: Application) => app.metadata?.uid ?? app.metadata?.name ?? "";
/** One separator that cannot occur in a group, kind, namespace or name. */
const objectKey = (obj: PlannedObject) => [obj.ref.group, obj.ref.kind, obj.ref.namespace ?? "", obj.ref.name].join("|");
