// The agent against the real control plane and real git repositories: what a platform engineer
// sees after committing.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRACKING_LABEL } from "../../agent/api/types.ts";
import { startAgent, cli, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, hasCondition, synced, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-sync";
const { kubeconfigPath, kc, core, apps, objects } = kube();
const reader = appReader(kc, NS);

const configMap = (name: string, ns: string, value: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: ${ns}
data:
  MESSAGE: "${value}"
`;

const deployment = (name: string, replicas = 1) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          resources:
            requests: {cpu: 100m, memory: 64Mi}
`;

const namespaceYaml = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;

let repo: TestRepo;
let agent: AgentProcess;

beforeAll(async () => {
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  repo = await createRepo();
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
});

afterAll(async () => {
  await agent?.stop();
  // Kept for whoever reads a failure: what the agent said during the whole file.
  writeFileSync(path.join(os.tmpdir(), `${NS}-agent.log`), agent?.logs() ?? "");
  await repo?.cleanup();
});

describe("tether install", () => {
  it("is idempotent", async () => {
    const again = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain("AppProject/tether-e2e-sync/default configured");
  });
});

describe("an automated application", () => {
  const dest = "e2e-first";

  it("deploys the directory on first sync, tracks what it applied and reports Synced and Healthy", async () => {
    const rev = await repo.commit({
      "first/ns.yaml": namespaceYaml(dest),
      "first/config.yaml": configMap("settings", dest, "hello"),
      "first/deploy.yaml": deployment("web"),
    });
    await applyApp(objects, application("first", {
      repoURL: repo.url, path: "first", destNamespace: dest, agentNamespace: NS,
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    }));
    const app = await reader.until("first", "Synced and Healthy", syncedAndHealthy(rev), 90_000);
    expect(app.status?.resources?.map((r) => `${r.kind}/${r.name}:${r.status}:${r.health?.status}`).sort()).toEqual([
      "ConfigMap/settings:Synced:undefined", "Deployment/web:Synced:Healthy", "Namespace/e2e-first:Synced:Healthy",
    ]);
    expect(app.status?.history?.map((h) => h.revision)).toEqual([rev]);
    const cm = await core.readNamespacedConfigMap({ name: "settings", namespace: dest });
    expect(cm.data?.MESSAGE).toBe("hello");
    expect(cm.metadata?.labels?.[TRACKING_LABEL]).toBe("first");
    expect(cm.metadata?.managedFields?.some((f) => f.manager === "tether" && f.operation === "Apply")).toBe(true);
  });

  it("applies a commit that changes a value", async () => {
    const rev = await repo.commit({ "first/config.yaml": configMap("settings", dest, "changed") });
    await reader.until("first", "synced to the new commit", synced(rev));
    const cm = await core.readNamespacedConfigMap({ name: "settings", namespace: dest });
    expect(cm.data?.MESSAGE).toBe("changed");
  });

  it("writes nothing, and reads live state from the watch-fed cache, when neither Git nor the cluster changed", async () => {
    await reader.until("first", "Synced and Healthy", syncedAndHealthy());
    const before = await reader.get("first");
    const writes = await agent.metric("tether_kube_writes_total");
    const reconciles = await agent.metric("tether_reconciles_total");
    const gets = await agent.metric('tether_live_reads_total{source="get"}');
    const cached = await agent.metric('tether_live_reads_total{source="cache"}');
    // Polls (3 s each) reconcile every app of the agent again; the counters are the agent's, not this
    // app's, so wait for at least two more reconciles and six more reads from the cache (this app's three
    // objects, twice) and then check that nothing was written and nothing was read by a GET.
    await eventually("two more reconciles, read from the cache", async () =>
      (await agent.metric("tether_reconciles_total")) >= reconciles + 2
      && (await agent.metric('tether_live_reads_total{source="cache"}')) >= cached + 6 ? true : undefined, 30_000);
    expect(await agent.metric("tether_kube_writes_total")).toBe(writes);
    expect(await agent.metric('tether_live_reads_total{source="get"}')).toBe(gets);
    const after = await reader.get("first");
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it("reverts a manual change within seconds with selfHeal", async () => {
    await apps.patchNamespacedDeployment({ name: "web", namespace: dest, body: [{ op: "replace", path: "/spec/replicas", value: 3 }] });
    await eventually("replicas back to 1", async () => {
      const d = await apps.readNamespacedDeployment({ name: "web", namespace: dest });
      return d.spec?.replicas === 1 ? true : undefined;
    }, 20_000);
  });

  it("prunes a file removed from Git", async () => {
    const rev = await repo.commit({ "first/config.yaml": null });
    await reader.until("first", "synced without the ConfigMap", (a) => synced(rev)(a) && !a.status?.resources?.some((r) => r.kind === "ConfigMap"));
    await eventually("ConfigMap deleted", async () => {
      const list = await core.listNamespacedConfigMap({ namespace: dest, labelSelector: TRACKING_LABEL });
      return list.items.length === 0 ? true : undefined;
    });
  });

  it("keeps running objects when the render fails, and says which file", async () => {
    const rev = await repo.commit({ "first/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n" });
    const app = await reader.until("first", "RenderFailed", hasCondition("RenderFailed"));
    expect(app.status?.conditions?.find((c) => c.type === "RenderFailed")?.message).toContain("first/broken.yaml");
    expect(app.status?.sync?.status).toBe("Unknown");
    expect(app.status?.sync?.revision).toBe(rev);
    const d = await apps.readNamespacedDeployment({ name: "web", namespace: dest });
    expect(d.metadata?.deletionTimestamp).toBeUndefined();
    const fixed = await repo.commit({ "first/broken.yaml": null });
    await reader.until("first", "recovered", (a) => synced(fixed)(a) && !hasCondition("RenderFailed")(a));
  });

  it("does not prune everything when the render comes out empty", async () => {
    const rev = await repo.commit({ "first/ns.yaml": null, "first/deploy.yaml": null, "first/README.md": "nothing here\n" });
    const app = await reader.until("first", "EmptyRender", hasCondition("EmptyRender"));
    expect(app.status?.conditions?.find((c) => c.type === "EmptyRender")?.message).toContain("allowEmpty");
    expect(app.status?.sync?.revision).toBe(rev);
    const d = await apps.readNamespacedDeployment({ name: "web", namespace: dest });
    expect(d.metadata?.deletionTimestamp).toBeUndefined();
  });
});

describe("an application without prune or selfHeal", () => {
  const dest = "e2e-manual";

  it("reports drift and a removed file as OutOfSync and changes nothing", async () => {
    const rev = await repo.commit({
      "manual/ns.yaml": namespaceYaml(dest),
      "manual/a.yaml": configMap("a", dest, "1"),
      "manual/b.yaml": configMap("b", dest, "2"),
    });
    await applyApp(objects, application("manual", {
      repoURL: repo.url, path: "manual", destNamespace: dest, agentNamespace: NS, syncPolicy: { automated: { prune: false, selfHeal: false } },
    }));
    await reader.until("manual", "Synced", synced(rev));

    await core.patchNamespacedConfigMap({ name: "a", namespace: dest, body: [{ op: "replace", path: "/data/MESSAGE", value: "edited" }] });
    const drifted = await reader.until("manual", "OutOfSync after a manual edit", (a) => a.status?.sync?.status === "OutOfSync");
    expect(drifted.status?.resources?.find((r) => r.name === "a")?.status).toBe("OutOfSync");
    expect((await core.readNamespacedConfigMap({ name: "a", namespace: dest })).data?.MESSAGE).toBe("edited");

    const removed = await repo.commit({ "manual/b.yaml": null });
    const app = await reader.until("manual", "b kept but OutOfSync", (a) => a.status?.sync?.revision === removed
      && a.status.resources?.find((r) => r.name === "b")?.status === "OutOfSync");
    expect(app.status?.sync?.status).toBe("OutOfSync");
    expect((await core.readNamespacedConfigMap({ name: "b", namespace: dest })).data?.MESSAGE).toBe("2");
  });

  it("applies and prunes on `tether app sync --prune`", async () => {
    const result = await cli(["app", "sync", "manual", "--prune", "-n", NS, "--timeout", "60s"], { kubeconfig: kubeconfigPath });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    await reader.until("manual", "Synced", synced());
    expect((await core.readNamespacedConfigMap({ name: "a", namespace: dest })).data?.MESSAGE).toBe("1");
    await eventually("b pruned", async () => (await core.listNamespacedConfigMap({ namespace: dest, fieldSelector: "metadata.name=b" })).items.length === 0 ? true : undefined);
  });
});

describe("app of apps", () => {
  it("reconciles applications rendered by an application, two levels deep, and cascades deletion with the finalizer", async () => {
    const child = (name: string, path: string, dest: string) => JSON.stringify(application(name, {
      repoURL: repo.url, path, destNamespace: dest, agentNamespace: NS, finalizer: true,
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    }));
    const rev = await repo.commit({
      "root/level1.json": child("level1", "level1", "e2e-level1"),
      "level1/level2.json": child("level2", "level2", "e2e-level2"),
      "level1/cm.yaml": configMap("one", "e2e-level1", "1"),
      "level2/cm.yaml": configMap("two", "e2e-level2", "2"),
    });
    await applyApp(objects, application("root", {
      repoURL: repo.url, path: "root", destNamespace: NS, agentNamespace: NS, finalizer: true,
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    }));
    await reader.until("root", "Synced and Healthy", syncedAndHealthy(rev), 90_000);
    await reader.until("level2", "Synced and Healthy", syncedAndHealthy(rev));
    expect((await core.readNamespacedConfigMap({ name: "two", namespace: "e2e-level2" })).data?.MESSAGE).toBe("2");
    const root = await reader.get("root");
    expect(root.status?.resources?.map((r) => `${r.kind}/${r.name}:${r.health?.status}`)).toEqual(["Application/level1:Healthy"]);

    await objects.delete({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "root", namespace: NS } });
    await eventually("level2's ConfigMap deleted", async () =>
      (await core.listNamespacedConfigMap({ namespace: "e2e-level2", fieldSelector: "metadata.name=two" })).items.length === 0 ? true : undefined, 60_000);
    await eventually("all three applications gone", async () => {
      const list = await objects.list("tether.dev/v1alpha1", "Application", NS);
      return list.items.every((a) => !["root", "level1", "level2"].includes(a.metadata?.name ?? "")) ? true : undefined;
    }, 60_000);
  });

  it("leaves resources in place when an application without the finalizer is deleted", async () => {
    const rev = await repo.commit({ "keep/cm.yaml": configMap("kept", "e2e-keep", "1") });
    await applyApp(objects, application("keep", {
      repoURL: repo.url, path: "keep", destNamespace: "e2e-keep", agentNamespace: NS,
      syncPolicy: { automated: { prune: true }, syncOptions: ["CreateNamespace=true"] },
    }));
    await reader.until("keep", "Synced", synced(rev));
    await objects.delete({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "keep", namespace: NS } });
    await eventually("keep gone", async () => (await objects.list("tether.dev/v1alpha1", "Application", NS)).items.some((a) => a.metadata?.name === "keep") ? undefined : true);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await core.readNamespacedConfigMap({ name: "kept", namespace: "e2e-keep" })).data?.MESSAGE).toBe("1");
  });
});

