// Prometheus metrics, as the anchors name theirs: a reconcile-duration histogram by result (Flux's
// gotk_reconcile_duration_seconds), one info series per app with its sync and health (Argo CD's
// argocd_app_info), queue depth, git fetch time, objects applied and pruned, and the write requests
// sent to the API server (the no-op guarantee is read from tether_kube_writes_total).
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Application } from "../api/types.ts";
import type { Change } from "../apply/changeset.ts";

export interface WriteCounts {
  readonly cluster: Readonly<Record<"apply" | "dryRun" | "delete" | "create", number>>;
  readonly client: Readonly<Record<"status" | "patch" | "event", number>>;
}

export class AgentMetrics {
  readonly registry = new Registry();
  readonly reconcileDuration = new Histogram({
    name: "tether_reconcile_duration_seconds", help: "Time one reconcile of one Application took, by result.",
    labelNames: ["result"], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [this.registry],
  });
  readonly gitFetchDuration = new Histogram({
    name: "tether_git_fetch_duration_seconds", help: "Time a git fetch took, by outcome.",
    labelNames: ["outcome"], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry],
  });
  readonly objects = new Counter({
    name: "tether_objects_total", help: "Objects a sync acted on, by action (created, configured, deleted, failed, skipped).",
    labelNames: ["action"], registers: [this.registry],
  });
  readonly builds = new Counter({
    name: "tether_builds_total",
    help: "Builds of an app's manifests, by how they were had: rendered, cached (same inputs), kept (a new commit that changed nothing the render reads).",
    labelNames: ["outcome"], registers: [this.registry],
  });
  private readonly appInfo = new Gauge({
    name: "tether_app_info", help: "One series per Application with its sync and health status (value 1).",
    labelNames: ["name", "namespace", "project", "dest_server", "sync_status", "health_status"], registers: [this.registry],
  });
  private readonly info = new Map<string, Record<string, string>>();
  /** Plain counts as well, for in-process readers (the benchmark). */
  reconciles = 0;
  reconcileErrors = 0;

  constructor(sources: {
    readonly queueDepth: () => number; readonly writes: () => WriteCounts;
    readonly live: () => { readonly objects: number; readonly reads: Readonly<Record<"cache" | "get" | "list" | "skipped", number>> };
  }) {
    const writes = () => sources.writes();
    const counts = () => ({ reconciles: this.reconciles, errors: this.reconcileErrors });
    new Counter({ name: "tether_reconciles_total", help: "Reconciles run.", registers: [this.registry], collect() { this.reset(); this.inc(counts().reconciles); } });
    new Counter({
      name: "tether_reconcile_errors_total", help: "Reconciles that ended in an error.", registers: [this.registry],
      collect() { this.reset(); this.inc(counts().errors); },
    });
    new Gauge({
      name: "tether_live_cache_objects", help: "Managed objects held by the watch-fed live cache.", registers: [this.registry],
      collect() { this.set(sources.live().objects); },
    });
    new Counter({
      name: "tether_live_reads_total", help: "Live objects the reconciles read, by where from (cache, get, list of a namespace; skipped: not in the cache and applied without a read).",
      labelNames: ["source"], registers: [this.registry],
      collect() {
        this.reset();
        for (const [source, n] of Object.entries(sources.live().reads)) this.inc({ source }, n);
      },
    });
    new Gauge({ name: "tether_queue_depth", help: "Applications waiting to be reconciled.", registers: [this.registry], collect() { this.set(sources.queueDepth()); } });
    new Counter({
      name: "tether_kube_writes_total", help: "Write requests the agent sent to the API server, by kind of write.", labelNames: ["verb"], registers: [this.registry],
      collect() {
        const w = writes();
        this.reset();
        for (const [verb, n] of [["apply", w.cluster.apply], ["apply_dry_run", w.cluster.dryRun], ["delete", w.cluster.delete], ["create", w.cluster.create],
          ["status", w.client.status], ["patch", w.client.patch], ["event", w.client.event]] as const) this.inc({ verb }, n);
      },
    });
  }

  /** Records one reconcile: its duration and result, what its sync did, and the app's info series. */
  reconciled(app: Application, result: "success" | "error" | "progressing", seconds: number, changes: readonly Change[]): void {
    this.reconciles++;
    if (result === "error") this.reconcileErrors++;
    this.reconcileDuration.observe({ result }, seconds);
    for (const c of changes) if (c.action !== "unchanged") this.objects.inc({ action: c.action });
    const key = app.metadata?.name ?? "";
    const labels = {
      name: key, namespace: app.metadata?.namespace ?? "", project: app.spec.project ?? "default",
      dest_server: app.spec.destination.server ?? app.spec.destination.name ?? "", sync_status: app.status?.sync?.status ?? "Unknown",
      health_status: app.status?.health?.status ?? "Unknown",
    };
    const before = this.info.get(key);
    // Most reconciles find the app as it was: its series stays (removing and setting it hashes the labels twice).
    if (before && sameLabels(before, labels)) return;
    if (before) this.appInfo.remove(before);
    this.appInfo.set(labels, 1);
    this.info.set(key, labels);
  }

  /** Drops the series of a deleted app. */
  forget(name: string): void {
    const before = this.info.get(name);
    if (before) this.appInfo.remove(before);
    this.info.delete(name);
  }

  async text(): Promise<string> {
    return await this.registry.metrics();
  }
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  for (const key of Object.keys(b)) if (a[key] !== b[key]) return false;
  return true;
}
