// The agent's HTTP API as the CLI reaches it after `tether login`: JSON requests and streamed bodies
// with the saved token, over HTTPS checked against the saved CA (or plain HTTP to a loopback address).
// Every failure names the server and says the next step.
import http from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import { NotFoundError, UsageError } from "../errors.ts";
import type { ServerEntry } from "./config.ts";

/** The agent refused the token (expired, logged out, deleted): exit 1 with how to log in again. */
export class LoginRequired extends Error {
  readonly exitCode = 1;
}

/** RBAC said no: exit 1 with the agent's `permission denied: ...` line. */
export class PermissionDenied extends Error {
  readonly exitCode = 1;
}

export interface ApiTarget {
  readonly server: ServerEntry;
  readonly token?: string;
  /** The context's name, for messages. */
  readonly context: string;
}

/** Plain HTTP only where nothing can listen in between (a port-forward, an agent on this machine). */
export function checkServerUrl(text: string): URL {
  const url = URL.parse(text.includes("://") ? text : `https://${text}`);
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) throw new UsageError(`${text}: expected the agent's URL, e.g. https://tether.example.com or http://127.0.0.1:8080`);
  if (url.protocol === "http:" && !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    throw new UsageError(`${text}: plain http is accepted only for a loopback address (a port-forward); use https://`);
  }
  return url;
}

export class AgentApi {
  constructor(private readonly target: ApiTarget) {}

  get server(): string {
    return this.target.server.server;
  }

  async json<T>(method: string, pathname: string, body?: unknown): Promise<T> {
    const res = await this.request(method, pathname, body);
    const text = await readAll(res);
    if ((res.statusCode ?? 0) >= 300) throw this.refusal(res.statusCode ?? 0, text, `${method} ${pathname}`);
    return JSON.parse(text) as T;
  }

  /** A streamed body (logs) copied to `out` as it comes. */
  async stream(pathname: string, out: NodeJS.WritableStream): Promise<void> {
    const res = await this.request("GET", pathname);
    if ((res.statusCode ?? 0) >= 300) throw this.refusal(res.statusCode ?? 0, await readAll(res), `GET ${pathname}`);
    for await (const chunk of res) out.write(chunk as Buffer);
  }

  private request(method: string, pathname: string, body?: unknown): Promise<http.IncomingMessage> {
    const url = new URL(pathname, this.target.server.server);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      accept: "application/json",
      ...(this.target.token ? { authorization: `Bearer ${this.target.token}` } : {}),
      ...(payload !== undefined ? { "content-type": "application/json" } : {}),
    };
    const ca = this.target.server["certificate-authority-data"];
    const options: https.RequestOptions = {
      method, headers,
      ...(url.protocol === "https:" ? { ...(ca ? { ca } : {}), rejectUnauthorized: this.target.server.insecure !== true } : {}),
    };
    return new Promise((resolve, reject) => {
      const req = (url.protocol === "https:" ? https : http).request(url, options, resolve);
      req.setTimeout(30_000, () => req.destroy(new Error("no answer within 30s")));
      req.on("error", (err) => reject(new Error(`cannot reach the agent at ${this.server} (${err.message}); check the URL and that it is served `
        + "(`kubectl -n tether-system port-forward svc/tether-agent 8080:443`); a certificate error needs `tether login --ca-file`")));
      req.end(payload);
    });
  }

  private refusal(code: number, text: string, what: string): Error {
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // not JSON: the text as it is
    }
    if (code === 401) return new LoginRequired(`${this.server}: ${message}; log in again: tether login ${this.server} --sso`);
    if (code === 403) return new PermissionDenied(`${this.server}: ${message}`);
    if (code === 404) return new NotFoundError(`${this.server}: ${message}`);
    return new Error(`${this.server}: ${what} answered ${code}: ${message}`);
  }
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
