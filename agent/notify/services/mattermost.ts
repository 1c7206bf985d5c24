// `service.mattermost[.<name>]`: a post in the recipient channel (its id) through `apiURL`/api/v4/posts
// with `token`; the template's `mattermost.attachments` (a JSON text) goes in the post's props.
import type { Destination } from "../subscriptions.ts";
import { block, type Notification } from "../render.ts";
import { expectOk, request } from "./http.ts";
import { options, type Sender } from "./options.ts";

export function mattermostSender(service: string, raw: Readonly<Record<string, unknown>>): Sender {
  const key = `service.mattermost${service === "mattermost" ? "" : `.${service}`}`;
  const o = options(key, raw);
  const apiURL = o.string("apiURL", { required: true }).replace(/\/+$/, "");
  const token = o.string("token", { required: true });
  const insecureSkipVerify = o.bool("insecureSkipVerify");
  return async (n: Notification, dest: Destination, signal: AbortSignal) => {
    const attachments = block(n, "mattermost")?.attachments;
    let props: Record<string, unknown> = {};
    if (typeof attachments === "string" && attachments.trim() !== "") {
      try {
        props = { attachments: JSON.parse(attachments) as unknown };
      } catch (err) {
        throw new Error(`template's mattermost.attachments is not JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const req = {
      method: "POST", url: `${apiURL}/api/v4/posts`, insecureSkipVerify, signal,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ channel_id: dest.recipient, message: n.message, props }),
    };
    expectOk(await request(req), req);
  };
}
