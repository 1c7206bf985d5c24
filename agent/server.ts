// The agent's HTTP surface: probes, Prometheus metrics, and the git webhook that triggers a refresh.
import http from "node:http";
import type { Controller } from "./controller/controller.ts";
import type { Cluster } from "./apply/cluster.ts";

export interface ServerOptions {
  readonly controller: Controller;
  readonly cluster: Cluster;
  readonly host: string;
  readonly port: number;
  /** Webhook payloads are only honoured with this token (header `X-Tether-Token` or `?token=`), when set. */
  readonly webhookToken?: string;
}

export function startServer(opts: ServerOptions): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://agent");
    const send = (code: number, body: string, type = "text/plain") => {
      res.writeHead(code, { "content-type": type });
      res.end(body);
    };
    if (url.pathname === "/healthz") return send(200, "ok\n");
    if (url.pathname === "/readyz") return opts.controller.ready ? send(200, "ok\n") : send(503, "starting\n");
    if (url.pathname === "/metrics") return send(200, metrics(opts), "text/plain; version=0.0.4");
    if (url.pathname === "/api/webhook" && req.method === "POST") return webhook(req, url, opts, send);
    return send(404, "not found\n");
  });
  return new Promise((resolve) => server.listen(opts.port, opts.host, () => resolve(server)));
}

function webhook(req: http.IncomingMessage, url: URL, opts: ServerOptions, send: (code: number, body: string) => void): void {
  const token = req.headers["x-tether-token"] ?? url.searchParams.get("token");
  if (opts.webhookToken && token !== opts.webhookToken) return send(401, "bad or missing token\n");
  let body = "";
  req.on("data", (chunk: Buffer) => { if (body.length < 1_000_000) body += chunk.toString("utf8"); });
  req.on("end", () => {
    // GitHub, GitLab and Gitea all name the repository; without one every app is refreshed.
    let repo: string | undefined;
    try {
      const payload = JSON.parse(body || "{}") as { repository?: { clone_url?: string; html_url?: string; git_http_url?: string }; repoURL?: string };
      repo = payload.repoURL ?? payload.repository?.clone_url ?? payload.repository?.git_http_url ?? payload.repository?.html_url;
    } catch {
      return send(400, "payload is not JSON\n");
    }
    const n = opts.controller.refreshRepository(repo);
    send(202, `refreshing ${n} application(s)\n`);
  });
}

function metrics(opts: ServerOptions): string {
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
