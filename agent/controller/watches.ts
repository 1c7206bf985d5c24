// Drift watches: every managed kind on every destination cluster is watched once, by the live cache
// (live.ts), which every app shares; a change there is seen within seconds (selfHeal). An event names
// its app through the tracking label; the burst one edit produces becomes one reconcile, and the
// agent's own applies are not drift.
import { TRACKING_LABEL, type Manifest } from "../api/types.ts";
import type { Destination } from "../apply/destinations.ts";
import { apiVersionOf, parseInventoryEntry } from "../apply/inventory.ts";
import type { LiveCache, LiveEventType } from "./live.ts";

export interface DriftWatchOptions {
  readonly live: LiveCache;
  /** Whether the event is the echo of the agent's own apply. */
  readonly isOwnWrite: (obj: Manifest) => boolean;
  /** Called with the app name a changed object belongs to. */
  readonly changed: (app: string) => void;
  /**
   * Whether a modification changed only fields tether-cm's `ignoreResourceUpdates` ignores (and not
   * the object's health): then it starts no reconcile, as in Argo CD. Absent, every change does.
   */
  readonly ignoredUpdate?: (before: Manifest, after: Manifest) => boolean;
}

export class DriftWatches {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly opts: DriftWatchOptions) {
    opts.live.subscribe((type, obj, before) => this.onEvent(type, obj, before));
  }

  /** Makes sure every kind of the inventory is watched on the destination. */
  ensure(destination: Destination, inventory: readonly string[]): void {
    const kinds = new Set(inventory.map((key) => {
      const ref = parseInventoryEntry(key);
      return `${apiVersionOf(ref)} ${ref.kind}`;
    }));
    for (const k of kinds) {
      const [apiVersion, kind] = k.split(" ") as [string, string];
      this.opts.live.watch(destination, apiVersion, kind);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.pending.values()) clearTimeout(t);
  }

  /** Coalesces the burst of events one apply or one edit produces into one reconcile per app. */
  private onEvent(type: LiveEventType, obj: Manifest, before: Manifest | undefined): void {
    const owner = obj.metadata?.labels?.[TRACKING_LABEL];
    if (this.stopped || !owner || this.pending.has(owner) || (type !== "DELETED" && this.opts.isOwnWrite(obj))) return;
    if (type === "MODIFIED" && before !== undefined && this.opts.ignoredUpdate?.(before, obj) === true) return;
    this.pending.set(owner, setTimeout(() => { this.pending.delete(owner); this.opts.changed(owner); }, 300));
  }
}
