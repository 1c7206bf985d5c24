// Cascading deletion of a parent Application against the real control plane: what its children say
// about being deleted is honoured, as prune honours it for any object.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, cli, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-deletion";
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

const configMap = (name: string, ns: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\ndata:\n  k: v\n`;
const appsOf = async () => (await objects.list("tether.dev/v1alpha1", "Application", NS)).items.map((a) => a.metadata?.name ?? "");

describe("a parent's cascade deletion", () => {
  it("keeps a child Application marked Delete=false (either spelling) with its objects, and deletes the others", async () => {
    const child = (name: string, annotations?: Record<string, string>) => JSON.stringify(application(name, {
      repoURL: repo.url, path: name, destNamespace: `e2e-${name}`, agentNamespace: NS, finalizer: true,
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] }, ...(annotations ? { annotations } : {}),
    }));
    const rev = await repo.commit({
      "parent/kept.json": child("kept", { "tether.dev/sync-options": "Delete=false" }),
      "parent/kept-argo.json": child("kept-argo", { "argocd.argoproj.io/sync-options": "Delete=false" }),
      "parent/gone.json": child("gone"),
      "kept/cm.yaml": configMap("kept", "e2e-kept"),
      "kept-argo/cm.yaml": configMap("kept-argo", "e2e-kept-argo"),
      "gone/cm.yaml": configMap("gone", "e2e-gone"),
    });
    await applyApp(objects, application("parent", {
      repoURL: repo.url, path: "parent", destNamespace: NS, agentNamespace: NS, finalizer: true,
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    }));
    await reader.until("parent", "Synced and Healthy", syncedAndHealthy(rev), 90_000);
    for (const name of ["kept", "kept-argo", "gone"]) await reader.until(name, "Synced and Healthy", syncedAndHealthy(rev), 60_000);

    await objects.delete({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "parent", namespace: NS } });
    await eventually("the parent and its deletable child gone", async () => {
      const names = await appsOf();
      return names.includes("parent") || names.includes("gone") ? undefined : names;
    }, 60_000);
    await eventually("the deleted child's ConfigMap gone", async () =>
      (await core.listNamespacedConfigMap({ namespace: "e2e-gone", fieldSelector: "metadata.name=gone" })).items.length === 0 ? true : undefined);
    await new Promise((r) => setTimeout(r, 2000));
    const names = await appsOf();
    expect(names).toContain("kept");
    expect(names).toContain("kept-argo");
    expect((await objects.read({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "kept", namespace: NS } }))
      .metadata?.deletionTimestamp).toBeUndefined();
    expect((await core.readNamespacedConfigMap({ name: "kept", namespace: "e2e-kept" })).data).toEqual({ k: "v" });
    expect((await core.readNamespacedConfigMap({ name: "kept-argo", namespace: "e2e-kept-argo" })).data).toEqual({ k: "v" });
  });
});
