// Impersonation as destinationServiceAccounts asks for it, against the real API server's RBAC: the
// Kubernetes edge sends Impersonate-User, and the ServiceAccount's Role, not Tether, decides.
import { PatchStrategy } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppProject, Manifest } from "../../agent/api/types.ts";
import { KubeCluster } from "../../agent/apply/cluster.ts";
import { impersonationFor } from "../../agent/policy/impersonation.ts";
import { kube } from "../support/kube.ts";

const { kc, core, objects } = kube();
const TEAM = "e2e-imp-team";
const OTHER = "e2e-imp-other";
const IN_CLUSTER = "https://kubernetes.default.svc";

const configMap = (namespace: string, name: string): Manifest =>
  ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data: { VALUE: "1" } });

const project: AppProject = {
  apiVersion: "tether.dev/v1alpha1", kind: "AppProject", metadata: { name: "team" },
  spec: { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "*" }], destinationServiceAccounts: [{ server: IN_CLUSTER, namespace: "e2e-imp-*", defaultServiceAccount: "deployer" }] },
};

beforeAll(async () => {
  for (const ns of [TEAM, OTHER]) {
    await core.createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
  }
  await core.createNamespacedServiceAccount({ namespace: TEAM, body: { metadata: { name: "deployer" } } }).catch(() => undefined);
  const rbac = "rbac.authorization.k8s.io/v1";
  for (const obj of [
    { apiVersion: rbac, kind: "Role", metadata: { name: "deployer", namespace: TEAM }, rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["*"] }] },
    { apiVersion: rbac, kind: "RoleBinding", metadata: { name: "deployer", namespace: TEAM },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "deployer" }, subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: TEAM }] },
  ]) {
    await objects.patch(obj, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
  }
});

afterAll(async () => {
  for (const ns of [TEAM, OTHER]) await core.deleteNamespace({ name: ns }).catch(() => undefined);
});

describe("impersonation through destinationServiceAccounts", () => {
  it("applies and deletes what the ServiceAccount's Role allows, as that ServiceAccount", async () => {
    const as = impersonationFor(project, { server: IN_CLUSTER, namespace: TEAM });
    expect(as?.user).toBe(`system:serviceaccount:${TEAM}:deployer`);
    const cluster = new KubeCluster(kc, { impersonate: { user: as!.user } });
    const applied = await cluster.apply(configMap(TEAM, "allowed"));
    const managers = (applied.metadata.managedFields as { manager?: string }[] | undefined)?.map((m) => m.manager);
    expect(managers).toContain("tether");
    await cluster.delete({ group: "", version: "v1", kind: "ConfigMap", namespace: TEAM, name: "allowed" });
  });

  it("is refused by the API server outside the Role, where the agent's own identity would succeed", async () => {
    const as = impersonationFor(project, { server: IN_CLUSTER, namespace: OTHER });
    // The entry names `deployer` in the destination namespace, which has no such ServiceAccount or Role.
    const cluster = new KubeCluster(kc, { impersonate: { user: as!.user } });
    await expect(cluster.apply(configMap(OTHER, "denied"))).rejects.toThrow(/HTTP 403: .*system:serviceaccount:e2e-imp-other:deployer/);
    const asTeam = new KubeCluster(kc, { impersonate: { user: `system:serviceaccount:${TEAM}:deployer` } });
    await expect(asTeam.apply({ apiVersion: "v1", kind: "Secret", metadata: { name: "nope", namespace: TEAM }, stringData: { a: "b" } }))
      .rejects.toThrow(/HTTP 403/);
    // The control: without impersonation the same request goes through.
    await new KubeCluster(kc).apply(configMap(OTHER, "denied"));
  });
});
