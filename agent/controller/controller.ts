// The loop that wires the stages. Triggers (informer events, the git poll, refresh annotations,
// webhooks, drift on managed objects) all end in `enqueue`; a queue runs at most one reconcile per
// Application at a time and a bounded number overall, and retries failures with backoff.
import { Watch, makeInformer, type Informer, type KubeConfig, type ObjectCache } from "@kubernetes/client-node";
import { TetherClient, pointer } from "../api/client.ts";
import { GROUP, REFRESH_ANNOTATION, TRACKING_LABEL, VERSION, type Application, type Manifest } from "../api/types.ts";
import type { Cluster } from "../apply/cluster.ts";
import { parseRefKey, apiVersionOf } from "../apply/inventory.ts";
import { errorMessage } from "../errors.ts";
import { eventOf, logLineOf } from "../status/conditions.ts";
import { statusChanged } from "../status/equal.ts";
import { deleteCascade } from "./deletion.ts";
import { RenderCache, SyncMemo } from "./memo.ts";
import { reconcile, tally, type RenderFn, type SourceStage } from "./reconcile.ts";
import { WorkQueue, type ItemOptions } from "./queue.ts";

export interface ControllerOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly cluster: Cluster;
  readonly source: SourceStage;
  readonly render: RenderFn;
  /** How often every repository is fetched; a webhook or refresh does not wait for it. */
  readonly pollIntervalMs: number;
  /** Reconciles running at once across Applications. */
  readonly workers: number;
  readonly log: (line: string) => void;
}

export interface Metrics {
  reconciles: number;
  reconcileErrors: number;
  lastPollAt: number;
}

export class Controller {
  readonly client: TetherClient;
  readonly metrics: Metrics = { reconciles: 0, reconcileErrors: 0, lastPollAt: 0 };
  private readonly queue: WorkQueue;
  private readonly renderCache = new RenderCache();
  private readonly memo = new SyncMemo();
  private informer: (Informer<Application> & ObjectCache<Application>) | undefined;
  private readonly watches = new Map<string, AbortController>();
  private pollTimer: NodeJS.Timeout | undefined;
  private pollStartedAt = 0;
  private stopped = false;
  private synced = false;

  constructor(private readonly opts: ControllerOptions) {
    this.client = new TetherClient(opts.kc, opts.namespace);
    this.queue = new WorkQueue({ workers: opts.workers, run: (name, item) => this.reconcileByName(name, item), log: opts.log });
  }

  /** Ready once the Application informer has listed everything. */
  get ready(): boolean {
    return this.synced && !this.stopped;
  }

