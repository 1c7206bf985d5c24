// Each service against a real receiver on 127.0.0.1: what arrives is what Argo CD would send.
import { createVerify, generateKeyPairSync } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { httpReceiver, smtpReceiver, type HttpReceiver, type SmtpReceiver } from "../../../test/support/receivers.ts";
import { parseNotifyConfig } from "../config.ts";
import { DeliveryQueue, retryDelay } from "../deliver.ts";
import { notificationVars } from "../plan.ts";
import { renderNotification, type Notification } from "../render.ts";
import { githubApiBase } from "./github.ts";
import { PermanentError, senderFor } from "./index.ts";

const app = {
  metadata: { name: "guestbook" },
  spec: { source: { repoURL: "git@github.com:org/guestbook.git" } },
  status: { sync: { status: "Synced" }, health: { status: "Healthy" }, operationState: { phase: "Succeeded", syncResult: { revision: "abc123" } } },
};
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => { await Promise.all(open.splice(0).map((r) => r.close())); });
const receiver = async (respond?: Parameters<typeof httpReceiver>[0]): Promise<HttpReceiver> => {
  const r = await httpReceiver(respond);
  open.push(r);
  return r;
};
const signal = () => AbortSignal.timeout(10_000);

/** Parses a configuration, renders `template` for `service` and sends it to `recipient`. */
async function send(data: Record<string, string>, secret: Record<string, string>, template: string, [service, recipient = ""]: [string, string?]): Promise<void> {
  const { config, problems } = parseNotifyConfig(data, secret);
  expect(problems).toEqual([]);
  const def = config.services.get(service);
  if (!def) throw new Error(`no service ${service}`);
  const n: Notification = renderNotification(config, [template], notificationVars({ app, config, url: "https://tether.example.com", now: 0 }, service));
  await senderFor(def)(n, { service, recipient }, signal());
}

describe("webhook", () => {
  it("sends the message with GET by default, as Argo CD", async () => {
    const r = await receiver();
    await send({ "service.webhook": `url: ${r.url}/in` }, {}, "app-created", ["webhook"]);
    expect(r.requests.map((q) => [q.method, q.path, q.body])).toEqual([["GET", "/in", "Application guestbook has been created.\n"]]);
  });

  it("uses the template's method, path and body, the service's headers and basic auth", async () => {
    const r = await receiver();
    await send({
      "service.webhook.ci": `url: ${r.url}/base/\nheaders:\n- name: Content-Type\n  value: application/json\nbasicAuth:\n  username: u\n  password: $pw\n`,
      "template.t": "webhook:\n  ci:\n    method: post\n    path: /apps/{{.app.metadata.name}}\n    body: '{\"rev\": \"{{.app.status.operationState.syncResult.revision}}\"}'\n",
    }, { pw: "p" }, "t", ["ci"]);
    const [q] = r.requests;
    expect([q?.method, q?.path, q?.body, q?.headers["content-type"], q?.headers.authorization])
      .toEqual(["POST", "/base/apps/guestbook", "{\"rev\": \"abc123\"}", "application/json", `Basic ${Buffer.from("u:p").toString("base64")}`]);
  });

  it("fails on a non-2xx answer without the URL's path (it may hold a secret)", async () => {
    const r = await receiver(() => ({ status: 503, body: "busy" }));
    await expect(send({ "service.webhook": `url: ${r.url}/secret-token-path` }, {}, "app-created", ["webhook"]))
      .rejects.toThrow(new RegExp(`^GET ${r.url} answered 503: busy$`));
  });
});