describe("restarts", () => {
  it("converges after the agent is killed in the middle of a sync", async () => {
    const files: Record<string, string> = { "restart/ns.yaml": namespaceYaml("e2e-restart") };
    for (let i = 0; i < 30; i++) files[`restart/cm-${i}.yaml`] = configMap(`cm-${i}`, "e2e-restart", String(i));
    const rev = await repo.commit(files);
    await applyApp(objects, application("restart", {
      repoURL: repo.url, path: "restart", destNamespace: "e2e-restart", agentNamespace: NS, syncPolicy: { automated: { prune: true, selfHeal: true } },
    }));
    await eventually("the sync to start", async () =>
      (await core.listNamespacedConfigMap({ namespace: "e2e-restart", labelSelector: TRACKING_LABEL }).catch(() => ({ items: [] }))).items.length > 0 ? true : undefined, 60_000);
    await agent.kill();
    agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
    const app = await reader.until("restart", "Synced and Healthy", syncedAndHealthy(rev), 90_000);
    expect(app.status?.resources).toHaveLength(31);
    const list = await core.listNamespacedConfigMap({ namespace: "e2e-restart", labelSelector: TRACKING_LABEL });
    expect(list.items).toHaveLength(30);
  });
});

describe("sync waves", () => {
  it("applies a later wave only once the earlier one is healthy", async () => {
    const waved = (name: string, wave: number) => deployment(name).replace("metadata:\n  name:", `metadata:\n  annotations:\n    argocd.argoproj.io/sync-wave: "${wave}"\n  name:`);
    const rev = await repo.commit({
      "waves/db.yaml": waved("db", 0),
      "waves/api.yaml": waved("api", 1),
      "waves/cm.yaml": configMap("late", "e2e-waves", "x").replace("metadata:\n", "metadata:\n  annotations:\n    tether.dev/sync-wave: \"2\"\n"),
    });
    await applyApp(objects, application("waves", {
      repoURL: repo.url, path: "waves", destNamespace: "e2e-waves", agentNamespace: NS,
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    }));
    await reader.until("waves", "Synced and Healthy", syncedAndHealthy(rev), 90_000);
    // The first sync created wave 0 only and held the rest until db was Available.
    expect(agent.logs()).toMatch(/waves: sync in progress at \w+ \([^)]*\): created 1, skipped 2/);
    const created = async (name: string) => (await apps.readNamespacedDeployment({ name, namespace: "e2e-waves" })).metadata!.creationTimestamp!;
    const db = await apps.readNamespacedDeployment({ name: "db", namespace: "e2e-waves" });
    const available = db.status?.conditions?.find((c) => c.type === "Available")?.lastTransitionTime;
    expect(new Date(await created("api")).getTime()).toBeGreaterThanOrEqual(new Date(available!).setMilliseconds(0));
    const cm = await core.readNamespacedConfigMap({ name: "late", namespace: "e2e-waves" });
    expect(new Date(cm.metadata!.creationTimestamp!).getTime()).toBeGreaterThanOrEqual(new Date(await created("api")).getTime());
  });
});
