// Notifications as an Argo CD user configures them (tether-notifications-cm, tether-notifications-secret,
// subscription annotations), delivered to real receivers on 127.0.0.1 by a real agent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTIFIED_ANNOTATION, type Application } from "../../agent/api/types.ts";
import { startAgent, cli, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, synced, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";
import { freePort, httpReceiver, smtpReceiver, type HttpReceiver, type RecordedRequest, type SmtpReceiver } from "../support/receivers.ts";

const NS = "tether-e2e-notify";
const { kubeconfigPath, core, objects } = kube();
const reader = appReader(kube().kc, NS);
const automated = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };
const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  VALUE: "${value}"\n`;
// Broken as a wrong nodeSelector breaks it: the pod is never scheduled, the rollout passes its deadline (Degraded).
const stuckDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 1
  progressDeadlineSeconds: 5
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      nodeSelector: {nowhere: "true"}
      containers:
        - name: main
          image: busybox:1.36
`;
const subscribe = (trigger: string, service: string, recipient = "") => ({ [`notifications.argoproj.io/subscribe.${trigger}.${service}`]: recipient });

let repo: TestRepo;
let agent: AgentProcess;
let hook: HttpReceiver;
let github: HttpReceiver;
let smtp: SmtpReceiver;
let latePort: number;

/** The JSON bodies the webhook got about one app. */
const about = (app: string) => hook.requests.filter((r) => r.path === "/hook/synced" || r.path === "/hook/degraded")
  .map((r) => JSON.parse(r.body) as { app: string; revision: string; trigger: string })
  .filter((b) => b.app === app);

async function settle(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  [repo, hook, github, smtp, latePort] = await Promise.all([createRepo(), httpReceiver(), httpReceiver(), smtpReceiver(), freePort()]);
  await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "tether-cm" }, data: { url: "https://tether.example.com" } } });
  await core.createNamespacedSecret({ namespace: NS, body: {
    metadata: { name: "tether-notifications-secret" },
    stringData: { "hook-token": "hook-s3cret", "hook-password": "pa55", "gh-token": "ghp_t3st" },
  } });
  await core.createNamespacedConfigMap({ namespace: NS, body: {
    metadata: { name: "tether-notifications-cm" },
    data: {
      "service.webhook.hook": `url: ${hook.url}/hook\nheaders:\n- name: X-Token\n  value: $hook-token\nbasicAuth:\n  username: tether\n  password: $hook-password\n`,
      "service.webhook.late": `url: http://127.0.0.1:${latePort}/late\n`,
      "service.github": `enterpriseBaseURL: ${github.url}\ntoken: $gh-token\n`,
      "service.email.mail": `host: 127.0.0.1\nport: ${smtp.port}\nfrom: tether@example.com\ninsecure_skip_verify: true\n`,
      // The catalog's template replaced by one of the same name, with a webhook block for each receiver.
      "template.app-sync-succeeded": [
        "message: synced {{.app.metadata.name}}",
        "webhook:",
        "  hook:",
        "    method: POST",
        "    path: /synced",
        "    body: '{\"app\": \"{{.app.metadata.name}}\", \"revision\": \"{{.app.status.operationState.syncResult.revision}}\", \"trigger\": \"on-sync-succeeded\"}'",
        "  late:",
        "    method: PUT",
        "    body: '{{.app.metadata.name}} {{.app.status.operationState.syncResult.revision}}'",
      ].join("\n"),
      "template.app-health-degraded": [
        "message: degraded {{.app.metadata.name}}",
        "webhook:",
        "  hook:",
        "    method: POST",
        "    path: /degraded",
        "    body: '{\"app\": \"{{.app.metadata.name}}\", \"revision\": \"{{.app.status.sync.revision}}\", \"trigger\": \"on-health-degraded\"}'",
      ].join("\n"),
    },
  } });
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "2s" });
});

afterAll(async () => {
  await agent?.stop();
  await Promise.all([repo?.cleanup(), hook?.close(), github?.close(), smtp?.close()]);
});

