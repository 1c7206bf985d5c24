// One HTTP request for a notification service: node's http/https (a webhook may be a GET with a body,
// as Argo CD sends it), a deadline through the caller's signal, and messages that name the service and
// the receiver's origin but never the rest of a URL (Slack's and other webhook URLs carry a secret).
import http from "node:http";
import https from "node:https";

export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly insecureSkipVerify?: boolean;
  readonly signal: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  /** At most 64 KiB of the body. */
  readonly body: string;
}

/** A failure that trying again cannot fix (a 422 from GitHub's statuses API): not retried. */
export class PermanentError extends Error {
  override readonly name = "PermanentError";
}

const MAX_BODY = 64 * 1024;

/** Where a URL points, for messages: scheme, host and port only. */
export function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "an invalid URL";
  }
}

export function request(req: HttpRequest): Promise<HttpResponse> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return Promise.reject(new PermanentError("the URL is not valid; write it as http(s)://host/path"));
  }
  const client = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
  if (client === undefined) return Promise.reject(new PermanentError(`URL scheme ${url.protocol} is not http: or https:`));
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    const r = client.request(url, {
      method: req.method, signal: req.signal,
      headers: { ...req.headers, ...(body ? { "content-length": String(body.length) } : {}) },
      ...(url.protocol === "https:" && req.insecureSkipVerify ? { rejectUnauthorized: false } : {}),
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => { if (text.length < MAX_BODY) text += d.slice(0, MAX_BODY - text.length); });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
    r.on("error", (err) => reject(new Error(`${req.method} ${origin(req.url)}: ${err.message}`)));
    r.end(body);
  });
}

/** A response outside 2xx as an error naming the origin and the status, with the start of the body. */
export function expectOk(res: HttpResponse, req: Pick<HttpRequest, "method" | "url">): HttpResponse {
  if (res.status >= 200 && res.status < 300) return res;
  throw new Error(`${req.method} ${origin(req.url)} answered ${res.status}: ${res.body.slice(0, 200).trim()}`);
}
