// Other clusters: an Application whose destination is a second, real control plane is applied there,
// healed there, and deleted there with cascade; one naming an unknown cluster changes nothing anywhere.
import { writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application } from "../../agent/api/types.ts";
import { startControlPlane, type ControlPlane } from "../harness/controlplane.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, hasCondition, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-destinations";
const DEST = "faraway";
const { kubeconfigPath, core, objects } = kube();
const reader = appReader(kube().kc, NS);

let second: ControlPlane;
let remote: CoreV1Api;
let repo: TestRepo;
let agent: AgentProcess;

const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  MESSAGE: "${value}"\n`;

function remoteApp(name: string, destination: Application["spec"]["destination"], finalizer = false): Application {
  const app = application(name, {
    repoURL: repo.url, path: "remote", destNamespace: DEST, agentNamespace: NS, finalizer,
    syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
  });
  return { ...app, spec: { ...app.spec, destination: { ...destination, namespace: DEST } } };
}

const remoteConfigMap = async (name: string) => await remote.readNamespacedConfigMap({ name, namespace: DEST }).catch(() => undefined);

beforeAll(async () => {
  second = await startControlPlane({ dir: await mkdtemp(path.join(os.tmpdir(), "tether-test-second-")), ownerPid: process.pid });
  const kc = new KubeConfig();
  kc.loadFromFile(second.kubeconfigPath);
  remote = kc.makeApiClient(CoreV1Api);
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  const added = await cli(["cluster", "add", "second", "--kubeconfig", second.kubeconfigPath, "--agent-kubeconfig", kubeconfigPath, "-n", NS],
    { kubeconfig: kubeconfigPath });
  expect(added.exitCode, added.stderr).toBe(0);
  repo = await createRepo();
  await repo.commit({ "remote/config.yaml": configMap("settings", "from git") });
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  writeFileSync(path.join(os.tmpdir(), `${NS}-agent.log`), agent?.logs() ?? "");
  await second?.stop();
});

describe("an Application for another cluster", () => {
  it("is applied to the cluster its cluster Secret names, and not to the agent's own", async () => {
    await applyApp(objects, remoteApp("by-name", { name: "second" }, true));
    await reader.until("by-name", "Synced and Healthy", syncedAndHealthy());
    expect((await remoteConfigMap("settings"))?.data?.MESSAGE).toBe("from git");
    await expect(core.readNamespacedConfigMap({ name: "settings", namespace: DEST })).rejects.toThrow();
  });

  it("is healed there when someone edits the object by hand", async () => {
    await remote.patchNamespacedConfigMap({ name: "settings", namespace: DEST, body: [{ op: "replace", path: "/data/MESSAGE", value: "by hand" }] },
      { headers: { "Content-Type": "application/json-patch+json" } } as never);
    await eventually("the edit reverted on the second cluster", async () => (await remoteConfigMap("settings"))?.data?.MESSAGE === "from git" || undefined, 30_000);
  });

  it("takes its objects with it from that cluster when deleted with cascade", async () => {
    await objects.delete({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "by-name", namespace: NS } });
    await eventually("the ConfigMap gone from the second cluster", async () => (await remoteConfigMap("settings")) === undefined || undefined, 60_000);
    await eventually("the Application gone", async () => (await reader.get("by-name").then(() => false, () => true)) || undefined, 30_000);
  });

  it("finds the cluster by server URL as well as by name", async () => {
    await applyApp(objects, remoteApp("by-server", { server: second.server }));
    await reader.until("by-server", "Synced and Healthy", syncedAndHealthy());
    expect((await remoteConfigMap("settings"))?.data?.MESSAGE).toBe("from git");
  });
});

describe("an Application for a cluster nobody configured", () => {
  it("gets a condition naming the cluster, and nothing changes in either cluster", async () => {
    await repo.commit({ "unknown/config.yaml": configMap("nowhere", "x") });
    const app = remoteApp("unknown", { server: "https://10.255.0.1:6443" });
    await applyApp(objects, { ...app, spec: { ...app.spec, source: { ...app.spec.source!, path: "unknown" } } });
    const seen = await reader.until("unknown", "an InvalidSpecError condition", hasCondition("InvalidSpecError"));
    expect(seen.status?.conditions?.find((c) => c.type === "InvalidSpecError")?.message).toContain("https://10.255.0.1:6443");
    expect(await remoteConfigMap("nowhere")).toBeUndefined();
    await expect(core.readNamespacedConfigMap({ name: "nowhere", namespace: DEST })).rejects.toThrow();
  });
});
