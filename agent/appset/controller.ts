// The ApplicationSet loop: watches sets and the Applications they own, and reconciles a set when it
// changes, when one of its Applications changes (status included: RollingSync and status.resources
// follow them), on the git poll, on a webhook push for a repository its git generators read, and on
// Argo CD's `argocd.argoproj.io/application-set-refresh` annotation. One reconcile at a time.
import { makeInformer, CoreV1Api, type Informer, type KubeConfig, type ObjectCache } from "@kubernetes/client-node";
import { TetherClient } from "../api/client.ts";
import { APPSET_REFRESH_ANNOTATION, GROUP, VERSION, type Application, type ApplicationSet } from "../api/types.ts";
import { isNotFound } from "../apply/cluster.ts";
import type { SourceStage } from "../controller/build.ts";
import { errorMessage } from "../errors.ts";
import type { LogFn } from "../log.ts";
import { normalizeRepoUrl } from "../source/repo-url.ts";
import type { Push } from "../webhook/forges.ts";
import { AppSetClient } from "./client.ts";
import { reconcileAppSet, type AppSetDeps } from "./reconcile.ts";

export interface AppSetControllerOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly source: SourceStage;
  readonly allowLocalRepos: boolean;
  readonly pollIntervalMs: number;
  readonly log: LogFn;
  /** With leader election or shards: whether this replica writes now (sets are the leader's, or shard 0's). */
  readonly owns?: () => boolean;
}

const RETRY_MS = 10_000;

