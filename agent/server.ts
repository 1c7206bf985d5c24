// The agent's HTTP surface: probes, Prometheus metrics, the git webhook and (mounted by their own
// modules) any further routes. Each route lives with the stage it serves; this file only dispatches.
import http from "node:http";
import type { Controller } from "./controller/controller.ts";
import type { Cluster } from "./apply/cluster.ts";
import { versionBody } from "./version/version.ts";
import type { Webhook } from "./webhook/webhook.ts";
import type { UiRoutes } from "./ui/index.ts";

export interface ServerOptions {
  readonly controller: Controller;
  readonly cluster: Cluster;
  readonly host: string;
  readonly port: number;
  /** `POST /api/webhook` (agent/webhook): signed forge deliveries refresh the apps they concern. */
  readonly webhook?: Webhook;
  /** The web UI and its API (`/ui/`, `/api/v1/`), see agent/ui. */
  readonly ui?: UiRoutes;
  /** With leader election: a standby is ready (probes, metrics, webhook, version) while it waits for the lease. */
  readonly standby?: () => boolean;
}

export type Send = (code: number, body: string, type?: string) => void;

export function startServer(opts: ServerOptions): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://agent");
    const send: Send = (code, body, type = "text/plain") => {
      res.writeHead(code, { "content-type": type });
      res.end(body);
    };
    if (url.pathname === "/healthz") return send(200, "ok\n");
    if (url.pathname === "/readyz") return opts.controller.ready || opts.standby?.() ? send(200, "ok\n") : send(503, "starting\n");
    if (url.pathname === "/metrics") {
      return void opts.controller.metrics.text().then((text) => send(200, text, opts.controller.metrics.registry.contentType), (err: unknown) => send(500, String(err)));
    }
    if (url.pathname === "/version") return send(200, versionBody(), "application/json");
    if (url.pathname === "/api/webhook" && req.method === "POST" && opts.webhook) return opts.webhook.handle(req, send);
    if (opts.ui?.handles(url.pathname)) return void opts.ui.handle(req, res, url);
    return send(404, "not found\n");
  });
  // A busy or invalid address rejects (EADDRINUSE, EADDRNOTAVAIL, ENOTFOUND) instead of crashing the process.
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
