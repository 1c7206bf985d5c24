import { PatchStrategy, type V1ConfigMap } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { eventually, kube } from "../support/kube.ts";

describe("the local control plane", () => {
  const { core, apps, objects } = kube();

  it("has one fake node, Ready and without taints", async () => {
    const nodes = await core.listNode();
    expect(nodes.items.map((n) => n.metadata?.name)).toEqual(["kwok-node-0"]);
    const node = nodes.items[0];
    expect(node?.spec?.taints ?? []).toEqual([]);
    expect(node?.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("server-side applies a Namespace and a ConfigMap and reads them back", async () => {
    const apply = { pretty: undefined, dryRun: undefined, fieldManager: "tether-smoke", force: true };
    await objects.patch({ apiVersion: "v1", kind: "Namespace", metadata: { name: "smoke-ssa" } },
      apply.pretty, apply.dryRun, apply.fieldManager, apply.force, PatchStrategy.ServerSideApply);
    const cm: V1ConfigMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "smoke-ssa" }, data: { MESSAGE: "hello" } };
    await objects.patch(cm, apply.pretty, apply.dryRun, apply.fieldManager, apply.force, PatchStrategy.ServerSideApply);

    const live = await core.readNamespacedConfigMap({ name: "settings", namespace: "smoke-ssa" });
    expect(live.data).toEqual({ MESSAGE: "hello" });
    expect(live.metadata?.managedFields?.map((f) => f.manager)).toContain("tether-smoke");
  });

  it("rolls out a Deployment with 2 replicas until it is Available", async () => {
    await core.createNamespace({ body: { metadata: { name: "smoke-deploy" } } });
    await apps.createNamespacedDeployment({
      namespace: "smoke-deploy",
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "web" } },
          template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } },
        },
      },
    });
    const status = await eventually("Deployment smoke-deploy/web to be Available", async () => {
      const d = await apps.readNamespacedDeployment({ name: "web", namespace: "smoke-deploy" });
      const available = d.status?.conditions?.find((c) => c.type === "Available")?.status === "True";
      return available && d.status?.readyReplicas === 2 ? d.status : undefined;
    }, 90_000);
    expect(status.availableReplicas).toBe(2);
    const pods = await core.listNamespacedPod({ namespace: "smoke-deploy" });
    expect(pods.items.map((p) => p.status?.phase)).toEqual(["Running", "Running"]);
    expect(pods.items.every((p) => p.spec?.nodeName === "kwok-node-0")).toBe(true);
  });
});
