// The loop that wires the stages. Triggers (informer events, the git poll, refresh annotations,
// webhooks, drift on managed objects) all end in the work queue, which runs at most one reconcile per
// Application at a time and a bounded number overall, and retries failures with backoff.
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { makeInformer, type Informer, type KubeConfig, type ObjectCache } from "@kubernetes/client-node";
import { TetherClient } from "../api/client.ts";
import { escapeToken } from "../diff/json.ts";
import { keySecretOf } from "../api/sources.ts";
import { GROUP, POST_DELETE_FINALIZER, PRE_DELETE_FINALIZER, NOTIFIED_ANNOTATION, REFRESH_ANNOTATION, TRACKING_LABEL, VERSION, type AppProject, type Application, type ApplicationStatus, type Condition, type OperationState } from "../api/types.ts";
import type { Cluster } from "../apply/cluster.ts";
import { CLUSTER_SECRET_LABELS, Destinations } from "../apply/destinations.ts";
import { inventoryListed, inventoryOf } from "../apply/inventory.ts";
import { errorMessage } from "../errors.ts";
import type { ChartSource } from "../render/chart-deps.ts";
import type { RenderLimits } from "../render/limits.ts";
import type { LogFn } from "../log.ts";
import { eventOf, logLineOf } from "../status/conditions.ts";
import { statusChanged } from "../status/equal.ts";
import { AgentMetrics } from "../status/metrics.ts";
import { Background } from "./background.ts";
import { deleteCascade } from "./deletion.ts";
import { DEFAULT_RENDER_CACHE_MB, RenderCache, SyncMemo } from "./memo.ts";
import { DONE, WorkQueue, type Freshness, type RunResult } from "./queue.ts";
import { reconcile, tally, type ReconcileOutcome, type SourceStage, type Stage } from "./reconcile.ts";
import { appContext, desiredState, type PipelineDeps } from "./pipeline.ts";
import { spread } from "./spread.ts";
import { Turns } from "./turns.ts";
import type { DiffSettings } from "../diff/settings.ts";
import { onlyIgnoredFieldsChanged } from "../diff/updates.ts";
import { assessHealth } from "../health/index.ts";
import { LiveCache } from "./live.ts";
import { DriftWatches } from "./watches.ts";
import { fencedCluster, fencedDestinations } from "../leader/fence.ts";

export interface ControllerOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly cluster: Cluster;
  readonly source: SourceStage;
  /** Bytes a render may read per file and produce in all; default agent/render/limits.ts's. */
  readonly renderLimits?: RenderLimits;
  /** `--allow-local-repos`: serve `file://` and plain-path repoURLs. */
  readonly allowLocalRepos: boolean;
  /** Charts from chart repositories and OCI registries, with their cache (build.ts's chartFetcher). */
  readonly charts: ChartSource;
  /** How often every repository is fetched; a webhook or refresh does not wait for it. */
  readonly pollIntervalMs: number;
  /** The window a poll round's apps are spread over (spread.ts), less than the interval; 0 or absent: all at once. */
  readonly pollJitterMs?: number;
  /** Reconciles running at once across Applications. */
  readonly workers: number;
  /** Requests in flight at once within one app's reconcile (reads, dry-runs, applies of one wave, prunes). */
  readonly applyConcurrency?: number;
  readonly log: LogFn;
  /** Bound of the render cache in MiB. */
  readonly renderCacheMb?: number;
  /**
   * With `--shards` or `--leader-elect`: whether this replica may reconcile and write for the app now
   * (its Lease held and renewed within the renew deadline); asked again right before every write
   * (agent/leader/fence.ts). Absent, it reconciles every app.
   */
  readonly owns?: (app: string) => boolean;
  /** tether-cm's global diff rules as they stand now (ignoreDifferences, ignoreResourceUpdates). */
  readonly diffSettings?: () => DiffSettings;
}

/**
 * A build (a render, on a cache miss) or a sync that runs longer than this shows on the Application as
 * a `Reconciling` condition. Only those two: they write or are slow by nature, while a reconcile that
 * finds nothing to do must send no write request, however loaded the machine is.
 */
