// Drift watches: one watch per managed kind per destination cluster, shared by every app, so a manual
// change is seen within seconds (selfHeal). An event names its app through the tracking label; the
// burst one edit produces becomes one reconcile, and the agent's own applies are not drift.
import { Watch } from "@kubernetes/client-node";
import { apiBase } from "../api/gvk.ts";
import { TRACKING_LABEL, type Manifest } from "../api/types.ts";
import type { Destination } from "../apply/destinations.ts";
import { apiVersionOf, parseRefKey } from "../apply/inventory.ts";
import { errorMessage } from "../errors.ts";

export interface DriftWatchOptions {
  /** Whether the event is the echo of the agent's own apply. */
  readonly isOwnWrite: (obj: Manifest) => boolean;
  /** Called with the app name a changed object belongs to. */
  readonly changed: (app: string) => void;
  readonly log: (line: string) => void;
}

export class DriftWatches {
  private readonly watches = new Map<string, AbortController>();
  private stopped = false;

  constructor(private readonly opts: DriftWatchOptions) {}

  /** Makes sure every kind of the inventory is watched on the destination. */
  ensure(destination: Destination, inventory: readonly string[]): void {
    for (const key of inventory) {
      const ref = parseRefKey(key);
      const apiVersion = apiVersionOf(ref);
      const id = `${destination.server}|${apiVersion}/${ref.kind}`;
      if (this.watches.has(id) || this.stopped) continue;
      this.watches.set(id, new AbortController());
      void this.start(destination, apiVersion, ref.kind, id);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches.values()) w.abort();
  }

  private async start(destination: Destination, apiVersion: string, kind: string, id: string): Promise<void> {
    const plural = await destination.cluster.plural(apiVersion, kind).catch(() => undefined);
    if (!plural || this.stopped) {
      this.watches.delete(id);
      return;
    }
    const base = apiBase(apiVersion);
    const restart = (err: unknown) => {
      this.watches.delete(id);
      if (this.stopped) return;
      if (err) this.opts.log(`watch on ${kind} in ${destination.name} ended: ${errorMessage(err)}; restarting`);
      setTimeout(() => {
        if (this.watches.has(id) || this.stopped) return;
        this.watches.set(id, new AbortController());
        void this.start(destination, apiVersion, kind, id);
      }, 1000);
    };
    try {
      const controller = await new Watch(destination.kc).watch(`${base}/${plural}`, { labelSelector: TRACKING_LABEL }, this.onEvent(), restart);
      this.watches.set(id, controller);
    } catch (err) {
      restart(err);
    }
  }

  /** Coalesces the burst of events one apply or one edit produces into one reconcile per app. */
  private onEvent(): (type: string, obj: Manifest) => void {
    const pending = new Map<string, NodeJS.Timeout>();
    return (type, obj) => {
      const owner = obj.metadata?.labels?.[TRACKING_LABEL];
      if (!owner || pending.has(owner) || (type !== "DELETED" && this.opts.isOwnWrite(obj))) return;
      pending.set(owner, setTimeout(() => { pending.delete(owner); this.opts.changed(owner); }, 300));
    };
  }
}
