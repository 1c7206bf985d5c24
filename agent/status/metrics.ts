// Prometheus metrics in the text exposition format.
import type { ServerOptions } from "../server.ts";

export function metricsText(opts: Pick<ServerOptions, "controller" | "cluster">): string {
  const m = opts.controller.metrics;
  const w = opts.cluster.writes;
  const a = opts.controller.client.writes;
  return [
    "# HELP tether_reconciles_total Reconciles run.", "# TYPE tether_reconciles_total counter", `tether_reconciles_total ${m.reconciles}`,
    "# HELP tether_reconcile_errors_total Reconciles that ended in an error.", "# TYPE tether_reconcile_errors_total counter",
    `tether_reconcile_errors_total ${m.reconcileErrors}`,
    "# HELP tether_kube_writes_total Write requests the agent sent to the API server, by kind of write.", "# TYPE tether_kube_writes_total counter",
    `tether_kube_writes_total{verb="apply"} ${w.apply}`, `tether_kube_writes_total{verb="apply_dry_run"} ${w.dryRun}`,
    `tether_kube_writes_total{verb="delete"} ${w.delete}`, `tether_kube_writes_total{verb="status"} ${a.status}`,
    `tether_kube_writes_total{verb="patch"} ${a.patch}`, `tether_kube_writes_total{verb="event"} ${a.event}`, "",
  ].join("\n");
}
