// Starts the agent: the controller, its git source and render stage, and the HTTP surface.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { TetherClient } from "./api/client.ts";
import type { Application } from "./api/types.ts";
import { KubeCluster } from "./apply/cluster.ts";
import { campaign, type ElectionTiming, type Leadership } from "./leader/index.ts";
import { shard, type Sharding } from "./leader/shards.ts";
import { chartFetcher } from "./controller/build.ts";
import { Controller, DEFAULT_WORKERS } from "./controller/controller.ts";
import { checkPlainHttp, startServer } from "./server.ts";
import { agentUi, metricsAccess } from "./ui/index.ts";
import { KubeHttp } from "./apply/http.ts";
import { GitSource } from "./source/index.ts";
import { createLogger, logFn, type LogFn, type LogFormat, type LogLevel } from "./log.ts";
import type { RenderLimits } from "./render/limits.ts";
import type { FetchLimits } from "./source/limits.ts";
import { refreshThroughAnnotation, secretReader, Webhook } from "./webhook/webhook.ts";
import type { Push } from "./webhook/forges.ts";
import { keepAlive } from "./apply/keepalive.ts";
import { SettingsStore, watchSettings } from "./settings/index.ts";
import { AppSetController } from "./appset/controller.ts";
import { liveDiffSettings } from "./diff/settings.ts";
import { ImageUpdater } from "./imageupdater/updater.ts";
import { RateLimiter } from "./registry/ratelimit.ts";
import { GitWriter } from "./writeback/git.ts";
import { errorMessage } from "./errors.ts";
import { healthRules, useHealthRules } from "./health/index.ts";
import { Notifier } from "./notify/index.ts";
import { promotionController } from "./promote/index.ts";

export interface AgentOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly pollIntervalMs: number;
  /** `--poll-jitter`: the window each poll round's apps are spread over (agent/controller/spread.ts); default half the interval. */
  readonly pollJitterMs?: number;
  readonly listen: { readonly host: string; readonly port: number };
  /** Mirrors and throwaway checkouts; an emptyDir in cluster. */
  readonly cacheDir?: string;
  readonly workers?: number;
  /** Requests in flight at once within one app's reconcile (`--apply-concurrency`). */
  readonly applyConcurrency?: number;
  /** Where log lines go; by default a pino logger in `logFormat` at `logLevel`. */
  readonly log?: LogFn;
  readonly logFormat?: LogFormat;
  readonly logLevel?: LogLevel;
  /** Bound of the render cache in MiB (`--render-cache-size`). */
  readonly renderCacheMb?: number;
  /**
   * Serve `file://` and plain-path repoURLs. Off by default: with it, any Application (a child in Git
   * included) can read every repository on the agent's disk, other repositories' mirrors among them.
   */
  readonly allowLocalRepos?: boolean;
  /** Bytes a render may read per file and produce in all (agent/render/limits.ts); defaults 64 MiB / 256 MiB. */
  readonly renderLimits?: RenderLimits;
  /** Bytes read at most from chart repositories and registries (`--max-helm-index-size`, `--max-chart-size`). */
  readonly fetchLimits?: FetchLimits;
  /** A serving certificate and key (PEM files, e.g. a mounted kubernetes.io/tls Secret): HTTPS. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Plain HTTP on a non-loopback address (`--insecure-plain-http`): a TLS-terminating proxy in front. */
  readonly insecurePlainHttp?: boolean;
  /** Serve `/metrics` without a bearer token (`--metrics-allow-unauthenticated`); by default TokenReview + SubjectAccessReview. */
  readonly metricsAllowUnauthenticated?: boolean;
  /** Accept unsigned webhook deliveries while no webhook secret is configured (`--webhook-allow-unsigned`). */
  readonly webhookAllowUnsigned?: boolean;
  /** Largest webhook body, counted while it streams (`--webhook-max-payload`); default 1 MiB. */
  readonly webhookMaxPayloadBytes?: number;
  /** Several replicas: only the holder of Lease tether-agent-leader reconciles (agent/leader). */
  readonly leaderElection?: ElectionTiming;
  /** Several replicas sharing the apps: `shards` Leases, each app in one (agent/leader/shards.ts). */
  readonly sharding?: { readonly shards: number; readonly timing: ElectionTiming };
}

