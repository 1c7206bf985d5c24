// `tether agent`: runs the reconciler against a cluster until SIGINT/SIGTERM.
import { Command } from "commander";
import { DEFAULT_NAMESPACE } from "../../agent/api/types.ts";
import { startAgent } from "../../agent/main.ts";
import { parseSize } from "../../agent/render/limits.ts";
import { DEFAULT_TIMING, checkTiming, type ElectionTiming } from "../../agent/leader/elector.ts";
import { DEFAULT_RENDER_CACHE_MB } from "../../agent/controller/memo.ts";
import { DEFAULT_APPLY_CONCURRENCY, DEFAULT_WORKERS } from "../../agent/controller/controller.ts";
import type { LogFormat, LogLevel } from "../../agent/log.ts";
import { UsageError } from "../errors.ts";
import { kubeOptions, loadKubeConfig, type KubeFlags } from "../kube.ts";
import { parseDuration } from "../output.ts";
import { useRepoTools } from "../tools.ts";

interface AgentFlags extends KubeFlags {
  readonly pollInterval: string;
  readonly pollJitter?: string;
  readonly listen: string;
  readonly cacheDir?: string;
  readonly workers: string;
  readonly applyConcurrency: string;
  readonly allowLocalRepos: boolean;
  readonly webhookAllowUnsigned: boolean;
  readonly metricsAllowUnauthenticated: boolean;
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
  readonly insecurePlainHttp: boolean;
  readonly webhookMaxPayload: string;
  readonly renderCacheSize: string;
  readonly logFormat?: string;
  readonly logLevel: string;
  readonly maxFileSize: string;
  readonly maxRenderSize: string;
  readonly maxHelmIndexSize: string;
  readonly maxChartSize: string;
  readonly leaderElect: boolean;
  readonly shards?: string;
  readonly leaderElectLeaseDuration: string;
  readonly leaderElectRenewDeadline: string;
  readonly leaderElectRetryPeriod: string;
}

/** The election timing from the flags, checked (kube-controller-manager's flag names and defaults). */
function electionTiming(flags: AgentFlags): ElectionTiming | undefined {
  if (!flags.leaderElect && flags.shards === undefined) return undefined;
  const timing = {
    leaseDurationMs: parseDuration(flags.leaderElectLeaseDuration, "--leader-elect-lease-duration"),
    renewDeadlineMs: parseDuration(flags.leaderElectRenewDeadline, "--leader-elect-renew-deadline"),
    retryPeriodMs: parseDuration(flags.leaderElectRetryPeriod, "--leader-elect-retry-period"),
  };
  try {
    checkTiming(timing);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return timing;
}

/** `--poll-jitter`, checked against the interval; absent, the agent's default (half of it). */
export function pollJitter(text: string | undefined, intervalMs: number): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text, "--poll-jitter");
  if (ms >= intervalMs) {
    throw new UsageError(`--poll-jitter ${text}: must be less than --poll-interval (${intervalMs / 1000}s), or each round would spill into the next; e.g. --poll-jitter ${intervalMs / 2000}s`);
  }
  return ms;
}

/** A positive whole number, or a usage error naming the flag. */
function countFlag(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new UsageError(`${flag} ${text}: expected a whole number of at least 1, e.g. 8`);
  return Number(text);
}