const SLOW_STAGE_MS = 1000;
const SHOWN_STAGES: ReadonlySet<Stage> = new Set<Stage>(["Building manifests", "Syncing"]);

/** Events being recorded at once, past which a reconcile waits for one to finish before it records its own. */
const EVENTS_IN_FLIGHT = 32;

/** `--apply-concurrency`'s default: requests in flight at once within one app's reconcile. */
export const DEFAULT_APPLY_CONCURRENCY = 8;
/**
 * `--workers`'s default: Applications reconciled at once. A reconcile mostly waits on round trips
 * (a fetch shared with others, an apply, a status write), so many run beside each other; 16 of them
 * with `--apply-concurrency` 8 stay within the API server's default 200 mutating requests in flight.
 */
export const DEFAULT_WORKERS = 16;

export class Controller {
  readonly client: TetherClient;
  readonly metrics: AgentMetrics;
  private readonly queue: WorkQueue;
  private readonly renderCache: RenderCache;
  /** Renders and compares a few at a time, so a push's first app applies while the next renders (turns.ts). */
  private readonly turns = new Turns({ slots: 2, holdMs: 100 });
  private readonly memo = new SyncMemo();
  /** Events in flight: recorded beside the next reconciles, not before them. */
  private readonly events = new Background(EVENTS_IN_FLIGHT);
  private readonly destinations: Destinations;
  private readonly drift: DriftWatches;
  private readonly live: LiveCache;
  private readonly timedSource: SourceStage;
  private informer: (Informer<Application> & ObjectCache<Application>) | undefined;
  private projects: (Informer<AppProject> & ObjectCache<AppProject>) | undefined;
  /** The resourceVersion of this controller's last write of each Application: no older copy is reconciled. */
  private readonly ownWrites = new Map<string, string>();
  private pollTimer: NodeJS.Timeout | undefined;
  private pollStartedAt = 0;
  /** Drops what the current poll round has not yet queued. */
  private pollSpread: (() => void) | undefined;
  private stopped = false;
  private synced = false;
  /** What of each Application asks for a reconcile when it changes (not its status). */
  private readonly lastSeen = new Map<string, string>();
  /** The last line logged per app, so a held wave or a repeated error is logged once, not every retry. */
  private readonly lastLine = new Map<string, string>();

  constructor(private readonly opts: ControllerOptions) {
    this.client = new TetherClient(opts.kc, opts.namespace);
    this.timedSource = this.timed();
    this.renderCache = new RenderCache(opts.renderCacheMb ?? DEFAULT_RENDER_CACHE_MB);
    this.queue = new WorkQueue({ workers: opts.workers, run: (name, freshness) => this.reconcileByName(name, freshness), log: opts.log });
    this.destinations = new Destinations({
      local: { kc: opts.kc, cluster: opts.cluster },
      listSecrets: async () => (await Promise.all(CLUSTER_SECRET_LABELS.map((l) => this.client.listSecrets(l)))).flat(),
      onReplaced: (old) => {
        this.opts.log(`cluster ${old.name} (${old.server}): its Secret changed; its client and watches are rebuilt`);
        this.live.forget(old.server);
      },
    });
    this.live = new LiveCache({ log: opts.log });
    this.drift = new DriftWatches({
      live: this.live, isOwnWrite: (o) => this.memo.isOwnWrite(o), changed: (app) => this.queue.add(app),
      ignoredUpdate: (before, after) => onlyIgnoredFieldsChanged(before, after, opts.diffSettings?.().ignoreResourceUpdates ?? [], (o) => assessHealth(o).status),
    });
    this.metrics = new AgentMetrics({
      queueDepth: () => this.queue.depth,
      live: () => ({ objects: this.live.size, reads: this.live.reads }),
      writes: () => ({ cluster: this.destinations.known().reduce((sum, d) => addWrites(sum, d.cluster.writes), { apply: 0, dryRun: 0, delete: 0, create: 0 }), client: this.client.writes }),
    });
  }

