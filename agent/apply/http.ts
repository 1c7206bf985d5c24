// Raw JSON requests to the API server. client-node's typed serializer rewrites objects through its
// models: fields it does not know (a newer API's, `x-kubernetes-*` in CRD schemas) are silently
// dropped. A GitOps agent must send and read manifests byte-for-byte, so the cluster edge uses this.
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

export interface KubeResponse {
  readonly status: number;
  readonly body: unknown;
}

/** An API error with the server's status and message (`HTTP 409: ...`). */
export class KubeApiError extends Error {
  constructor(readonly code: number, readonly body: unknown, method: string, path: string) {
    const message = (body as { message?: string } | undefined)?.message ?? JSON.stringify(body);
    super(`HTTP ${code}: ${message} (${method} ${path.split("?")[0]})`);
  }
}

/**
 * A name or namespace as one segment of an API path. `.` and `..` are refused (HTTP 400 in the UI):
 * URL resolution would turn `/namespaces/ns/configmaps/..` into `/namespaces/ns`, another object.
 */
export function pathSegment(value: string, what = "name"): string {
  if (value === "" || value === "." || value === "..") {
    throw new KubeApiError(400, { message: `${what} "${value}" is not a valid object name; Kubernetes names are never empty, "." or ".."` }, "refused", what);
  }
  return encodeURIComponent(value);
}

/** Options of {@link KubeHttp}. */
export interface KubeHttpOptions {
  /**
   * Send every request as this user (Impersonate-User / Impersonate-Group headers): a project's
   * `destinationServiceAccounts` make apply and prune run with that ServiceAccount's RBAC. For a
   * `system:serviceaccount:NS:NAME` user the API server adds the ServiceAccount groups itself.
   */
  readonly impersonate?: { readonly user: string; readonly groups?: readonly string[] };
}

/**
 * How long the kubeconfig's request options (client certificate, bearer token) are reused. client-node
 * builds them anew for every request (and an HTTPS agent with them); a token file it re-reads at most
 * once a minute, an exec plugin's token it caches itself: a few seconds keeps rotation working.
 */
const OPTIONS_TTL_MS = 10_000;

export class KubeHttp {
  /** One keep-alive agent: a TLS handshake per request would cost more than the request. */
  private agent: https.Agent | undefined;
  private prepared: { readonly at: number; readonly options: Promise<https.RequestOptions> } | undefined;

  constructor(private readonly kc: KubeConfig, private readonly options: KubeHttpOptions = {}) {}

  /** The kubeconfig's TLS options and headers (and the impersonation headers), reused for {@link OPTIONS_TTL_MS}. */
  private baseOptions(): Promise<https.RequestOptions> {
    if (this.prepared && Date.now() - this.prepared.at < OPTIONS_TTL_MS) return this.prepared.options;
    const prepared = (async () => {
      const opts: https.RequestOptions = { headers: { accept: "application/json" } };
      await this.kc.applyToHTTPSOptions(opts);
      const as = this.options.impersonate;
      if (as !== undefined) {
        opts.headers = { ...opts.headers, "impersonate-user": as.user, ...(as.groups?.length ? { "impersonate-group": [...as.groups] } : {}) };
      }
      this.agent ??= new https.Agent({
        keepAlive: true, maxSockets: 32, ca: opts.ca, cert: opts.cert, key: opts.key,
        ...(opts.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: opts.rejectUnauthorized }),
        ...(opts.servername ? { servername: opts.servername } : {}),
      });
      return { ...opts, agent: this.agent };
    })();
    this.prepared = { at: Date.now(), options: prepared };
    // A failure (an exec plugin that failed) is not reused: the next request tries again.
    void prepared.catch(() => { if (this.prepared?.options === prepared) this.prepared = undefined; });
    return prepared;
  }

  /** Sends a request; resolves with any status, so callers decide what 404 means. */
  async request(method: string, path: string, body?: { readonly json: unknown; readonly contentType: string }): Promise<KubeResponse> {
    const server = this.kc.getCurrentCluster()?.server;
    if (!server) throw new Error("the kubeconfig names no cluster server");
    const url = new URL(path, server);
    const base = await this.baseOptions();
    const options: https.RequestOptions = { ...base, method, headers: { ...base.headers } };
    const payload = body === undefined ? undefined : JSON.stringify(body.json);
    if (payload !== undefined) options.headers = { ...options.headers, "content-type": body!.contentType, "content-length": Buffer.byteLength(payload) };
    return await new Promise<KubeResponse>((resolve, reject) => {
      const req = https.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text for the error message
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on("error", reject);
      });
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${url.pathname}: no answer from the API server in 60s`)));
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** Like request, but a status >= 400 throws KubeApiError. */
  async ok(method: string, path: string, body?: { readonly json: unknown; readonly contentType: string }): Promise<unknown> {
    const res = await this.request(method, path, body);
    if (res.status >= 400) throw new KubeApiError(res.status, res.body, method, path);
    return res.body;
  }
}
