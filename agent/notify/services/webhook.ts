// `service.webhook[.<name>]`: an HTTP request per notification, as Argo CD sends it: GET to `url` with
// the message as body, unless the template's `webhook.<name>` block sets `method`, `path` (appended to
// the URL) and `body`; `headers` and `basicAuth` from the service.
import type { Destination } from "../subscriptions.ts";
import { block, type Notification } from "../render.ts";
import { asText } from "../helpers.ts";
import { expectOk, request } from "./http.ts";
import { options, type Sender } from "./options.ts";

export function webhookSender(service: string, raw: Readonly<Record<string, unknown>>): Sender {
  const o = options(`service.webhook.${service}`, raw);
  const url = o.string("url", { required: true });
  const headers: Record<string, string> = {};
  for (const h of o.list("headers")) {
    const { name, value } = (h ?? {}) as { name?: unknown; value?: unknown };
    if (typeof name !== "string" || typeof value !== "string") throw new Error(`service.webhook.${service}: headers[] needs name and value strings`);
    headers[name] = value;
  }
  const auth = o.map("basicAuth");
  if (auth) headers.authorization = `Basic ${Buffer.from(`${asText(auth.username)}:${asText(auth.password)}`).toString("base64")}`;
  const insecureSkipVerify = o.bool("insecureSkipVerify");
  return async (n: Notification, dest: Destination, signal: AbortSignal) => {
    const own = block(n, `webhook.${dest.service}`);
    const method = typeof own?.method === "string" && own.method !== "" ? own.method.toUpperCase() : "GET";
    const path = typeof own?.path === "string" ? own.path : "";
    const target = path === "" ? url : `${url.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
    const body = own ? (typeof own.body === "string" ? own.body : "") : n.message;
    const req = { method, url: target, headers, body, insecureSkipVerify, signal };
    expectOk(await request(req), req);
  };
}