describe("a webhook subscribed to on-sync-succeeded", () => {
  it("gets one notification per successful sync at a revision: not one per reconcile, not again after a restart", async () => {
    const rev1 = await repo.commit({ "synced/cm.yaml": configMap("synced", "one") });
    await applyApp(objects, application("synced", {
      repoURL: repo.url, path: "synced", destNamespace: "e2e-notify-synced", agentNamespace: NS, syncPolicy: automated,
      annotations: subscribe("on-sync-succeeded", "hook"),
    }));
    await reader.until("synced", "Synced", synced(rev1));
    await eventually("the first notification", () => Promise.resolve(about("synced").length > 0 ? true : undefined), 30_000);
    const first = hook.requests.find((r) => r.path === "/hook/synced") as RecordedRequest;
    expect(first.method).toBe("POST");
    expect(first.headers["x-token"]).toBe("hook-s3cret");
    expect(first.headers.authorization).toBe(`Basic ${Buffer.from("tether:pa55").toString("base64")}`);
    // Reconciles go on every 2s (the poll); none of them sends again.
    await settle(8_000);
    expect(about("synced")).toEqual([{ app: "synced", revision: rev1, trigger: "on-sync-succeeded" }]);
    const app = await reader.get("synced");
    expect(Object.keys(JSON.parse(app.metadata?.annotations?.[NOTIFIED_ANNOTATION] ?? "{}") as object))
      .toEqual([expect.stringMatching(new RegExp(`^${rev1}:on-sync-succeeded:\\[0\\]\\.[\\w-]+:hook:$`))]);

    const rev2 = await repo.commit({ "synced/cm.yaml": configMap("synced", "two") });
    await reader.until("synced", "Synced at the second commit", synced(rev2));
    await eventually("the second notification", () => Promise.resolve(about("synced").length === 2 ? true : undefined), 30_000);

    await agent.stop();
    agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "2s" });
    await settle(8_000);
    expect(about("synced").map((b) => b.revision)).toEqual([rev1, rev2]);
    // No secret reaches the agent's log.
    expect(agent.logs()).not.toMatch(/hook-s3cret|pa55|ghp_t3st/);
  });
});

describe("a webhook subscribed to on-health-degraded", () => {
  it("gets one notification for a degradation however often the app is reconciled, and none for a trigger it did not subscribe", async () => {
    const rev = await repo.commit({ "degraded/deploy.yaml": stuckDeployment });
    await applyApp(objects, application("degrading", {
      repoURL: repo.url, path: "degraded", destNamespace: "e2e-notify-degraded", agentNamespace: NS, syncPolicy: automated,
      annotations: subscribe("on-health-degraded", "hook"),
    }));
    await reader.until("degrading", "Degraded", (a: Application) => a.status?.health?.status === "Degraded", 120_000);
    await eventually("the degradation notification", () => Promise.resolve(about("degrading").length > 0 ? true : undefined), 30_000);
    await settle(8_000);
    // Its syncs succeeded too, but it subscribed on-health-degraded only.
    expect(about("degrading")).toEqual([{ app: "degrading", revision: rev, trigger: "on-health-degraded" }]);
  });
});

describe("GitHub and email", () => {
  it("sets a commit status on the deployed commit and sends an email over STARTTLS, each from one annotation", async () => {
    const rev = await repo.commit({ "deployed/cm.yaml": configMap("deployed", "yes") });
    await applyApp(objects, application("deployed", {
      repoURL: repo.url, path: "deployed", destNamespace: "e2e-notify-deployed", agentNamespace: NS, syncPolicy: automated,
      annotations: { ...subscribe("on-deployed", "github"), ...subscribe("on-deployed", "mail", "dev@example.com, ops@example.com") },
    }));
    await reader.until("deployed", "Synced and Healthy", syncedAndHealthy(rev));
    const status = await eventually("a commit status", () => Promise.resolve(github.requests.find((r) => r.path.includes(`/statuses/${rev}`))), 30_000);
    expect(status.method).toBe("POST");
    expect(status.path).toMatch(new RegExp(`^/api/v3/repos/[^/]+/[^/]+/statuses/${rev}$`));
    expect(status.headers.authorization).toBe("Bearer ghp_t3st");
    expect(JSON.parse(status.body)).toMatchObject({ state: "success", context: "tether/deployed" });
    const mail = await eventually("an email", () => Promise.resolve(smtp.mails.find((m) => m.subject.includes("deployed"))), 30_000);
    expect(mail).toMatchObject({ from: "tether@example.com", to: ["dev@example.com", "ops@example.com"], secure: true });
    expect(mail.subject).toBe("New version of an application deployed is up and running.");
    const body = mail.raw.replace(/=\r?\n/g, "");
    expect(body).toContain(`Application deployed is now running revision ${rev} of its manifests.`);
    // .context.argocdUrl is tether-cm's url.
    expect(body).toContain("Application details: https://tether.example.com/applications/deployed.");
  });
});