  async start(): Promise<void> {
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${this.opts.namespace}/applications`;
    const informer = makeInformer<Application>(this.opts.kc, path,
      async () => ({ apiVersion: `${GROUP}/${VERSION}`, kind: "ApplicationList", metadata: {}, items: await this.client.listApplications() }));
    informer.on("add", (app) => this.enqueue(app, "added"));
    informer.on("update", (app) => this.onUpdate(app));
    informer.on("delete", (app) => this.enqueueParent(app));
    informer.on("error", (err: unknown) => {
      if (this.stopped) return;
      this.opts.log(`application watch failed: ${errorMessage(err)}; restarting in 2s`);
      setTimeout(() => { if (!this.stopped) void informer.start().catch(() => undefined); }, 2000);
    });
    this.informer = informer;
    await informer.start();
    this.synced = true;
    this.pollStartedAt = Date.now();
    this.pollTimer = setInterval(() => this.poll(), this.opts.pollIntervalMs);
    this.opts.log(`watching Applications in ${this.opts.namespace}; polling git every ${this.opts.pollIntervalMs / 1000}s`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const w of this.watches.values()) w.abort();
    await this.informer?.stop();
    await this.queue.drain();
  }

  /** The one entry point for webhooks: refresh every app of a repository (or all) with a fresh fetch. */
  refreshRepository(repoURL?: string): number {
    const apps = (this.informer?.list() ?? []).filter((a) => !repoURL || sameRepo(a.spec.source.repoURL, repoURL));
    for (const app of apps) this.queue.add(app.metadata?.name ?? "", { freshAfter: Infinity });
    return apps.length;
  }

  private poll(): void {
    this.pollStartedAt = Date.now();
    this.metrics.lastPollAt = this.pollStartedAt;
    for (const app of this.informer?.list() ?? []) this.queue.add(app.metadata?.name ?? "", { freshAfter: this.pollStartedAt });
  }

  private enqueue(app: Application, why: string): void {
    const name = app.metadata?.name ?? "";
    const refresh = app.metadata?.annotations?.[REFRESH_ANNOTATION] !== undefined;
    // A new or changed app reads Git as it is now, not as the last poll saw it.
    this.queue.add(name, { freshAfter: refresh ? Infinity : Date.now() });
    if (why !== "status") this.opts.log(`${name}: queued (${why})`);
  }

  private onUpdate(app: Application): void {
    // The status writes of this controller come back as updates: they must not requeue the app itself,
    // but a child's new health changes its parent's.
    const cached = this.lastSeen.get(app.metadata?.name ?? "");
    this.lastSeen.set(app.metadata?.name ?? "", fingerprint(app));
    if (cached !== fingerprint(app)) this.enqueue(app, "changed");
    else this.enqueueParent(app);
  }

  private readonly lastSeen = new Map<string, string>();

  private enqueueParent(app: Application): void {
    const parent = app.metadata?.labels?.[TRACKING_LABEL];
    if (parent && parent !== app.metadata?.name) this.queue.add(parent);
  }

  private async reconcileByName(name: string, opts: ItemOptions): Promise<number | undefined> {
    const app = await this.client.getApplication(name);
    if (!app) return undefined;
    this.lastSeen.set(name, fingerprint(app));
    if (app.metadata?.deletionTimestamp) return await this.finalize(app);
    this.metrics.reconciles++;
    const started = Date.now();
    const freshAfter = opts.freshAfter ?? this.pollStartedAt;
    const outcome = await reconcile({ app, ...(freshAfter === Infinity ? {} : { fetchSince: freshAfter }) }, {
      cluster: this.opts.cluster,
      source: this.opts.source,
      render: this.opts.render,
      decryptionKeys: (a) => this.client.ageKeys(a.spec.source.decryption?.secretRef?.name ?? "tether-sops"),
      project: (p) => this.client.getProject(p),
      renderCache: this.renderCache,
      memo: this.memo,
      concurrency: 8,
    });
    if (statusChanged(app.status, outcome.status)) await this.client.writeStatus(name, outcome.status);
    // Clear what this reconcile handled, but only if nobody asked again meanwhile (`test` fails the patch then,
    // and the new request is taken by the next reconcile).
    const done: { op: "test" | "remove"; path: string; value?: unknown }[] = [];
    if (outcome.operationDone) done.push({ op: "test", path: "/operation", value: app.operation }, { op: "remove", path: "/operation" });
    const refresh = app.metadata?.annotations?.[REFRESH_ANNOTATION];
    if (refresh !== undefined) {
      const path = `/metadata/annotations/${pointer(REFRESH_ANNOTATION)}`;
      done.push({ op: "test", path, value: refresh }, { op: "remove", path });
    }
    if (done.length > 0) await this.client.patchApplication(name, done).catch((err: unknown) => this.opts.log(`${name}: request changed during reconcile, taking it next: ${errorMessage(err)}`));
    this.watchManaged(outcome.status.inventory ?? [], app);
    await this.report(app, outcome, Date.now() - started);
    if (outcome.error) {
      this.metrics.reconcileErrors++;
      return outcome.error.retryable ? -1 : undefined;
    }
    return outcome.requeueAfterMs;
  }

  private async report(app: Application, outcome: Awaited<ReturnType<typeof reconcile>>, ms: number): Promise<void> {
    const name = app.metadata?.name ?? "";
    const previousError = app.status?.conditions?.map((c) => c.message).join();
    if (outcome.error) {
      this.opts.log(logLineOf(name, outcome.error));
      if (previousError !== outcome.status.conditions?.map((c) => c.message).join()) await this.event(app, eventOf(outcome.error));
      return;
    }
    const moved = outcome.changes.filter((c) => c.action !== "unchanged");
    if (moved.length === 0) return;
    const failed = moved.some((c) => c.action === "failed");
    const phase = outcome.status.operationState?.phase === "Running" ? "in progress" : failed ? "failed" : "succeeded";
    const line = `sync ${phase} at ${outcome.status.sync?.revision?.slice(0, 7)}: ${tally(moved)} (${ms} ms)`;
    this.opts.log(`${name}: ${line}`);
    await this.event(app, { type: failed ? "Warning" : "Normal", reason: failed ? "SyncFailed" : "Synced", message: `${line}: ${outcome.status.operationState?.message ?? ""}` });
    if (moved.some((c) => c.action === "deleted")) {
      await this.event(app, { type: "Normal", reason: "Pruned", message: moved.filter((c) => c.action === "deleted").map((c) => `${c.ref.kind}/${c.ref.name}`).join(", ") });
    }
  }

  private async event(app: Application, e: { type: "Normal" | "Warning"; reason: string; message: string }): Promise<void> {
    await this.client.recordEvent(app, e).catch((err: unknown) => this.opts.log(`could not record event: ${errorMessage(err)}`));
  }

  private async finalize(app: Application): Promise<number | undefined> {
    const done = await deleteCascade(app, { cluster: this.opts.cluster, client: this.client, log: this.opts.log });
    return done ? undefined : -1;
  }

  /** Watches each kind this controller manages, so a manual change is seen within seconds (selfHeal). */
  private watchManaged(inventory: readonly string[], app: Application): void {
    if (!app.spec.syncPolicy?.automated?.selfHeal && app.spec.syncPolicy?.automated === undefined && inventory.length === 0) return;
    for (const key of inventory) {
      const ref = parseRefKey(key);
      const gvk = `${apiVersionOf(ref)}/${ref.kind}`;
      if (this.watches.has(gvk)) continue;
      const abort = new AbortController();
      this.watches.set(gvk, abort);
      void this.startWatch(apiVersionOf(ref), ref.kind, gvk);
    }
  }

  private async startWatch(apiVersion: string, kind: string, gvk: string): Promise<void> {
    const plural = await this.opts.cluster.plural(apiVersion, kind).catch(() => undefined);
    if (!plural || this.stopped) {
      this.watches.delete(gvk);
      return;
    }
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const pending = new Map<string, NodeJS.Timeout>();
    const onEvent = (type: string, obj: Manifest) => {
      const owner = obj.metadata?.labels?.[TRACKING_LABEL];
      if (!owner || pending.has(owner) || (type !== "DELETED" && this.memo.isOwnWrite(obj))) return;
      // Coalesce the burst of events one apply or one edit produces into one reconcile.
      pending.set(owner, setTimeout(() => { pending.delete(owner); this.queue.add(owner); }, 300));
    };
    const restart = (err: unknown) => {
      this.watches.delete(gvk);
      if (this.stopped) return;
      if (err) this.opts.log(`watch on ${gvk} ended: ${errorMessage(err)}; restarting`);
      setTimeout(() => { if (!this.watches.has(gvk)) { this.watches.set(gvk, new AbortController()); void this.startWatch(apiVersion, kind, gvk); } }, 1000);
    };
    try {
      const controller = await new Watch(this.opts.kc).watch(`${base}/${plural}`, { labelSelector: TRACKING_LABEL }, onEvent, restart);
      this.watches.set(gvk, controller);
    } catch (err) {
      restart(err);
    }
  }
}

/** What, in an Application, asks for a reconcile when it changes: not its status. */
function fingerprint(app: Application): string {
  return JSON.stringify([app.metadata?.generation, app.metadata?.annotations, app.metadata?.labels, app.operation, app.metadata?.deletionTimestamp]);
}

function sameRepo(a: string, b: string): boolean {
  const norm = (u: string) => u.replace(/\.git$/, "").replace(/\/+$/, "").toLowerCase();
  return norm(a) === norm(b);
}
