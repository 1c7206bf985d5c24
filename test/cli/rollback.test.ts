// Rollback and selective sync as a user migrating from Argo CD runs them: `tether app rollback NAME
// [HISTORY_ID]` deploys an earlier entry's revision and turns automated sync off (a later commit does
// not undo it; a condition says how to turn it back on); `tether app sync NAME --resource
// GROUP:KIND:NAME` writes only the objects named and leaves the rest OutOfSync.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, synced, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { kube } from "../support/kube.ts";
import { tether } from "./support.ts";

const NS = "tether-e2e-rollback";
const { kubeconfigPath, kc, core, objects } = kube();
const reader = appReader(kc, NS);
const run = (args: readonly string[]) => tether([...args, "-n", NS], { kubeconfig: kubeconfigPath });

const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  VALUE: "${value}"\n`;
const valueOf = async (name: string, namespace: string) => {
  try {
    return (await core.readNamespacedConfigMap({ name, namespace })).data?.VALUE;
  } catch {
    return undefined;
  }
};

let repo: TestRepo;
let agent: AgentProcess;

beforeAll(async () => {
  const installed = await tether(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  repo = await createRepo();
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "2s" });
});

afterAll(async () => {
  await agent?.stop();
  await repo?.cleanup();
});

describe("tether app rollback", () => {
  const dest = "e2e-rollback-web";

  it("deploys the entry before the current one, turns automated sync off, and a later commit does not undo it", async () => {
    const v1 = await repo.commit({ "web/cm.yaml": configMap("web", "v1") }, "web v1");
    await applyApp(objects, application("web", {
      repoURL: repo.url, path: "web", destNamespace: dest, agentNamespace: NS,
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    }));
    await reader.until("web", "v1 Synced and Healthy", syncedAndHealthy(v1));
    const v2 = await repo.commit({ "web/cm.yaml": configMap("web", "v2") }, "web v2");
    await reader.until("web", "v2 Synced", synced(v2), 120_000);
    expect(await valueOf("web", dest)).toBe("v2");

    const rolled = await run(["app", "rollback", "web"]);
    expect(rolled.exitCode, rolled.stderr).toBe(0);
    expect(rolled.stdout).toMatch(/rolled back to history entry 0 \(\w{7}\): Succeeded/);
    expect(rolled.stdout).toContain("automated sync is now off");
    expect(await valueOf("web", dest)).toBe("v1");

    const app = await reader.get("web");
    expect(app.spec.syncPolicy?.automated).toBeUndefined();
    const condition = app.status?.conditions?.find((c) => c.type === "RolledBack");
    expect(condition?.message).toContain(v1.slice(0, 7));
    expect(condition?.message).toMatch(/automated/);
    // The history entry of the rollback says who started it, as Argo CD's initiatedBy.
    const last = app.status?.history?.at(-1);
    expect(last?.revision).toBe(v1);
    expect(last?.initiatedBy?.username).toBeTruthy();

    // A commit after the rollback is not deployed: the app shows OutOfSync and v1 keeps running.
    const v3 = await repo.commit({ "web/cm.yaml": configMap("web", "v3") }, "web v3");
    await reader.until("web", "OutOfSync at v3", (a) => a.status?.sync?.status === "OutOfSync" && a.status.sync.revision === v3, 120_000);
    expect(await valueOf("web", dest)).toBe("v1");
  }, 400_000);

  it("an id that is not in the history exits 3 and names the entries there are; a non-number exits 2", async () => {
    const missing = await run(["app", "rollback", "web", "99"]);
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toMatch(/no history entry 99 \(entries: 0, 1(, 2)?\)/);
    const bad = await run(["app", "rollback", "web", "latest"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("HISTORY_ID latest");
  });
});

describe("tether app sync --resource", () => {
  const dest = "e2e-rollback-pick";

  it("writes only the objects named (Argo CD's GROUP:KIND:NAME), leaves the rest OutOfSync, and a full sync takes the rest", async () => {
    const rev = await repo.commit({ "pick/a.yaml": configMap("a", "1"), "pick/b.yaml": configMap("b", "1") }, "pick");
    await applyApp(objects, application("pick", {
      repoURL: repo.url, path: "pick", destNamespace: dest, agentNamespace: NS, syncPolicy: { syncOptions: ["CreateNamespace=true"] },
    }));
    await reader.until("pick", "OutOfSync (no automated sync)", (a) => a.status?.sync?.status === "OutOfSync" && a.status.sync.revision === rev, 120_000);

    const one = await run(["app", "sync", "pick", "--resource", ":ConfigMap:a"]);
    expect(one.exitCode, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^pick: Succeeded/);
    expect(await valueOf("a", dest)).toBe("1");
    expect(await valueOf("b", dest)).toBeUndefined();
    const after = await reader.get("pick");
    expect(after.status?.sync?.status).toBe("OutOfSync");
    expect(after.status?.resources?.find((r) => r.name === "b")?.status).toBe("OutOfSync");
    expect(after.status?.history ?? []).toHaveLength(0);

    const all = await run(["app", "sync", "pick"]);
    expect(all.exitCode, all.stderr).toBe(0);
    expect(await valueOf("b", dest)).toBe("1");
    await reader.until("pick", "Synced", synced(rev));
  }, 400_000);

  it("an exclusion (!GROUP:KIND:NAME) takes everything else", async () => {
    const rev = await repo.commit({ "pick/a.yaml": configMap("a", "2"), "pick/b.yaml": configMap("b", "2") }, "pick 2");
    await reader.until("pick", "OutOfSync at the new commit", (a) => a.status?.sync?.status === "OutOfSync" && a.status.sync.revision === rev, 120_000);
    const r = await run(["app", "sync", "pick", "--resource", "!:ConfigMap:b"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await valueOf("a", dest)).toBe("2");
    expect(await valueOf("b", dest)).toBe("1");
  }, 200_000);

  it("a --resource that is not GROUP:KIND:NAME exits 2 and shows the format", async () => {
    const r = await run(["app", "sync", "pick", "--resource", "ConfigMap/a"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/expected GROUP:KIND:NAME/);
    expect(await reader.until("pick", "no operation was requested", (a) => a.operation === undefined)).toBeTruthy();
  });

  it("a --resource that matches no object of the app exits 3, names the filter and requests nothing", async () => {
    const r = await run(["app", "sync", "pick", "--resource", ":ConfigMap:nope"]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain(":ConfigMap:nope");
    expect(r.stderr).toContain("tether app get pick");
    expect((await reader.get("pick")).operation).toBeUndefined();
  });
});