/** A size flag, or a usage error naming it. */
function sizeFlag(text: string, flag: string): number {
  try {
    return parseSize(text, flag);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** The logging and cache flags, checked. */
function logFlags(flags: AgentFlags): { logFormat?: LogFormat; logLevel: LogLevel; renderCacheMb: number } {
  if (flags.logFormat !== undefined && flags.logFormat !== "json" && flags.logFormat !== "text") {
    throw new UsageError(`--log-format ${flags.logFormat}: expected json or text`);
  }
  if (!["debug", "info", "warn", "error"].includes(flags.logLevel)) throw new UsageError(`--log-level ${flags.logLevel}: expected debug, info, warn or error`);
  const renderCacheMb = Number(flags.renderCacheSize);
  if (!Number.isFinite(renderCacheMb) || renderCacheMb <= 0) throw new UsageError(`--render-cache-size ${flags.renderCacheSize}: expected a number of MiB, e.g. 64`);
  return { ...(flags.logFormat ? { logFormat: flags.logFormat } : {}), logLevel: flags.logLevel as LogLevel, renderCacheMb };
}

export function agentCommand(): Command {
  return kubeOptions(new Command("agent")
    .description("Run the Tether agent: keep the cluster equal to the Git sources of its Applications"),
  "namespace holding Applications, AppProjects and key Secrets")
    .option("--poll-interval <duration>", "how often every repository is fetched", "60s")
    .option("--poll-jitter <duration>", "spread each poll round's apps over this window, each app at a fixed point in it "
      + "(Argo CD's timeout.reconciliation.jitter); less than --poll-interval, 0 for all at once (default: half of --poll-interval)")
    .option("--listen <host:port>", "probes (/healthz, /readyz), /metrics and /api/webhook", "127.0.0.1:8080")
    .option("--cache-dir <dir>", "git mirrors and throwaway checkouts (default: a temporary directory)")
    .option("--workers <n>", "Applications reconciled at once (one reconcile per app at a time)", String(DEFAULT_WORKERS))
    .option("--apply-concurrency <n>", "requests in flight at once within one app's reconcile: reads, dry-runs, applies of one sync wave, prunes",
      String(DEFAULT_APPLY_CONCURRENCY))
    .option("--max-file-size <size>", "largest file under an app's path a render may read (RenderTooLarge above it)", "64Mi")
    .option("--max-render-size <size>", "largest total of objects one render may produce, as JSON (RenderTooLarge above it)", "256Mi")
    .option("--max-helm-index-size <size>", "largest index.yaml a chart repository may send, counted while it streams", "64Mi")
    .option("--max-chart-size <size>", "largest chart archive (chart repository or OCI registry), counted while it streams", "32Mi")
    .option("--allow-local-repos", "serve file:// and plain-path repoURLs (demos and tests): any Application could then read every repository on the agent's disk", false)
    .option("--tls-cert-file <file>", "serving certificate (PEM) for the HTTP surface: HTTPS (with --tls-key-file; e.g. a mounted kubernetes.io/tls Secret)")
    .option("--tls-key-file <file>", "the serving certificate's private key (PEM)")
    .option("--insecure-plain-http", "serve plain HTTP on an address other than loopback (a proxy terminates TLS in front of the agent)", false)
    .option("--metrics-allow-unauthenticated", "serve /metrics to anyone who reaches the port (by default a bearer token allowed to get /metrics)", false)
    .option("--webhook-allow-unsigned", "accept unsigned /api/webhook deliveries while no webhook secret is configured (refused by default)", false)
    .option("--webhook-max-payload <size>", "largest /api/webhook body, counted while it streams (413 above it)", "1Mi")
    .option("--render-cache-size <MiB>", "memory kept for rendered manifests (least recently used evicted)", String(DEFAULT_RENDER_CACHE_MB))
    .option("--log-format <json|text>", "log lines as JSON objects or as text (default: text on a terminal, else json)")
    .option("--log-level <level>", "debug, info, warn or error", "info")
    .option("--leader-elect", "run as one of several replicas: only the holder of Lease tether-agent-leader reconciles", false)
    .option("--shards <n>", "run as one of several replicas sharing the Applications: each app belongs to one of N shards "
      + "(a hash of its name), each shard held by one replica through Lease tether-agent-shard-I-of-N; the --leader-elect-* timings apply")
    .option("--leader-elect-lease-duration <duration>", "how long a standby waits before taking over an unrenewed lease", `${DEFAULT_TIMING.leaseDurationMs / 1000}s`)
    .option("--leader-elect-renew-deadline <duration>", "how long the leader keeps leading without renewing", `${DEFAULT_TIMING.renewDeadlineMs / 1000}s`)
    .option("--leader-elect-retry-period <duration>", "how often candidates try and the leader renews", `${DEFAULT_TIMING.retryPeriodMs / 1000}s`)
    .addHelpText("after", "\nExamples:\n  tether agent --kubeconfig ./kubeconfig --poll-interval 10s\n  tether agent --leader-elect   # in a Deployment with 2 replicas\n"
      + "  tether agent --shards 3      # in a Deployment with 3 replicas (or more: a spare takes over a dead one's shard)")
    .action(async (flags: AgentFlags) => {
      const [host = "127.0.0.1", port = "8080"] = flags.listen.split(/:(?=\d+$)/);
      if (!/^\d+$/.test(port)) throw new UsageError(`--listen ${flags.listen}: expected HOST:PORT`);
      const timing = electionTiming(flags);
      const shards = flags.shards === undefined ? undefined : countFlag(flags.shards, "--shards");
      if (shards !== undefined && flags.leaderElect) throw new UsageError("--shards and --leader-elect exclude each other: with --shards every replica reconciles its share");
      const logging = logFlags(flags);
      if ((flags.tlsCertFile === undefined) !== (flags.tlsKeyFile === undefined)) throw new UsageError("--tls-cert-file and --tls-key-file go together");
      useRepoTools();
      const pollIntervalMs = parseDuration(flags.pollInterval, "--poll-interval");
      const agent = await startAgent({
        kc: loadKubeConfig(flags), namespace: flags.namespace ?? DEFAULT_NAMESPACE,
        pollIntervalMs, ...(flags.pollJitter === undefined ? {} : { pollJitterMs: pollJitter(flags.pollJitter, pollIntervalMs) }),
        listen: { host, port: Number(port) }, ...logging, allowLocalRepos: flags.allowLocalRepos,
        webhookAllowUnsigned: flags.webhookAllowUnsigned, metricsAllowUnauthenticated: flags.metricsAllowUnauthenticated,
        insecurePlainHttp: flags.insecurePlainHttp,
        ...(flags.tlsCertFile && flags.tlsKeyFile ? { tls: { certFile: flags.tlsCertFile, keyFile: flags.tlsKeyFile } } : {}), webhookMaxPayloadBytes: sizeFlag(flags.webhookMaxPayload, "--webhook-max-payload"),
        workers: countFlag(flags.workers, "--workers"), applyConcurrency: countFlag(flags.applyConcurrency, "--apply-concurrency"),
        renderLimits: { maxFileBytes: sizeFlag(flags.maxFileSize, "--max-file-size"), maxRenderBytes: sizeFlag(flags.maxRenderSize, "--max-render-size") },
        fetchLimits: { maxIndexBytes: sizeFlag(flags.maxHelmIndexSize, "--max-helm-index-size"), maxChartBytes: sizeFlag(flags.maxChartSize, "--max-chart-size") },
        ...(timing && flags.leaderElect ? { leaderElection: timing } : {}),
        ...(timing && shards !== undefined ? { sharding: { shards, timing } } : {}),
        ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
      });
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      console.log("stopping: finishing running reconciles (at most 20s)");
      // Everything the agent needs is in the cluster, so a reconcile cut short is safe; a hung one
      // must not keep a pod in Terminating.
      const deadline = setTimeout(() => {
        console.log("stopping: reconciles still running after 20s; exiting anyway");
        process.exit(0);
      }, 20_000);
      await agent.stop();
      clearTimeout(deadline);
      // Keep-alive connections to the API server must not hold the process open.
      process.exit(0);
    });
}