describe("slack", () => {
  it("posts chat.postMessage to the recipient channel with the token, at a configurable API URL", async () => {
    const r = await receiver();
    await send({ "service.slack": `token: $slack-token\napiURL: ${r.url}/api\nusername: tether\nicon: ":rocket:"` },
      { "slack-token": "xoxb-1" }, "app-deployed", ["slack", "deployments"]);
    const [q] = r.requests;
    expect([q?.method, q?.path, q?.headers.authorization]).toEqual(["POST", "/api/chat.postMessage", "Bearer xoxb-1"]);
    const body = JSON.parse(q?.body ?? "{}") as Record<string, unknown>;
    expect(body).toMatchObject({ channel: "deployments", username: "tether", icon_emoji: ":rocket:" });
    expect(body.text).toContain("Application guestbook is now running revision abc123");
    expect((body.attachments as Array<Record<string, unknown>>)[0]).toMatchObject({ title: "guestbook", title_link: "https://tether.example.com/applications/guestbook" });
  });

  it("says what Slack refused", async () => {
    const r = await receiver(() => ({ status: 200, body: { ok: false, error: "channel_not_found" } }));
    await expect(send({ "service.slack": `token: t\napiURL: ${r.url}/` }, {}, "app-created", ["slack", "nope"]))
      .rejects.toThrow("Slack refused the message to nope: channel_not_found");
  });

  it("posts to an incoming webhook URL", async () => {
    const r = await receiver();
    await send({ "service.slack": "webhookURL: $hook" }, { hook: `${r.url}/services/T0/B0/XYZ` }, "app-created", ["slack"]);
    expect(r.requests.map((q) => [q.path, (JSON.parse(q.body) as { text: string }).text])).toEqual([["/services/T0/B0/XYZ", "Application guestbook has been created.\n"]]);
  });
});

describe("github", () => {
  const status = "github:\n  status:\n    state: success\n    label: ci/tether\n    targetURL: '{{.context.argocdUrl}}/applications/{{.app.metadata.name}}'\n";

  it("sets a commit status with a token on GitHub Enterprise's API path", async () => {
    const r = await receiver();
    await send({ "service.github": `token: $t\nenterpriseBaseURL: ${r.url}`, "template.t": `message: deployed\n${status}` }, { t: "ghp_1" }, "t", ["github"]);
    const [q] = r.requests;
    expect([q?.method, q?.path, q?.headers.authorization]).toEqual(["POST", "/api/v3/repos/org/guestbook/statuses/abc123", "Bearer ghp_1"]);
    expect(JSON.parse(q?.body ?? "")).toEqual({ state: "success", description: "deployed", context: "ci/tether", target_url: "https://tether.example.com/applications/guestbook" });
  });

  it("authenticates as a GitHub App: a JWT signed with the app's key buys an installation token", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const r = await receiver((q) => (q.path === "/api/v3/app/installations/42/access_tokens"
      ? { status: 201, body: { token: "ghs_installation", expires_at: new Date(Date.now() + 3600_000).toISOString() } } : undefined));
    const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    const data = { "service.github": `appID: 7\ninstallationID: 42\nprivateKey: $key\nenterpriseBaseURL: ${r.url}/api/v3`, "template.t": status };
    await send(data, { key: pem }, "t", ["github"]);
    const [token, statusCall] = r.requests;
    const jwt = (token?.headers.authorization ?? "").replace(/^Bearer /, "").split(".");
    expect(createVerify("RSA-SHA256").update(`${jwt[0]}.${jwt[1]}`).verify(publicKey, Buffer.from(jwt[2] ?? "", "base64url"))).toBe(true);
    expect(JSON.parse(Buffer.from(jwt[1] ?? "", "base64url").toString())).toMatchObject({ iss: "7" });
    expect([statusCall?.path, statusCall?.headers.authorization]).toEqual(["/api/v3/repos/org/guestbook/statuses/abc123", "Bearer ghs_installation"]);
  });

  it("creates a deployment for the commit and its status", async () => {
    const r = await receiver((q) => (q.method === "GET" ? { status: 200, body: [] } : q.path.endsWith("/deployments") ? { status: 201, body: { id: 9 } } : undefined));
    await send({
      "service.github": `token: t\nenterpriseBaseURL: ${r.url}`,
      "template.t": "github:\n  deployment:\n    state: success\n    environment: prod\n    environmentURL: https://prod.example.com\n    requiredContexts: []\n",
    }, {}, "t", ["github"]);
    expect(r.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      "GET /api/v3/repos/org/guestbook/deployments?ref=abc123&environment=prod",
      "POST /api/v3/repos/org/guestbook/deployments",
      "POST /api/v3/repos/org/guestbook/deployments/9/statuses",
    ]);
    expect(JSON.parse(r.requests[1]?.body ?? "")).toEqual({ ref: "abc123", environment: "prod", required_contexts: [], auto_merge: true, transient_environment: false });
    expect(JSON.parse(r.requests[2]?.body ?? "")).toMatchObject({ state: "success", environment: "prod", environment_url: "https://prod.example.com" });
  });

  it.each([
    ["", "https://api.github.com/"],
    ["https://ghe.example.com", "https://ghe.example.com/api/v3/"],
    ["https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/"],
    ["https://api.ghe.example.com/", "https://api.ghe.example.com/"],
  ])("enterpriseBaseURL %j is the API at %s", (base, want) => {
    expect(githubApiBase(base)).toBe(want);
  });

  it("does not retry 'too many statuses' (422)", async () => {
    const r = await receiver(() => ({ status: 422, body: { message: "too many" } }));
    await expect(send({ "service.github": `token: t\nenterpriseBaseURL: ${r.url}`, "template.t": status }, {}, "t", ["github"]))
      .rejects.toBeInstanceOf(PermanentError);
  });
});

