// `npm run bench`: figures for the agent on the local control plane. It prints; it asserts nothing.
//   first sync of N objects, commit -> Synced through the webhook and through the poll,
//   drift -> reverted (selfHeal), writes during quiet reconciles, and the agent's memory.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import { TetherClient } from "../../agent/api/client.ts";
import type { Application } from "../../agent/api/types.ts";
import { startAgent } from "../../agent/main.ts";
import { install } from "../../cli/install/index.ts";
import { startControlPlane } from "../harness/controlplane.ts";
import { pathWithTools } from "../harness/paths.ts";
import { createRepo } from "../support/git.ts";

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 200);
const POLL_MS = 5000;
process.env.PATH = pathWithTools();

const dir = await mkdtemp(path.join(os.tmpdir(), "tether-bench-"));
const plane = await startControlPlane({ dir: path.join(dir, "cluster"), ownerPid: process.pid });
const kubeconfig = plane.kubeconfigPath;
const repo = await createRepo();
const report = (what: string, value: string) => console.log(`${what.padEnd(52)} ${value}`);

try {
  await install({ kubeconfig }, () => undefined);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const client = new TetherClient(kc, "tether-system");
  const files: Record<string, string> = {};
  for (let i = 0; i < OBJECTS; i++) {
    files[`bench/cm-${i}.yaml`] = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  VALUE: "0"\n`;
  }
  let rev = await repo.commit(files);
  const rssBefore = process.memoryUsage().rss;
  const agent = await startAgent({
    kc, namespace: "tether-system", pollIntervalMs: POLL_MS, listen: { host: "127.0.0.1", port: 0 },
    cacheDir: path.join(dir, "cache"), allowLocalRepos: true, log: (line) => { if (process.env.BENCH_LOG) console.error(`${new Date().toISOString()} ${line}`); },
  });
  const app: Application = {
    apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "bench", namespace: "tether-system" },
    spec: {
      source: { repoURL: repo.url, targetRevision: "main", path: "bench" },
      destination: { namespace: "bench" },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    },
  };
  const syncedAt = async (revision: string) => {
    for (;;) {
      const a = await client.getApplication("bench");
      if (a?.status?.sync?.status === "Synced" && a.status.sync.revision === revision) return Date.now();
      await sleep(50);
    }
  };

  let t0 = Date.now();
  await KubernetesObjectApi.makeApiClient(kc).patch(app, undefined, undefined, "bench", true, PatchStrategy.ServerSideApply);
  report(`first sync of ${OBJECTS} ConfigMaps`, `${((await syncedAt(rev)) - t0) / 1000} s`);

  files["bench/cm-0.yaml"] = files["bench/cm-0.yaml"]!.replace('"0"', '"1"');
  rev = await repo.commit({ "bench/cm-0.yaml": files["bench/cm-0.yaml"] });
  t0 = Date.now();
  await fetch(`http://127.0.0.1:${agent.port}/api/webhook`, { method: "POST", body: JSON.stringify({ repoURL: repo.url }) });
  report("commit -> Synced through the webhook", `${((await syncedAt(rev)) - t0) / 1000} s`);

  rev = await repo.commit({ "bench/cm-0.yaml": files["bench/cm-0.yaml"].replace('"1"', '"2"') });
  t0 = Date.now();
  report(`commit -> Synced through the poll (every ${POLL_MS / 1000} s)`, `${((await syncedAt(rev)) - t0) / 1000} s`);

  await core.patchNamespacedConfigMap({ name: "cm-7", namespace: "bench", body: [{ op: "replace", path: "/data/VALUE", value: "drift" }] });
  t0 = Date.now();
  for (;;) {
    const cm = await core.readNamespacedConfigMap({ name: "cm-7", namespace: "bench" });
    if (cm.data?.VALUE === "0") break;
    await sleep(50);
  }
  report("manual edit -> reverted (selfHeal)", `${(Date.now() - t0) / 1000} s`);

  await sleep(1000);
  const writes = () => Object.values(agent.controller.client.writes).reduce((a, b) => a + b, 0);
  const before = { writes: writes(), reconciles: agent.controller.metrics.reconciles };
  await sleep(3 * POLL_MS + 500);
  report("quiet reconciles / writes they sent", `${agent.controller.metrics.reconciles - before.reconciles} / ${writes() - before.writes}`);
  report("agent process RSS (agent + harness client)", `${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB (${Math.round(rssBefore / 2 ** 20)} MiB before the agent)`);
  await agent.stop();
} finally {
  await plane.stop();
  await repo.cleanup();
  await rm(dir, { recursive: true, force: true });
}
