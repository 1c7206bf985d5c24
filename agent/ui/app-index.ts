// The Applications of one namespace as the list's rows, kept current by one paged list and one watch
// shared by every open page: the list API and each tab's stream read it, so a tab costs no request
// to the API server, and only the rows (AppSummary, a few hundred bytes) are held, not the objects.
import { CustomObjectsApi, Watch, type KubeConfig } from "@kubernetes/client-node";
import { GROUP, VERSION, type Application } from "../api/types.ts";
import { errorMessage } from "../errors.ts";
import { summarize } from "./model.ts";
import type { AppSummary } from "./view.ts";

/** One row that changed: absent `after` is a deletion, absent `before` an addition. */
export interface RowChange {
  readonly name: string;
  readonly before?: AppSummary;
  readonly after?: AppSummary;
}

/** Objects per page of the first list: bounds the memory a list of 10,000 apps takes at once. */
const LIST_PAGE = 500;

export class AppIndex {
  private readonly rows = new Map<string, AppSummary>();
  private readonly listeners = new Set<(change: RowChange) => void>();
  private readonly custom: CustomObjectsApi;
  private abort: AbortController | undefined;
  private resourceVersion: string | undefined;
  private stopped = false;
  private listed: Promise<void> | undefined;

  constructor(private readonly kc: KubeConfig, private readonly namespace: string, private readonly log: (line: string) => void) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /** Starts the list and watch (once); resolves when the rows hold every app. */
  ready(): Promise<void> {
    this.listed ??= this.relist().then(() => this.watch());
    return this.listed;
  }

  /** Every row, in no particular order. */
  values(): IterableIterator<AppSummary> {
    return this.rows.values();
  }

  get size(): number {
    return this.rows.size;
  }

  /** Told of every row that changes from now on; returns the unsubscribe. */
  subscribe(listener: (change: RowChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    this.abort = undefined;
  }

  private async relist(): Promise<void> {
    const seen = new Set<string>();
    let next: string | undefined;
    do {
      const page = await this.custom.listNamespacedCustomObject({
        group: GROUP, version: VERSION, namespace: this.namespace, plural: "applications", limit: LIST_PAGE, ...(next ? { _continue: next } : {}),
      }) as { items: Application[]; metadata?: { continue?: string; resourceVersion?: string } };
      for (const app of page.items) {
        seen.add(app.metadata?.name ?? "");
        this.put(summarize(app));
      }
      next = page.metadata?.continue || undefined;
      this.resourceVersion = page.metadata?.resourceVersion;
    } while (next !== undefined);
    for (const name of [...this.rows.keys()]) if (!seen.has(name)) this.remove(name);
  }

  private put(after: AppSummary): void {
    const before = this.rows.get(after.name);
    this.rows.set(after.name, after);
    this.emit({ name: after.name, ...(before ? { before } : {}), after });
  }

  private remove(name: string): void {
    const before = this.rows.get(name);
    if (!before) return;
    this.rows.delete(name);
    this.emit({ name, before });
  }

  private emit(change: RowChange): void {
    for (const l of this.listeners) l(change);
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${this.namespace}/applications`;
    let gone = false;
    const onEvent = (type: string, obj: Application & { code?: number }) => {
      if (type === "ERROR") {
        // 410 Gone: the watch's resourceVersion is too old; list again.
        gone = true;
        return;
      }
      const version = obj.metadata?.resourceVersion;
      if (version) this.resourceVersion = version;
      if (type === "ADDED" || type === "MODIFIED") this.put(summarize(obj));
      else if (type === "DELETED") this.remove(obj.metadata?.name ?? "");
    };
    const restart = (err: unknown) => {
      if (this.stopped) return;
      if (err) this.log(`ui: the Application watch ended (${errorMessage(err)}); restarting`);
      setTimeout(() => {
        if (this.stopped) return;
        const again = gone || this.resourceVersion === undefined ? this.relist() : Promise.resolve();
        again.then(() => this.watch(), (e: unknown) => restart(e));
      }, 1000);
    };
    try {
      this.abort = await new Watch(this.kc).watch(path, { allowWatchBookmarks: true, ...(this.resourceVersion ? { resourceVersion: this.resourceVersion } : {}) },
        onEvent, restart);
      if (this.stopped) this.abort.abort();
    } catch (err) {
      gone = true;
      restart(err);
    }
  }
}
