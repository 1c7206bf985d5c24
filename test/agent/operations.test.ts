// What an operator relies on beyond the happy path: ownership, an unreachable source, events, the
// CLI's outputs and exit codes, and the webhook.
import { rename } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { TRACKING_ANNOTATION, TRACKING_LABEL } from "../../agent/api/types.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, hasCondition, synced, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-ops";
const { kubeconfigPath, kc, core, objects } = kube();
const reader = appReader(kc, NS);
const run = (args: string[]) => cli([...args, "-n", NS], { kubeconfig: kubeconfigPath });

const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  VALUE: "${value}"\n`;
const automated = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };

let repo: TestRepo;
let agent: AgentProcess;

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  repo = await createRepo();
  // A long poll: every change in this file must come from a trigger (watch, refresh, webhook).
  // Unsigned webhook deliveries (no secret in this namespace) are accepted only with --webhook-allow-unsigned.
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "300s", extraArgs: ["--webhook-allow-unsigned"] });
});

afterAll(async () => {
  await agent?.stop();
  await repo?.cleanup();
});

describe("ownership", () => {
  it("does not take over an object another application tracks, and says which", async () => {
    const rev = await repo.commit({ "owner/cm.yaml": configMap("shared", "owner"), "intruder/cm.yaml": configMap("shared", "intruder") });
    await applyApp(objects, application("owner", { repoURL: repo.url, path: "owner", destNamespace: "e2e-shared", agentNamespace: NS, syncPolicy: automated }));
    await reader.until("owner", "Synced", synced(rev));
    await applyApp(objects, application("intruder", { repoURL: repo.url, path: "intruder", destNamespace: "e2e-shared", agentNamespace: NS, syncPolicy: automated }));
    const app = await reader.until("intruder", "SharedResource", hasCondition("SharedResource"));
    expect(app.status?.conditions?.find((c) => c.type === "SharedResource")?.message).toMatch(/ConfigMap\/e2e-shared\/shared is already managed by tether-e2e-ops\/owner/);
    const cm = await core.readNamespacedConfigMap({ name: "shared", namespace: "e2e-shared" });
    expect(cm.data?.VALUE).toBe("owner");
    expect(cm.metadata?.annotations?.[TRACKING_ANNOTATION]).toMatch(/^tether-e2e-ops\/owner:/);
  });

  it("does not take over another application's object whose tracking label was removed by hand", async () => {
    // The live cache watches by tracking label: without it, the object is not in the cache, and the
    // intruder's first sync must still find out that the owner tracks it before writing anything.
    const rev = await repo.commit({ "owner2/cm.yaml": configMap("unlabelled", "owner"), "intruder2/cm.yaml": configMap("unlabelled", "intruder") });
    await applyApp(objects, application("owner2", { repoURL: repo.url, path: "owner2", destNamespace: "e2e-shared", agentNamespace: NS, syncPolicy: { automated: { prune: true } } }));
    await reader.until("owner2", "Synced", synced(rev));
    await core.patchNamespacedConfigMap({ name: "unlabelled", namespace: "e2e-shared", body: [{ op: "remove", path: `/metadata/labels/${TRACKING_LABEL.replace("/", "~1")}` }] },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch));
    await applyApp(objects, application("intruder2", { repoURL: repo.url, path: "intruder2", destNamespace: "e2e-shared", agentNamespace: NS, syncPolicy: automated }));
    const app = await reader.until("intruder2", "SharedResource", hasCondition("SharedResource"));
    expect(app.status?.conditions?.find((c) => c.type === "SharedResource")?.message).toMatch(/ConfigMap\/e2e-shared\/unlabelled is already managed by tether-e2e-ops\/owner2/);
    expect(app.status?.resources?.find((r) => r.name === "unlabelled")?.status).toBe("OutOfSync");
    const cm = await core.readNamespacedConfigMap({ name: "unlabelled", namespace: "e2e-shared" });
    expect(cm.data?.VALUE).toBe("owner");
    expect(cm.metadata?.annotations?.[TRACKING_ANNOTATION]).toMatch(/^tether-e2e-ops\/owner2:/);
    // And it stays so: the next reconciles read the object instead of trying to create it again.
    expect((await run(["app", "refresh", "intruder2", "--timeout", "30s"])).exitCode).toBe(0);
    const again = await reader.get("intruder2");
    expect(again.status?.conditions?.map((c) => c.type)).toContain("SharedResource");
    expect(again.status?.operationState?.startedAt, "no second sync of an object left to its owner").toBe(app.status?.operationState?.startedAt);
    expect((await core.readNamespacedConfigMap({ name: "unlabelled", namespace: "e2e-shared" })).data?.VALUE).toBe("owner");
  });

  it("reports an object another tool created before the first sync as configured, not created", async () => {
    await core.createNamespace({ body: { metadata: { name: "e2e-adopt" } } });
    await core.createNamespacedConfigMap({ namespace: "e2e-adopt", body: { metadata: { name: "by-hand" }, data: { VALUE: "by hand" } } });
    const rev = await repo.commit({ "adopt/cm.yaml": configMap("by-hand", "from git"), "adopt/new.yaml": configMap("brand-new", "from git") });
    const gets = await agent.metric('tether_live_reads_total{source="get"}');
    await applyApp(objects, application("adopt", { repoURL: repo.url, path: "adopt", destNamespace: "e2e-adopt", agentNamespace: NS, syncPolicy: automated }));
    const app = await reader.until("adopt", "Synced", synced(rev));
    const results = app.status?.operationState?.syncResult?.resources ?? [];
    expect(results.find((r) => r.name === "by-hand")?.message).toBe("configured");
    expect(results.find((r) => r.name === "brand-new")?.message).toBe("created");
    expect((await core.readNamespacedConfigMap({ name: "by-hand", namespace: "e2e-adopt" })).data?.VALUE).toBe("from git");
    // Still no GET before an apply: the object that existed was read only once its create was refused.
    expect(await agent.metric('tether_live_reads_total{source="get"}')).toBe(gets);
    const events = await eventually("a Synced event", async () => {
      const list = await core.listNamespacedEvent({ namespace: NS, fieldSelector: "involvedObject.name=adopt" });
      return list.items.find((e) => e.reason === "Synced");
    });
    expect(events.message).toContain("configured ConfigMap/e2e-adopt/by-hand");
    expect(events.message).toContain("created ConfigMap/e2e-adopt/brand-new");
  });

  it("fails the sync and applies nothing with FailOnSharedResource=true when another application tracks an object", async () => {
    const rev = await repo.commit({ "strict/cm.yaml": configMap("unlabelled", "strict"), "strict/other.yaml": configMap("strict-only", "strict") });
    await applyApp(objects, application("strict", {
      repoURL: repo.url, path: "strict", destNamespace: "e2e-shared", agentNamespace: NS,
      syncPolicy: { automated: { prune: true }, syncOptions: ["FailOnSharedResource=true"] },
    }));
    const app = await reader.until("strict", "operation Failed", (a) => a.status?.operationState?.phase === "Failed");
    expect(app.status?.operationState?.message).toMatch(/^Shared resource found: ConfigMap\/e2e-shared\/unlabelled is already managed by tether-e2e-ops\/owner2/);
    expect(app.status?.operationState?.syncResult?.revision).toBe(rev);
    expect(await core.readNamespacedConfigMap({ name: "strict-only", namespace: "e2e-shared" }).catch(() => undefined)).toBeUndefined();
    expect((await core.readNamespacedConfigMap({ name: "unlabelled", namespace: "e2e-shared" })).data?.VALUE).toBe("owner");
  });
});

describe("an unreachable git repository", () => {
  it("keeps what runs, names the URL in a SourceFailed condition, and recovers when it is back", async () => {
    const rev = await repo.commit({ "outage/cm.yaml": configMap("during-outage", "kept") });
    await applyApp(objects, application("outage", { repoURL: repo.url, path: "outage", destNamespace: "e2e-outage", agentNamespace: NS, syncPolicy: automated }));
    await reader.until("outage", "Synced", synced(rev));

    const bare = fileURLToPath(repo.url);
    await rename(bare, `${bare}.moved`);
    try {
      expect((await run(["app", "refresh", "outage", "--timeout", "30s"])).exitCode).toBe(0);
      const app = await reader.until("outage", "SourceFailed", hasCondition("SourceFailed"));
      expect(app.status?.conditions?.find((c) => c.type === "SourceFailed")?.message).toContain(bare);
      expect((await core.readNamespacedConfigMap({ name: "during-outage", namespace: "e2e-outage" })).data?.VALUE).toBe("kept");
    } finally {
      await rename(`${bare}.moved`, bare);
    }
    expect((await run(["app", "refresh", "outage", "--timeout", "30s"])).exitCode).toBe(0);
    await reader.until("outage", "recovered", (a) => synced(rev)(a) && !hasCondition("SourceFailed")(a), 60_000);
  });
});

describe("events", () => {
  it("records a Synced event on the Application with what changed", async () => {
    await reader.until("owner", "Synced", synced());
    const events = await eventually("a Synced event", async () => {
      const list = await core.listNamespacedEvent({ namespace: NS, fieldSelector: "involvedObject.name=owner" });
      return list.items.some((e) => e.reason === "Synced") ? list.items : undefined;
    });
    expect(events.find((e) => e.reason === "Synced")?.message).toContain("created ConfigMap/e2e-shared/shared");
  });
});

describe("the CLI", () => {
  it("prints the Application as the API holds it with -o json", async () => {
    const result = await run(["app", "get", "owner", "-o", "json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const app = JSON.parse(result.stdout);
    expect(app.kind).toBe("Application");
    expect(app.spec.source.path).toBe("owner");
    expect(app.status.sync.status).toBe("Synced");
    const list = JSON.parse((await run(["app", "list", "-o", "json"])).stdout) as { metadata: { name: string } }[];
    expect(list.map((a) => a.metadata.name)).toEqual(expect.arrayContaining(["owner", "intruder", "outage"]));
  });

  it("`app wait` exits 0 when the app is Synced and Healthy", async () => {
    const result = await run(["app", "wait", "owner", "--timeout", "30s"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("owner: sync=Synced health=Healthy");
  });

  it("`app wait` stops at once (exit 1) on a condition that will not clear by itself, and prints it", async () => {
    const result = await run(["app", "wait", "intruder", "--sync", "--timeout", "30s"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("stopped waiting");
    expect(result.stderr).toContain("SharedResource: ConfigMap/e2e-shared/shared is already managed");
  });

  it("`app get` of an unknown app exits 3 and says how to list them", async () => {
    const result = await run(["app", "get", "no-such-app"]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain("application no-such-app not found in namespace tether-e2e-ops");
  });

  it("a bad flag value exits 2 and names the flag", async () => {
    const result = await run(["app", "wait", "owner", "--timeout", "soon"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--timeout soon: expected a duration");
  });
});

describe("the webhook", () => {
  it("refreshes the applications of the pushed repository at once", async () => {
    const first = await repo.commit({ "hooked/cm.yaml": configMap("hook", "1") });
    await applyApp(objects, application("hooked", {
      repoURL: repo.url, path: "hooked", destNamespace: "e2e-hooked", agentNamespace: NS, syncPolicy: automated,
    }));
    await reader.until("hooked", "Synced", syncedAndHealthy(first));
    const second = await repo.commit({ "hooked/cm.yaml": configMap("hook", "2") });
    const res = await fetch(`http://127.0.0.1:${agent.port}/api/webhook`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ repository: { clone_url: repo.url } }),
    });
    expect(res.status).toBe(202);
    expect(await res.text()).toMatch(/refreshing [1-9]\d* application/);
    // The poll is 300 s: a sync well before it can only come from the webhook.
    await reader.until("hooked", "synced to the pushed commit", synced(second), 60_000);
  });
});