export interface RunningAgent {
  readonly controller: Controller;
  /** What ConfigMap tether-cm says, kept current by a watch. */
  readonly settings: SettingsStore;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  checkPlainHttp(opts.listen.host, opts.tls !== undefined, opts.insecurePlainHttp ?? false);
  const tls = opts.tls ? { cert: await readFile(opts.tls.certFile), key: await readFile(opts.tls.keyFile) } : undefined;
  keepAlive(opts.kc);
  const log = opts.log ?? logFn(createLogger({ ...(opts.logFormat ? { format: opts.logFormat } : {}), ...(opts.logLevel ? { level: opts.logLevel } : {}) }));
  const client = new TetherClient(opts.kc, opts.namespace);
  const cluster = new KubeCluster(opts.kc);
  // A temporary cache is the agent's own: removed on stop, and when the start fails.
  const cacheDir = opts.cacheDir ?? await mkdtemp(path.join(os.tmpdir(), "tether-agent-"));
  const removeOwnCache = () => (opts.cacheDir === undefined ? rm(cacheDir, { recursive: true, force: true }) : Promise.resolve());
  const source = new GitSource({
    cacheDir, allowLocal: opts.allowLocalRepos ?? false,
    credentials: (url) => client.repoCredentials(url),
  });
  // Settings first: the first reconcile already sees tether-cm's customizations.
  const settings = new SettingsStore();
  settings.subscribe((s) => {
    const { rules, problems } = healthRules(s);
    for (const p of problems) log(`tether-cm: key ${p.key}: ${p.message}; objects of that kind are Unknown until it is fixed`);
    useHealthRules(rules);
  });
  const settingsWatch = await watchSettings({ kc: opts.kc, namespace: opts.namespace, store: settings, log });
  // tether-cm's global diff rules, for the reconcile, the drift watches and the UI diff alike.
  const diffSettings = liveDiffSettings(() => settings.current(), log);
  let sharding: Sharding | undefined;
  let leadership: Leadership | undefined;
  const controller: Controller = new Controller({
    kc: opts.kc, namespace: opts.namespace, cluster, source, allowLocalRepos: opts.allowLocalRepos ?? false,
    ...(opts.renderLimits ? { renderLimits: opts.renderLimits } : {}),
    charts: chartFetcher(client, cacheDir, opts.fetchLimits),
    pollIntervalMs: opts.pollIntervalMs, pollJitterMs: opts.pollJitterMs ?? Math.floor(opts.pollIntervalMs / 2), workers: opts.workers ?? DEFAULT_WORKERS, log,
    ...(opts.applyConcurrency === undefined ? {} : { applyConcurrency: opts.applyConcurrency }),
    ...(opts.renderCacheMb === undefined ? {} : { renderCacheMb: opts.renderCacheMb }),
    ...(opts.sharding ? { owns: (app: string) => sharding?.owns(app) ?? false } : {}),
    ...(opts.leaderElection ? { owns: () => leadership?.mayWrite() ?? false } : {}),
    diffSettings,
  });
  const ui = agentUi({
    kc: opts.kc, namespace: opts.namespace, log, allowLocalRepos: opts.allowLocalRepos ?? false, diffSettings, settings: () => settings.current().data,
    customizations: () => settings.current(),
    ...(opts.renderLimits ? { renderLimits: opts.renderLimits } : {}), ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
    ...(opts.fetchLimits ? { fetchLimits: opts.fetchLimits } : {}),
  });
  // ApplicationSets: one replica writes them (the leader, or the shard that owns the key "applicationsets").
  const appsets = agentAppSets(opts, { source, log }, () => leadership?.mayWrite() ?? sharding?.owns("applicationsets") ?? true);
  // The informer's list for whatever reads every app (a push, the image updater's and the promotion's passes):
  // a LIST of 10,000 apps is tens of MB for the API server to send and the agent to read. A standby LISTs.
  const applications = async () => controller.applications() ?? await client.listApplications();
  const images = agentImageUpdater(opts, { client, controller, cacheDir, log, applications }, () => leadership?.mayWrite() ?? sharding?.owns("image-updater") ?? true);
  const webhook = agentWebhook(opts, { controller, log, applications, annotate: refreshThroughAnnotation(client) }, (push) => appsets.onPush(push), images);
  // Promotion (Kargo's Warehouses and Stages): one replica writes, as for the sets.
  const promotion = promotionController({
    kc: opts.kc, namespace: opts.namespace, client, source, cacheDir, allowLocalRepos: opts.allowLocalRepos ?? false, log,
    tickMs: Math.min(opts.pollIntervalMs, 5000), owns: () => leadership?.mayWrite() ?? sharding?.owns("promotions") ?? true, applications,
  });
  const standby = () => leadership !== undefined && !leadership.isLeader();
  const metricsAuth = opts.metricsAllowUnauthenticated ? undefined : metricsAccess(new KubeHttp(opts.kc));
  const server = await startServer({
    controller, cluster, host: opts.listen.host, port: opts.listen.port, ui, webhook, standby, ...(metricsAuth ? { metricsAuth } : {}), ...(tls ? { tls } : {}),
  })
    .catch(async (err: unknown) => {
      ui.close();
      await settingsWatch.stop();
      await removeOwnCache();
      throw listenFailure(err, opts.listen);
    });
  await webhook.warnIfUnsigned(opts.namespace);
  if (opts.leaderElection) {
    leadership = campaign({ kc: opts.kc, namespace: opts.namespace, timing: opts.leaderElection, log },
      async () => { await controller.start(); await appsets.start(); promotion.start(); images.start(); });
  }
  else {
    if (opts.sharding) sharding = shard({ kc: opts.kc, namespace: opts.namespace, ...opts.sharding, log,
      onChange: () => controller.rebalance(), drained: (of) => controller.drained(of) });
    await controller.start();
    await appsets.start();
    promotion.start();
    images.start();
  }
  // Notifications (tether-notifications-cm): informers and a send queue of their own; the replica that writes sends.
  const notifier = new Notifier({
    kc: opts.kc, namespace: opts.namespace, log, url: () => settings.current().data.url ?? "",
    owns: (app) => (leadership ? leadership.mayWrite() : sharding ? sharding.owns(app) : true),
  });
  await notifier.start();
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : opts.listen.port;
  log(`tether agent ready; probes and metrics on ${tls ? "https" : "http"}://${opts.listen.host}:${port}`);
  return {
    controller, port, settings,
    stop: async () => {
      // The lease goes back only after the running reconciles finished: the next leader never applies alongside this one.
      await notifier.stop();
      await appsets.stop();
      await promotion.stop();
      await images.stop();
      if (leadership) await leadership.release(() => controller.stop());
      else if (sharding) await sharding.release(() => controller.stop());
      else await controller.stop();
      webhook.stop();
      ui.close();
      await settingsWatch.stop();
      await new Promise((resolve) => server.close(resolve));
      await source.close();
      await removeOwnCache();
    },
  };
}