describe("a receiver that is down", () => {
  it("is retried with backoff until it answers, and the app syncs meanwhile", async () => {
    const rev = await repo.commit({ "late/cm.yaml": configMap("late", "v") });
    await applyApp(objects, application("late", {
      repoURL: repo.url, path: "late", destNamespace: "e2e-notify-late", agentNamespace: NS, syncPolicy: automated,
      annotations: subscribe("on-sync-succeeded", "late"),
    }));
    await reader.until("late", "Synced and Healthy while the receiver is down", syncedAndHealthy(rev));
    await eventually("a failed attempt in the log", () => Promise.resolve(/late: notification on-sync-succeeded to late failed \(attempt 1 of 8\)/.test(agent.logs()) ? true : undefined), 30_000);
    const late = await httpReceiver(undefined, latePort);
    try {
      const got = await eventually("the retried notification", () => Promise.resolve(late.requests[0]), 60_000);
      expect([got.method, got.path, got.body]).toEqual(["PUT", "/late", `late ${rev}`]);
      await settle(3_000);
      expect(late.requests).toHaveLength(1);
    } finally {
      await late.close();
    }
    expect((await core.readNamespacedConfigMap({ name: "late", namespace: "e2e-notify-late" })).data?.VALUE).toBe("v");
  });
});

describe("tether notifications", () => {
  const run = (args: string[]) => cli([...args, "-n", NS], { kubeconfig: kubeconfigPath });

  it("lists the templates and prints what one produces for an app", async () => {
    const list = await run(["notifications", "template", "list", "-o", "json"]);
    expect(list.exitCode).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual(expect.arrayContaining([
      { name: "app-sync-succeeded", from: "tether-notifications-cm", triggers: ["on-sync-succeeded"] },
      { name: "app-created", from: "catalog", triggers: ["on-created"] },
    ]));
    const app = await reader.get("synced");
    const got = await run(["notifications", "template", "get", "app-sync-succeeded", "--app", "synced", "-o", "json"]);
    expect(got.exitCode).toBe(0);
    const n = JSON.parse(got.stdout) as { message: string; webhook: { hook: { body: string } } };
    expect(n.message).toBe("synced synced");
    expect(JSON.parse(n.webhook.hook.body)).toEqual({ app: "synced", revision: app.status?.operationState?.syncResult?.revision, trigger: "on-sync-succeeded" });
    const missing = await run(["notifications", "template", "get", "nope", "--app", "synced"]);
    expect([missing.exitCode, missing.stderr]).toEqual([3, expect.stringContaining("template nope is not defined")]);
  });

  it("sends a trigger's notification now to the app's subscribers, and says which send failed", async () => {
    const before = about("synced").length;
    const sent = await run(["notifications", "test", "--trigger", "on-sync-succeeded", "--app", "synced"]);
    expect([sent.exitCode, sent.stdout]).toEqual([0, expect.stringMatching(/on-sync-succeeded\s+hook\s+app-sync-succeeded\s+yes\s+sent/)]);
    expect(about("synced")).toHaveLength(before + 1);
    // The `late` receiver is down again.
    const failed = await run(["notifications", "test", "--trigger", "on-sync-succeeded", "--app", "synced", "--recipient", "late", "-o", "json"]);
    expect(failed.exitCode).toBe(1);
    expect(JSON.parse(failed.stdout)).toEqual([expect.objectContaining({ destination: { service: "late", recipient: "" }, sent: false,
      error: expect.stringContaining(`PUT http://127.0.0.1:${latePort}`) as unknown })]);
  });
});
