// `service.slack[.<name>]`: with `token`, chat.postMessage at `apiURL` (default https://slack.com/api/)
// to the recipient channel, as Argo CD; with `webhookURL` (Tether's addition), an incoming webhook,
// where the channel is the webhook's own. The template's `slack` block adds `attachments` and `blocks`
// (JSON texts), `username` and `icon`. Only deliveryPolicy Post is supported: each notification is a new message.
import type { Destination } from "../subscriptions.ts";
import { block, type Notification } from "../render.ts";
import { asText } from "../helpers.ts";
import { expectOk, request } from "./http.ts";
import { options, type Sender } from "./options.ts";

function json(text: unknown, what: string): unknown {
  if (typeof text !== "string" || text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`template's ${what} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The message body both APIs take. */
export function slackPayload(n: Notification, defaults: { username: string; icon: string }): Record<string, unknown> {
  const own = block(n, "slack") ?? {};
  const username = typeof own.username === "string" && own.username !== "" ? own.username : defaults.username;
  const icon = typeof own.icon === "string" && own.icon !== "" ? own.icon : defaults.icon;
  return {
    text: n.message,
    ...(json(own.attachments, "slack.attachments") === undefined ? {} : { attachments: json(own.attachments, "slack.attachments") }),
    ...(json(own.blocks, "slack.blocks") === undefined ? {} : { blocks: json(own.blocks, "slack.blocks") }),
    ...(username ? { username } : {}),
    ...(icon === "" ? {} : /^:.+:$/.test(icon) ? { icon_emoji: icon } : { icon_url: icon }),
  };
}

export function slackSender(service: string, raw: Readonly<Record<string, unknown>>): Sender {
  const key = `service.slack${service === "slack" ? "" : `.${service}`}`;
  const o = options(key, raw);
  const token = o.string("token");
  const webhookURL = o.string("webhookURL");
  if (token === "" && webhookURL === "") throw new Error(`${key}: set token (the Web API, recipients are channels) or webhookURL (an incoming webhook)`);
  const apiURL = (o.string("apiURL") || "https://slack.com/api/").replace(/\/*$/, "/");
  const defaults = { username: o.string("username"), icon: o.string("icon") };
  const insecureSkipVerify = o.bool("insecureSkipVerify");
  return async (n: Notification, dest: Destination, signal: AbortSignal) => {
    const payload = slackPayload(n, defaults);
    if (token === "") {
      const req = { method: "POST", url: webhookURL, headers: { "content-type": "application/json" }, body: JSON.stringify(payload), insecureSkipVerify, signal };
      expectOk(await request(req), req);
      return;
    }
    const req = {
      method: "POST", url: `${apiURL}chat.postMessage`, insecureSkipVerify, signal,
      headers: { "content-type": "application/json; charset=utf-8", authorization: `Bearer ${token}` },
      body: JSON.stringify({ channel: dest.recipient, ...payload }),
    };
    const res = expectOk(await request(req), req);
    let answer: { ok?: unknown; error?: unknown } = {};
    try {
      answer = JSON.parse(res.body) as typeof answer;
    } catch { /* judged below */ }
    if (answer.ok !== true) throw new Error(`Slack refused the message to ${dest.recipient}: ${asText(answer.error ?? res.body.slice(0, 200))}`);
  };
}