  /** The source stage, with each fetch (or wait for a shared one) timed for `tether_git_fetch_duration_seconds`. */
  private timed(): SourceStage {
    const source = this.opts.source;
    return {
      fetch: async (url, opts) => {
        const end = this.metrics.gitFetchDuration.startTimer();
        try {
          await this.opts.source.fetch(url, opts);
          end({ outcome: "ok" });
        } catch (err) {
          end({ outcome: "error" });
          throw err;
        }
      },
      resolve: (url, revision) => this.opts.source.resolve(url, revision),
      checkout: (url, commit) => this.opts.source.checkout(url, commit),
      sharedTree: (url, commit, dir) => this.opts.source.sharedTree?.(url, commit, dir) ?? this.opts.source.checkout(url, commit),
      credentialName: (url) => this.opts.source.credentialName?.(url),
      ...(source.changedFiles ? { changedFiles: source.changedFiles.bind(source) } : {}),
      ...(source.treeEntries ? { treeEntries: source.treeEntries.bind(source) } : {}),
      ...(source.plainFiles ? { plainFiles: source.plainFiles.bind(source) } : {}),
    };
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
    informer.on("delete", (app) => this.forget(app));
    informer.on("error", (err: unknown) => {
      if (this.stopped) return;
      this.opts.log(`application watch failed: ${errorMessage(err)}; restarting in 2s`);
      setTimeout(() => { if (!this.stopped) void informer.start().catch(() => undefined); }, 2000);
    });
    this.informer = informer;
    const projects = makeInformer<AppProject>(this.opts.kc, `/apis/${GROUP}/${VERSION}/namespaces/${this.opts.namespace}/appprojects`,
      async () => ({ apiVersion: `${GROUP}/${VERSION}`, kind: "AppProjectList", metadata: {}, items: await this.client.listProjects() }));
    projects.on("error", () => {
      // Reads fall back to a GET while the watch is down.
      if (!this.stopped) setTimeout(() => { if (!this.stopped) void projects.start().catch(() => undefined); }, 2000);
    });
    this.projects = projects;
    await projects.start().catch((err: unknown) => this.opts.log(`cannot watch AppProjects (${errorMessage(err)}); reading them one by one`));
    await informer.start();
    this.synced = true;
    this.pollStartedAt = Date.now();
    this.pollTimer = setInterval(() => this.poll(), this.opts.pollIntervalMs);
    const jitter = this.opts.pollJitterMs ? ` (each round's apps spread over ${this.opts.pollJitterMs / 1000}s)` : "";
    this.opts.log(`watching Applications in ${this.opts.namespace}; polling git every ${this.opts.pollIntervalMs / 1000}s${jitter}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollSpread?.();
    this.drift.stop();
    this.live.stop();
    await this.informer?.stop();
    await this.projects?.stop();
    await this.queue.drain();
    await this.events.drain();
  }

  /** What this controller kept about an app, dropped when the app goes: no map grows with apps that were deleted. */
  private forget(app: Application): void {
    const name = app.metadata?.name ?? "";
    this.metrics.forget(name);
    this.ownWrites.delete(name);
    this.lastSeen.delete(name);
    this.lastLine.delete(name);
    this.memo.forget(app);
    this.enqueueParent(app);
  }

  /** A poll round: every app, spread over the jitter window, sharing one fetch started from the round's start on. */
  private poll(): void {
    const since = Date.now();
    this.pollStartedAt = since;
    this.pollSpread?.();
    const names = (this.informer?.list() ?? []).map((app) => app.metadata?.name ?? "");
    this.pollSpread = spread(names, this.opts.pollJitterMs ?? 0, (batch) => {
      for (const name of batch) this.queue.add(name, { kind: "shared", since });
    });
  }

  private enqueue(app: Application, why: string): void {
    const name = app.metadata?.name ?? "";
    if (this.opts.owns && !this.opts.owns(name)) return;
    // A new, changed or refreshed app reads Git as it is now, not as the last poll saw it: a fetch
    // requested from now on. The apps one webhook delivery refreshes share that one fetch instead of
    // fetching one after another, and go before the poll's backlog.
    const refresh = app.metadata?.annotations?.[REFRESH_ANNOTATION] !== undefined;
    this.queue.add(name, { kind: "shared", since: Date.now() }, refresh);
    this.opts.log(`${name}: queued (${why})`, { app: name });
  }

  private onUpdate(app: Application): void {
    // The status writes of this controller come back as updates: they must not requeue the app itself,
    // but a child's new health changes its parent's.
    const name = app.metadata?.name ?? "";
    const cached = this.lastSeen.get(name);
    this.lastSeen.set(name, fingerprint(app));
    if (cached !== fingerprint(app)) this.enqueue(app, "changed");
    else this.enqueueParent(app);
  }

  private enqueueParent(app: Application): void {
    const parent = app.metadata?.labels?.[TRACKING_LABEL];
    if (parent && parent !== app.metadata?.name) this.queue.add(parent);
  }

  /** The Applications as the informer holds them; undefined until it listed them (a standby replica). */
  applications(): readonly Application[] | undefined {
    return this.synced ? this.informer?.list() : undefined;
  }

  /**
   * The webhook's refresh of the apps a push touched: queued here, at the front, sharing one fetch
   * started from `since` on (no round trip through the refresh annotation and the watch). Returns the
   * apps this replica does not reconcile (another shard's; all of them while it stands by or starts),
   * for the caller to ask through the annotation, and when the queued ones have run.
   */
  refreshNow(names: readonly string[], since: number, touched: readonly string[] = []): { readonly elsewhere: readonly string[]; readonly ran: Promise<void> } {
    if (!this.ready) return { elsewhere: names, ran: Promise.resolve() };
    const here = names.filter((name) => this.opts.owns?.(name) ?? true);
    const named = new Set(touched);
    for (const name of here) {
      this.queue.add(name, { kind: "shared", since, push: named.has(name) ? "touched" : "moved" }, true);
      this.opts.log(`${name}: queued (webhook)`, { app: name });
    }
    return { elsewhere: names.filter((name) => !here.includes(name)), ran: this.queue.ran(here) };
  }

  /**
   * A push moved these apps' revision with nothing changed under their paths (the webhook, once the apps
   * it touched have run): queued to record the new revision, sharing the fetch started from `since` on;
   * the build keeps the previous render (build.ts, previousRender).
   */
  revisionMoved(names: readonly string[], since: number): void {
    for (const name of names) if (this.opts.owns?.(name) ?? true) this.queue.add(name, { kind: "shared", since });
  }

  /** The shards this replica holds changed: queues the apps it holds now. Returns at once (the Lease loop never waits on work). */
  rebalance(): void {
    const owns = this.opts.owns ?? (() => true);
    for (const app of this.informer?.list() ?? []) {
      const name = app.metadata?.name ?? "";
      if (owns(name)) this.queue.add(name, { kind: "shared", since: this.pollStartedAt });
    }
  }

  /** Resolves once no reconcile of an app `of` selects is running: a shard given up is handed back only then. */
  async drained(of: (app: string) => boolean): Promise<void> {
    while (this.queue.isRunning(of)) await sleep(100);
  }

  /** Whether this replica may write for `app` now (always, without Leases). */
  private mayWrite(name: string): boolean {
    return this.opts.owns?.(name) ?? true;
  }

  private async reconcileByName(name: string, freshness: Freshness): Promise<RunResult> {
    if (this.opts.owns && !this.opts.owns(name)) return DONE;
    const app = await this.current(name);
    if (!app) return DONE;
    this.lastSeen.set(name, fingerprint(app));
    if (app.metadata?.deletionTimestamp) return await this.finalize(app);
    const started = Date.now();
    const progress = this.progressReporter(app);
    const owns = this.opts.owns;
    const outcome = await reconcile({ app, freshness }, {
      ...this.pipelineDeps(),
      destinations: owns ? fencedDestinations(this.destinations, name, owns) : this.destinations,
      memo: this.memo, live: this.live, onStage: progress.stage,
      record: async (state, o) => {
        // Fenced like every write; the operation does not start (nothing changed) when this replica may not write.
        if (!this.mayWrite(name)) throw new Error(`${name}: this replica no longer holds the app's shard`);
        await progress.operation(state, o?.deferrable === true);
      },
      concurrency: this.opts.applyConcurrency ?? DEFAULT_APPLY_CONCURRENCY,
    });
    await progress.done();
    if (!this.mayWrite(name)) {
      this.opts.log(`${name}: this replica no longer holds the app's Lease; its status is left to the one that does`, { app: name });
      return DONE;
    }
    if (progress.wrote || statusChanged(app.status, outcome.status)) this.wrote(await this.writeStatus(name, outcome.status));
    await this.deleteHookFinalizers(app, { [POST_DELETE_FINALIZER]: outcome.postDeleteHooks, [PRE_DELETE_FINALIZER]: outcome.preDeleteHooks });
    await this.clearRequests(app, outcome);
    if (outcome.destination) this.drift.ensure(outcome.destination, inventoryOf(outcome.status));
    const result = outcome.error ? "error" : outcome.next.kind === "requeue" ? "progressing" : "success";
    this.metrics.reconciled({ ...app, status: outcome.status }, result, (Date.now() - started) / 1000, outcome.changes);
    if (outcome.build) this.metrics.builds.inc({ outcome: outcome.build });
    await this.report(app, outcome, Date.now() - started);
    return outcome.next;
  }

  /**
   * The Application as the informer holds it, unless this controller has since written a later
   * version (its watch event not yet arrived) or it is being deleted: then read with a GET. A
   * reconcile of an unchanged app reads nothing.
   */
  private async current(name: string): Promise<Application | undefined> {
    const cached = this.informer?.get(name, this.opts.namespace);
    const own = this.ownWrites.get(name);
    // Deletion (finalizers removed step by step) reads the object as it is now.
    const fresh = cached !== undefined && cached.metadata?.deletionTimestamp === undefined
      && (own === undefined || !olderVersion(cached.metadata?.resourceVersion, own));
    if (fresh) return cached;
    return await this.client.getApplication(name);
  }

  private wrote(app: Application): void {
    const name = app.metadata?.name;
    const version = app.metadata?.resourceVersion;
    if (name !== undefined && version !== undefined) this.ownWrites.set(name, version);
  }

  /** An AppProject from the watch of AppProjects; one it does not hold (yet) with a GET. */
  private async project(name: string): Promise<AppProject | undefined> {
    return this.projects?.get(name, this.opts.namespace) ?? await this.client.getProject(name);
  }

  /**
   * Shows a slow stage on the Application (condition `Reconciling`, "Building manifests…"), as Flux
   * does; a quick reconcile writes nothing, so a quiet cluster stays quiet. It also writes the
   * operation record: at once, or (deferrable: an operation without hooks) only when the sync is still
   * running after {@link SLOW_STAGE_MS}, so a quick sync costs one status write, its final one, and a
   * slow one shows Running as Argo CD's does. Writes go one after another, each with the latest record.
   */
  /**
   * Writes the status a reconcile left. An Application CRD from an older `tether install` drops
   * `status.inventoryFromResources` (an unknown field): the inventory is then written again as the old
   * `status.inventory` list, which that CRD keeps, so prune still knows what the app owns.
   */
  private async writeStatus(name: string, status: ApplicationStatus): Promise<Application> {
    const written = await this.client.writeStatus(name, status);
    if (status.inventoryFromResources === undefined || written.status?.inventoryFromResources !== undefined) return written;
    this.opts.log(`${name}: the Application CRD drops status.inventoryFromResources (installed by an older tether); `
      + "the inventory is written as status.inventory. Run `tether install` to update the CRD", { app: name });
    return await this.client.writeStatus(name, inventoryListed(status));
  }

  private progressReporter(app: Application): ProgressReporter {
    const name = app.metadata?.name ?? "";
    let timer: NodeJS.Timeout | undefined;
    let inflight: Promise<void> = Promise.resolve();
    /** The operation record as it stands, written or not: a later write of the whole status keeps it. */
    let operation: OperationState | undefined;
    const write = (send: () => Promise<Application>): Promise<void> => {
      reporter.wrote = true;
      const sent = inflight.then(send).then((a) => this.wrote(a));
      inflight = sent.catch(() => undefined);
      return sent;
    };
    const later = (what: () => Promise<Application>) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        if (this.mayWrite(name)) void write(what).catch(() => undefined);
      }, SLOW_STAGE_MS);
    };
    const reporter: ProgressReporter = {
      wrote: false,
      stage: (stage: Stage) => {
        clearTimeout(timer);
        timer = undefined;
        if (!SHOWN_STAGES.has(stage)) return;
        later(() => {
          const condition: Condition = { type: "Reconciling", message: `${stage}…`, lastTransitionTime: new Date().toISOString() };
          const conditions = [...(app.status?.conditions ?? []).filter((c) => c.type !== "Reconciling"), condition];
          return this.client.writeStatus(name, { ...app.status, conditions, ...(operation ? { operationState: operation } : {}) });
        });
      },
      operation: async (state, deferrable) => {
        operation = state;
        // The stage's own timer (Syncing) carries the record when it fires; otherwise one of its own.
        if (deferrable && timer !== undefined) return;
        if (deferrable) return later(() => this.client.writeOperationState(app, operation ?? state));
        await write(() => this.client.writeOperationState(app, state));
      },
      done: async () => {
        clearTimeout(timer);
        await inflight;
      },
    };
    return reporter;
  }

  /** Clears the operation and refresh request this reconcile handled, unless someone asked again meanwhile. */
  private async clearRequests(app: Application, outcome: ReconcileOutcome): Promise<void> {
    const name = app.metadata?.name ?? "";
    // `test` fails the patch when the request changed; the new one is taken by the next reconcile.
    const done: { op: "test" | "remove"; path: string; value?: unknown }[] = [];
    if (outcome.operationDone) done.push({ op: "test", path: "/operation", value: app.operation }, { op: "remove", path: "/operation" });
    const refresh = app.metadata?.annotations?.[REFRESH_ANNOTATION];
    if (refresh !== undefined) {
      const path = `/metadata/annotations/${escapeToken(REFRESH_ANNOTATION)}`;
      done.push({ op: "test", path, value: refresh }, { op: "remove", path });
    }
    if (done.length === 0 || !this.mayWrite(name)) return;
    await this.client.patchApplication(name, done).then((a) => this.wrote(a))
      .catch((err: unknown) => this.opts.log(`${name}: request changed during reconcile, taking it next: ${errorMessage(err)}`));
  }

  private async report(app: Application, outcome: ReconcileOutcome, ms: number): Promise<void> {
    const name = app.metadata?.name ?? "";
    if (outcome.error) {
      this.logOnce(name, logLineOf(name, outcome.error), { level: "warn", reason: outcome.error.reason, err: outcome.error.cause });
      const previous = app.status?.conditions?.map((c) => c.message).join();
      if (previous !== outcome.status.conditions?.map((c) => c.message).join()) await this.event(app, eventOf(outcome.error));
      return;
    }
    const moved = outcome.changes.filter((c) => c.action !== "unchanged");
    if (moved.length === 0) {
      this.logOnce(name, `${name}: no changes at ${outcome.status.sync?.revision?.slice(0, 7)} (${outcome.why})`, { revision: outcome.status.sync?.revision });
      return;
    }
    const failed = moved.some((c) => c.action === "failed");
    const line = syncLine(outcome, failed, ms);
    this.logOnce(name, `${name}: ${line}`, { revision: outcome.status.sync?.revision, stage: "Syncing" });
    await this.event(app, { type: failed ? "Warning" : "Normal", reason: failed ? "SyncFailed" : "Synced", message: `${line}: ${outcome.status.operationState?.message ?? ""}` });
    const pruned = moved.filter((c) => c.action === "deleted");
    if (pruned.length > 0) await this.event(app, { type: "Normal", reason: "Pruned", message: pruned.map((c) => `${c.ref.kind}/${c.ref.name}`).join(", ") });
  }

  /** Logs a line; the same line again for this app (a held wave, an error retried, a quiet poll) only at debug level. */
  private logOnce(name: string, line: string, fields: Readonly<Record<string, unknown>> = {}): void {
    const key = line.replace(/\(\d+ ms\)$/, "");
    const repeated = this.lastLine.get(name) === key;
    this.lastLine.set(name, key);
    this.opts.log(line, { app: name, ...fields, ...(repeated ? { level: "debug" } : {}) });
  }

  /** Records an Event without waiting for it (the worker goes on to the next app), unless too many are in flight. */
  private async event(app: Application, e: { type: "Normal" | "Warning"; reason: string; message: string }): Promise<void> {
    if (!this.mayWrite(app.metadata?.name ?? "")) return;
    await this.events.run(() => this.client.recordEvent(app, e).catch((err: unknown) => this.opts.log(`could not record event: ${errorMessage(err)}`)));
  }

  /**
   * Renders `app` through the one pipeline with its Git sources read from `tree` (an edited work tree of
   * `repoURL`, not yet pushed) instead of the commit: what a write-back checks before it pushes. Throws
   * the render's error; writes nothing.
   */
  async renderCheck(app: Application, repoURL: string, tree: string): Promise<void> {
    const commit = randomBytes(20).toString("hex");
    const base = this.timedSource;
    const source: SourceStage = {
      fetch: (url, o) => (url === repoURL ? Promise.resolve() : base.fetch(url, o)),
      resolve: (url, rev) => (url === repoURL ? Promise.resolve(commit) : base.resolve(url, rev)),
      checkout: (url, sha) => (url === repoURL && sha === commit ? copyTree(tree) : base.checkout(url, sha)),
      allowsLocalRepos: () => base.allowsLocalRepos?.() === true,
    };
    await desiredState({ app, freshness: { kind: "fresh" } }, { ...this.pipelineDeps(), source, renderCache: new RenderCache(1) });
  }

  private pipelineDeps(): PipelineDeps & { readonly destinations: Destinations } {
    return {
      source: this.timedSource, charts: this.opts.charts, agentNamespace: this.opts.namespace, allowLocalRepos: this.opts.allowLocalRepos,
      ...(this.opts.renderLimits ? { limits: this.opts.renderLimits } : {}), destinations: this.destinations,
      decryptionKeys: (a) => this.client.ageKeys(keySecretOf(a)), project: (p) => this.project(p), renderCache: this.renderCache, turns: this.turns,
      ...(this.opts.diffSettings ? { diffSettings: this.opts.diffSettings } : {}),
    };
  }

  /**
   * The post-delete (pre-delete) finalizer on an app whose render holds PostDelete (PreDelete) hooks,
   * and only there (Argo CD does the same): written only when that changes, so a no-op reconcile still
   * writes nothing.
   */
  private async deleteHookFinalizers(app: Application, wanted: Readonly<Record<string, boolean | undefined>>): Promise<void> {
    const finalizers = app.metadata?.finalizers ?? [];
    const change = Object.entries(wanted).filter(([f, hooks]) => hooks !== undefined && finalizers.includes(f) !== hooks);
    if (change.length === 0 || app.metadata?.deletionTimestamp) return;
    const name = app.metadata?.name ?? "";
    if (!this.mayWrite(name)) return;
    const next = [...finalizers.filter((f) => !change.some(([c]) => c === f)), ...change.filter(([, hooks]) => hooks).map(([f]) => f)];
    const patch = app.metadata?.finalizers === undefined
      ? [{ op: "add" as const, path: "/metadata/finalizers", value: next }]
      : [{ op: "test" as const, path: "/metadata/finalizers", value: finalizers }, { op: "replace" as const, path: "/metadata/finalizers", value: next }];
    await this.client.patchApplication(name, patch).then((a) => this.wrote(a))
      .catch((err: unknown) => this.opts.log(`${name}: could not update finalizers ${change.map(([f]) => f).join(", ")}: ${errorMessage(err)}`));
  }

  /**
   * One step of cascading deletion (then the PostDelete hooks), on the cluster the app deployed to,
   * as the identity the app writes with: the project's rules and impersonation hold for deletion too.
   */
  private async finalize(app: Application): Promise<RunResult> {
    try {
      const name = app.metadata?.name ?? "";
      const owns = this.opts.owns;
      // Fenced as the reconcile is: no write once this replica no longer owns the app.
      const deps = { ...this.pipelineDeps(), ...(owns ? { destinations: fencedDestinations(this.destinations, name, owns) } : {}) };
      const local = owns ? fencedCluster(this.opts.cluster, name, owns) : this.opts.cluster;
      const ctx = await appContext(app, deps);
      const writer = ctx.writer ?? local;
      const planned = async () => (await desiredState({ app, freshness: { kind: "fresh" } }, deps)).planned;
      const done = await deleteCascade(app, { cluster: writer, local, client: this.client, log: this.opts.log, planned });
      return done ? DONE : { kind: "retry" };
    } catch (err) {
      this.logOnce(app.metadata?.name ?? "", `${app.metadata?.name}: cascade deletion waits: ${errorMessage(err)}`);
      return { kind: "retry" };
    }
  }
}