/** The ApplicationSet controller; `owns` asks the leader election or the shards whether this replica writes now. */
function agentAppSets(opts: AgentOptions, deps: { source: GitSource; log: LogFn }, owns: () => boolean): AppSetController {
  return new AppSetController({
    kc: opts.kc, namespace: opts.namespace, source: deps.source, allowLocalRepos: opts.allowLocalRepos ?? false,
    pollIntervalMs: opts.pollIntervalMs, log: deps.log, ...(opts.sharding || opts.leaderElection ? { owns } : {}),
  });
}

/** Image Updater's annotations: registries polled at the poll interval, new tags written back with the repository's credential. */
function agentImageUpdater(opts: AgentOptions, deps: { client: TetherClient; controller: Controller; cacheDir: string; log: LogFn;
  applications: () => Promise<readonly Application[]> }, owns: () => boolean): ImageUpdater {
  const refresh = refreshThroughAnnotation(deps.client);
  const writer = new GitWriter({ cacheDir: deps.cacheDir, allowLocal: opts.allowLocalRepos ?? false, credentials: (url) => deps.client.repoCredentials(url) });
  return new ImageUpdater({
    kc: opts.kc, namespace: opts.namespace, client: deps.client, writer, rateLimiter: new RateLimiter(20), intervalMs: opts.pollIntervalMs, log: deps.log,
    renderCheck: (app, repoURL, dir) => deps.controller.renderCheck(app, repoURL, dir), owns, applications: deps.applications,
    onPushed: (app) => void refresh([app]).catch((err: unknown) => deps.log(`image updater: cannot refresh ${app}: ${errorMessage(err)}`)),
  });
}

function agentWebhook(opts: AgentOptions, deps: { controller: Controller; log: LogFn; applications: () => Promise<readonly Application[]>;
  annotate: (names: readonly string[]) => Promise<void> }, onPush: (push: Push) => void, images: ImageUpdater): Webhook {
  const { controller, log, annotate } = deps;
  return new Webhook({
    onPush, onRegistryPush: (repositories) => images.trigger(repositories),
    secrets: secretReader(opts.kc, opts.namespace), applications: deps.applications,
    refresh: async (names, since, touched) => {
      const { elsewhere, ran } = controller.refreshNow(names, since, touched);
      await annotate(elsewhere);
      await ran;
    },
    revisionMoved: (names, since) => controller.revisionMoved(names, since),
    log, allowUnsigned: opts.webhookAllowUnsigned ?? false,
    ...(opts.webhookMaxPayloadBytes === undefined ? {} : { maxBodyBytes: opts.webhookMaxPayloadBytes }),
  });
}

/** A listen error said with the address and the flag that fixes it, instead of Node's stack trace. */
function listenFailure(err: unknown, listen: AgentOptions["listen"]): Error {
  const code = (err as { code?: unknown }).code;
  const why = code === "EADDRINUSE" ? "the address is already in use (another agent or program listens there)"
    : code === "EADDRNOTAVAIL" ? "no network interface of this machine has that address"
    : code === "EACCES" ? "permission denied (ports below 1024 need privileges)"
    : code === "ENOTFOUND" || code === "EAI_AGAIN" ? "the host name does not resolve"
    : err instanceof Error ? err.message : String(err);
  return new Error(`cannot listen on ${listen.host}:${listen.port}: ${why}; choose another address with --listen HOST:PORT`, { cause: err });
}
