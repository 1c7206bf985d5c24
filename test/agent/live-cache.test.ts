// The watch-fed live cache against the real control plane: what the agent applies never overwrites
// what the watch says, so an object deleted while a wave applies is seen as Missing, and selfHeal
// brings it back.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Watch, type V1ConfigMap } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRACKING_ANNOTATION, TRACKING_LABEL } from "../../agent/api/types.ts";
import { TetherClient } from "../../agent/api/client.ts";
import { inventoryOf } from "../../agent/apply/inventory.ts";
import { startAgent, cli, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, synced } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-live";
const DEST = "e2e-live-ghost";
const { kubeconfigPath, kc, core, objects } = kube();
const reader = appReader(kc, NS);

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
  writeFileSync(path.join(os.tmpdir(), `${NS}-agent.log`), agent?.logs() ?? "");
  await repo?.cleanup();
});

const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${DEST}\ndata:\n  k: v\n`;

describe("the live cache", () => {
  it("sees an object deleted right after the agent applied it as Missing, and selfHeal recreates it", async () => {
    // One wave of many objects: the first one is deleted (by someone else) while the agent still
    // applies the others, so the DELETED event arrives before the wave's answers.
    const files: Record<string, string> = {};
    for (let i = 0; i < 120; i++) files[`ghost/cm-${String(i).padStart(3, "0")}.yaml`] = configMap(`cm-${String(i).padStart(3, "0")}`);
    const rev = await repo.commit(files);
    await core.createNamespace({ body: { metadata: { name: DEST } } });
    let deleted: string | undefined;
    const watching = await new Watch(kc).watch(`/api/v1/namespaces/${DEST}/configmaps`, {}, (type: string, cm: V1ConfigMap) => {
      if (type !== "ADDED" || cm.metadata?.name !== "cm-000" || deleted !== undefined) return;
      deleted = cm.metadata.uid;
      void core.deleteNamespacedConfigMap({ name: "cm-000", namespace: DEST }).catch(() => undefined);
    }, () => undefined);
    try {
      await applyApp(objects, application("ghost", {
        repoURL: repo.url, path: "ghost", destNamespace: DEST, agentNamespace: NS,
        syncPolicy: { automated: { prune: true, selfHeal: true } },
      }));
      await eventually("cm-000 deleted once by the test", () => Promise.resolve(deleted), 60_000);
      const back = await eventually("cm-000 recreated by selfHeal", async () => {
        const cm = await core.readNamespacedConfigMap({ name: "cm-000", namespace: DEST }).catch(() => undefined);
        return cm && cm.metadata?.uid !== deleted ? cm : undefined;
      }, 30_000);
      expect(back.data).toEqual({ k: "v" });
      const app = await reader.until("ghost", "Synced", synced(rev));
      expect(app.status?.resources?.find((r) => r.name === "cm-000")?.status).toBe("Synced");
    } finally {
      watching.abort();
    }
  });

  it("prunes an object that carries the app's tracking id although its inventory does not name it (a lost status write)", async () => {
    const app = await reader.get("ghost");
    expect(inventoryOf(app.status).some((e) => e.startsWith(`${DEST}_cm-001_`))).toBe(true);
    // What a sync leaves when the agent dies between its apply and its status write: the object
    // applied and tracked, the inventory without it, Git without it.
    await core.createNamespacedConfigMap({ namespace: DEST, body: {
      metadata: { name: "lost", labels: { [TRACKING_LABEL]: "ghost" }, annotations: { [TRACKING_ANNOTATION]: `${NS}/ghost:/ConfigMap:${DEST}/lost` } },
      data: { k: "v" },
    } });
    await eventually("the orphan pruned", async () =>
      (await core.listNamespacedConfigMap({ namespace: DEST, fieldSelector: "metadata.name=lost" })).items.length === 0 ? true : undefined, 30_000);
    expect((await core.readNamespacedConfigMap({ name: "cm-001", namespace: DEST })).data).toEqual({ k: "v" });
  });

  it("prunes what the inventory of an older agent's status names, and writes the next status with the inventory folded into resources", async () => {
    // An object found only through that inventory: it carries the app's tracking id but not its label,
    // so the live cache's tracked objects do not hold it.
    await core.createNamespacedConfigMap({ namespace: DEST, body: {
      metadata: { name: "legacy", annotations: { [TRACKING_ANNOTATION]: `${NS}/ghost:/ConfigMap:${DEST}/legacy` } }, data: { k: "v" },
    } });
    // The app idle first, so that no status write of the agent's in flight replaces the one written here.
    const before = await reader.until("ghost", "Synced, nothing running", (a) => a.status?.sync?.status === "Synced" && a.status.operationState?.phase !== "Running");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const old = { ...before.status, inventory: [...inventoryOf(before.status), `${DEST}_legacy__ConfigMap_v1`] };
    delete old.inventoryFromResources;
    await new TetherClient(kc, NS).writeStatus("ghost", old);
    const refreshed = await cli(["app", "refresh", "ghost", "--namespace", NS, "--timeout", "30s"], { kubeconfig: kubeconfigPath });
    expect(refreshed.exitCode, refreshed.stderr).toBe(0);
    await eventually("the object of the old inventory pruned", async () =>
      (await core.listNamespacedConfigMap({ namespace: DEST, fieldSelector: "metadata.name=legacy" })).items.length === 0 ? true : undefined, 30_000);
    const after = await reader.until("ghost", "status rewritten", (a) => a.status?.inventory === undefined && a.status?.inventoryFromResources !== undefined);
    expect(inventoryOf(after.status)).toEqual(inventoryOf(before.status));
    expect(after.status?.resources?.find((r) => r.name === "cm-001")).toEqual({ version: "v1", kind: "ConfigMap", namespace: DEST, name: "cm-001", status: "Synced" });
  });

  it("leaves alone an object labelled for the app whose tracking id names another object (a copy)", async () => {
    await core.createNamespacedConfigMap({ namespace: DEST, body: {
      metadata: { name: "copy", labels: { [TRACKING_LABEL]: "ghost" }, annotations: { [TRACKING_ANNOTATION]: `${NS}/ghost:/ConfigMap:${DEST}/cm-001` } },
      data: { k: "copied" },
    } });
    await repo.commit({ "ghost/cm-001.yaml": configMap("cm-001").replace("k: v", "k: w") });
    await eventually("the next commit synced", async () =>
      (await core.readNamespacedConfigMap({ name: "cm-001", namespace: DEST })).data?.k === "w" ? true : undefined, 30_000);
    expect((await core.readNamespacedConfigMap({ name: "copy", namespace: DEST })).data).toEqual({ k: "copied" });
  });
});
