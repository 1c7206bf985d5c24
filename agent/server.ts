// The agent's HTTP surface: probes, Prometheus metrics, the git webhook and (mounted by their own
// modules) any further routes. Each route lives with the stage it serves; this file only dispatches.
import http from "node:http";
import https from "node:https";
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
  /**
   * Checks the `Authorization` header of a `/metrics` request (ui/auth.ts#metricsAccess): rejects with an
   * HttpError-like `code` 401/403. Absent, `/metrics` is open (`--metrics-allow-unauthenticated`).
   */
  readonly metricsAuth?: (authorization: string | undefined) => Promise<void>;
  /** A serving certificate and key (PEM): the surface speaks HTTPS. Absent, plain HTTP (loopback, or by flag). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

export type Send = (code: number, body: string, type?: string) => void;

export function startServer(opts: ServerOptions): Promise<http.Server> {
  const handler: http.RequestListener = (req, res) => {
    const url = new URL(req.url ?? "/", "http://agent");
    const send: Send = (code, body, type = "text/plain") => {
      res.writeHead(code, { "content-type": type });
      res.end(body);
    };
    if (url.pathname === "/healthz") return send(200, "ok\n");
    if (url.pathname === "/readyz") return opts.controller.ready || opts.standby?.() ? send(200, "ok\n") : send(503, "starting\n");
    if (url.pathname === "/metrics") return void serveMetrics(opts, req.headers.authorization, send);
    if (url.pathname === "/version") return send(200, versionBody(), "application/json");
    if (url.pathname === "/api/webhook" && req.method === "POST" && opts.webhook) return opts.webhook.handle(req, send);
    if (opts.ui?.handles(url.pathname)) return void opts.ui.handle(req, res, url);
    return send(404, "not found\n");
  };
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: "TLSv1.2" }, handler) : http.createServer(handler);
  // A busy or invalid address rejects (EADDRINUSE, EADDRNOTAVAIL, ENOTFOUND) instead of crashing the process.
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

/** `/metrics`: app, project and cluster names, so only for a caller the cluster lets read it (unless opened by flag). */
async function serveMetrics(opts: ServerOptions, authorization: string | undefined, send: Send): Promise<void> {
  try {
    await opts.metricsAuth?.(authorization);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return send(code === 401 || code === 403 ? code : 500, `${err instanceof Error ? err.message : String(err)}\n`);
  }
  try {
    send(200, await opts.controller.metrics.text(), opts.controller.metrics.registry.contentType);
  } catch (err) {
    send(500, String(err));
  }
}

/** Whether `host` is a loopback address, where plain HTTP never leaves the machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Plain HTTP carries the UI's bearer tokens and the webhook secrets' signatures in clear: only on
 * loopback, or when the operator says so (`--insecure-plain-http`, e.g. behind a TLS-terminating proxy).
 */
export function checkPlainHttp(host: string, tls: boolean, allowed: boolean): void {
  if (tls || allowed || isLoopback(host)) return;
  throw new Error(`--listen ${host}: plain HTTP on an address other machines reach would carry bearer tokens in clear; `
    + "serve TLS with --tls-cert-file and --tls-key-file (a kubernetes.io/tls Secret mounted in the pod), "
    + "or pass --insecure-plain-http when a proxy terminates TLS in front of the agent");
}