describe("email", () => {
  it("sends over STARTTLS to every address of the recipient", async () => {
    const smtp: SmtpReceiver = await smtpReceiver();
    open.push(smtp);
    await send({ "service.email": `host: 127.0.0.1\nport: ${smtp.port}\nfrom: $from\nusername: tether\npassword: $pw\ninsecure_skip_verify: true` },
      { from: "tether@example.com", pw: "secret" }, "app-sync-succeeded", ["email", "a@example.com, b@example.com"]);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]).toMatchObject({ from: "tether@example.com", to: ["a@example.com", "b@example.com"], secure: true,
      subject: "Application guestbook has been successfully synced." });
  });

  it("refuses a server whose certificate it cannot verify unless told to skip the check", async () => {
    const smtp = await smtpReceiver();
    open.push(smtp);
    await expect(send({ "service.email": `host: 127.0.0.1\nport: ${smtp.port}\nfrom: t@example.com` }, {}, "app-created", ["email", "a@example.com"]))
      .rejects.toThrow(/SMTP 127.0.0.1:\d+: .*(certificate|self.signed)/i);
    expect(smtp.mails).toHaveLength(0);
  });
});

describe("mattermost", () => {
  it("posts to the channel with the token", async () => {
    const r = await receiver();
    await send({ "service.mattermost": `apiURL: ${r.url}\ntoken: mm` }, {}, "app-created", ["mattermost", "chan1"]);
    expect([r.requests[0]?.path, r.requests[0]?.headers.authorization]).toEqual(["/api/v4/posts", "Bearer mm"]);
    expect(JSON.parse(r.requests[0]?.body ?? "")).toMatchObject({ channel_id: "chan1", message: "Application guestbook has been created.\n" });
  });
});

describe("the delivery queue", () => {
  it.each([[2, 1000], [3, 2000], [4, 4000], [9, 60_000]])("waits before attempt %i %i ms", (attempt, ms) => {
    expect(retryDelay(attempt, 1000, 60_000)).toBe(ms);
  });

  it("retries a failing send with backoff until it succeeds, and stops at once on a permanent error", async () => {
    const log: string[] = [];
    const queue = new DeliveryQueue({ log: (l) => log.push(l), backoffMs: 10, maxBackoffMs: 20 });
    let calls = 0;
    const results: boolean[] = [];
    const job = (send: () => Promise<void>) => ({
      app: "a", trigger: "t", destination: { service: "s", recipient: "" }, notification: { message: "" },
      send, done: (ok: boolean) => results.push(ok),
    });
    queue.add(job(() => (++calls < 3 ? Promise.reject(new Error("down")) : Promise.resolve())));
    queue.add(job(() => Promise.reject(new PermanentError("no"))));
    await queue.drained();
    expect([calls, results.sort()]).toEqual([3, [false, true]]);
    expect(log.filter((l) => l.includes("retrying"))).toHaveLength(2);
    expect(log).toContain("a: notification t to s failed: no; not retried");
  });
});