/** `sync succeeded at 1a2b3c4 (new revision or render inputs): created 2 (120 ms)`. */
function syncLine(outcome: ReconcileOutcome, failed: boolean, ms: number): string {
  const phase = outcome.status.operationState?.phase === "Running" ? "in progress" : failed ? "failed" : "succeeded";
  const moved = outcome.changes.filter((c) => c.action !== "unchanged");
  return `sync ${phase} at ${outcome.status.sync?.revision?.slice(0, 7)} (${outcome.why}): ${tally(moved)} (${ms} ms)`;
}

interface ProgressReporter {
  /** Told each stage as it starts. */
  readonly stage: (stage: Stage) => void;
  /** The operation record: written now, or (deferrable) only if the sync still runs after a moment. */
  readonly operation: (state: OperationState, deferrable: boolean) => Promise<void>;
  /** Resolves once no write of the reporter is in flight, and none will start. */
  readonly done: () => Promise<void>;
  /** Whether it wrote (or tried to write) the status: the final status is then written whatever it holds. */
  wrote: boolean;
}

type Writes = Record<"apply" | "dryRun" | "delete" | "create", number>;
function addWrites(a: Writes, b: Readonly<Writes>) {
  return { apply: a.apply + b.apply, dryRun: a.dryRun + b.dryRun, delete: a.delete + b.delete, create: a.create + b.create };
}

/**
 * Whether resourceVersion `a` is older than `b`. They are opaque in general; the API server's are
 * etcd revisions, compared as numbers. Anything else counts as older, so the caller reads again.
 */
function olderVersion(a: string | undefined, b: string): boolean {
  if (a === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return true;
  return BigInt(a) < BigInt(b);
}

/** What, in an Application, asks for a reconcile when it changes: not its status. */
function fingerprint(app: Application): string {
  const annotations = { ...app.metadata?.annotations };
  delete annotations[NOTIFIED_ANNOTATION];
  return JSON.stringify([app.metadata?.generation, annotations, app.metadata?.labels, app.operation, app.metadata?.deletionTimestamp]);
}

/** A copy of a work tree without its `.git`, for a render that may edit it (Kustomize, Helm dependencies). */
async function copyTree(tree: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tether-check-"));
  await cp(tree, dir, { recursive: true, filter: (src) => path.relative(tree, src).split(path.sep)[0] !== ".git" });
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