export class AppSetController {
  private readonly client: AppSetClient;
  private readonly tether: TetherClient;
  private readonly deps: AppSetDeps;
  private sets: (Informer<ApplicationSet> & ObjectCache<ApplicationSet>) | undefined;
  private apps: (Informer<Application> & ObjectCache<Application>) | undefined;
  /** Sets to reconcile, each with how recent its git fetches must be (ms since epoch; 0: the mirror as it is). */
  private readonly pending = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Repositories each set's git generators read last time, normalised: a push to one refreshes it. */
  private readonly repositories = new Map<string, readonly string[]>();
  private running: Promise<void> | undefined;
  /** What of each set asks for a reconcile with a fresh fetch when it changes: not its status (the controller writes that). */
  private readonly seen = new Map<string, string>();
  private poller: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: AppSetControllerOptions) {
    this.client = new AppSetClient(opts.kc, opts.namespace);
    this.tether = new TetherClient(opts.kc, opts.namespace);
    const core = opts.kc.makeApiClient(CoreV1Api);
    const log = (line: string) => opts.log(line);
    this.deps = {
      client: this.client, namespace: opts.namespace, source: opts.source, allowLocalRepos: opts.allowLocalRepos, log,
      listSecrets: (labelSelector) => this.tether.listSecrets(labelSelector),
      readConfigMap: async (name) => {
        try {
          return (await core.readNamespacedConfigMap({ name, namespace: opts.namespace })).data ?? {};
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      },
      readSecret: async (name) => {
        try {
          return await core.readNamespacedSecret({ name, namespace: opts.namespace });
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      },
      project: (name) => this.tether.getProject(name),
      projects: () => this.tether.listProjects(),
      getApplication: (name) => this.tether.getApplication(name),
      event: (set, type, reason, message) => this.event(set, type, reason, message),
    };
  }

  async start(): Promise<void> {
    const base = `/apis/${GROUP}/${VERSION}/namespaces/${this.opts.namespace}`;
    const sets = makeInformer<ApplicationSet>(this.opts.kc, `${base}/applicationsets`,
      async () => ({ apiVersion: `${GROUP}/${VERSION}`, kind: "ApplicationSetList", metadata: {}, items: await this.client.list() }));
    sets.on("add", (s) => this.onSet(s));
    sets.on("update", (s) => this.onSet(s));
    sets.on("delete", (s) => {
      this.repositories.delete(s.metadata?.name ?? "");
      this.seen.delete(s.metadata?.name ?? "");
    });
    const apps = makeInformer<Application>(this.opts.kc, `${base}/applications`,
      async () => ({ apiVersion: `${GROUP}/${VERSION}`, kind: "ApplicationList", metadata: {}, items: await this.client.listApplications() }));
    const owner = (a: Application) => {
      const ref = (a.metadata?.ownerReferences ?? []).find((r) => r.kind === "ApplicationSet" && r.controller === true);
      // An Application's status moved: the set's rollout and status.resources follow; Git is read as mirrored.
      if (ref) this.enqueue(ref.name, { since: 0, delayMs: 500 });
    };
    apps.on("add", owner);
    apps.on("update", owner);
    apps.on("delete", owner);
    for (const informer of [sets, apps] as const) {
      informer.on("error", (err: unknown) => {
        if (this.stopped) return;
        this.opts.log(`applicationset watch failed: ${errorMessage(err)}; restarting in 2s`);
        setTimeout(() => { if (!this.stopped) void informer.start().catch(() => undefined); }, 2000);
      });
    }
    this.sets = sets;
    this.apps = apps;
    await apps.start();
    await sets.start();
    this.poller = setInterval(() => {
      const since = Date.now();
      for (const s of sets.list()) this.enqueue(s.metadata?.name ?? "", { since });
    }, this.opts.pollIntervalMs);
    this.opts.log(`watching ApplicationSets in ${this.opts.namespace}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poller) clearInterval(this.poller);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
    await this.sets?.stop();
    await this.apps?.stop();
    await this.running;
  }

  /** A webhook push: every set whose git generators read the pushed repository generates again. */
  onPush(push: Push): void {
    for (const set of setsToRefresh(this.repositories, push.repoURLs)) this.enqueue(set, { since: Date.now() });
  }

  private onSet(set: ApplicationSet): void {
    const name = set.metadata?.name ?? "";
    const key = JSON.stringify([set.metadata?.generation, set.metadata?.annotations, set.metadata?.labels,
      set.metadata?.deletionTimestamp, set.metadata?.finalizers]);
    if (this.seen.get(name) === key) return;
    this.seen.set(name, key);
    this.enqueue(name, { since: Date.now() });
  }

  private enqueue(name: string, opts: { readonly since: number; readonly delayMs?: number }): void {
    if (this.stopped || name === "") return;
    if (opts.delayMs !== undefined && opts.delayMs > 0) {
      if (this.timers.has(name)) return;
      this.timers.set(name, setTimeout(() => { this.timers.delete(name); this.enqueue(name, { since: opts.since }); }, opts.delayMs));
      return;
    }
    this.pending.set(name, Math.max(this.pending.get(name) ?? 0, opts.since));
    this.running ??= this.drain().finally(() => { this.running = undefined; });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.pending.size > 0) {
      const [name, since] = this.pending.entries().next().value as [string, number];
      this.pending.delete(name);
      if (this.opts.owns && !this.opts.owns()) continue;
      await this.reconcileOne(name, since);
    }
  }

  private async reconcileOne(name: string, since: number): Promise<void> {
    try {
      const set = await this.client.get(name);
      if (!set) return;
      // A refresh annotation asks for Git as it is now.
      const fresh = set.metadata?.annotations?.[APPSET_REFRESH_ANNOTATION] !== undefined ? Date.now() : since;
      const result = await reconcileAppSet(set, { ...this.deps, since: fresh });
      this.repositories.set(name, result.repositories.map(safeNormalize));
      if (result.requeueMs !== undefined) this.enqueue(name, { since: 0, delayMs: result.requeueMs });
    } catch (err) {
      this.opts.log(`ApplicationSet ${name}: ${errorMessage(err)}; retrying in ${RETRY_MS / 1000}s`);
      this.enqueue(name, { since: Date.now(), delayMs: RETRY_MS });
    }
  }

  private async event(set: ApplicationSet, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const core = this.opts.kc.makeApiClient(CoreV1Api);
    const now = new Date();
    await core.createNamespacedEvent({
      namespace: this.opts.namespace,
      body: {
        metadata: { generateName: `${set.metadata?.name ?? "appset"}.`, namespace: this.opts.namespace },
        involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: "ApplicationSet", name: set.metadata?.name ?? "", namespace: this.opts.namespace,
          ...(set.metadata?.uid ? { uid: set.metadata.uid } : {}) },
        type, reason, message: message.slice(0, 1024), firstTimestamp: now, lastTimestamp: now, count: 1,
        source: { component: "tether-applicationset" }, reportingComponent: "tether-applicationset", reportingInstance: "tether-agent",
      },
    });
  }
}

/** The sets whose git generators read one of the pushed repositories (URLs compared normalised). Pure. */
export function setsToRefresh(repositories: ReadonlyMap<string, readonly string[]>, pushed: readonly string[]): string[] {
  const urls = new Set(pushed.map(safeNormalize));
  return [...repositories].filter(([, repos]) => repos.some((r) => urls.has(safeNormalize(r)))).map(([set]) => set);
}

function safeNormalize(url: string): string {
  try {
    return normalizeRepoUrl(url);
  } catch {
    return url;
  }
}
