// One pipeline, one boundary (issue 22, finding 4): the deletion path and its PostDelete hooks go through
// the same project rules and impersonation as the reconcile. Reproduced as an attacker would, through
// commits and an Application only, against a running agent on the local control plane.
import { PatchStrategy, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application } from "../../agent/api/types.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-pipeline";
const { kubeconfigPath, kc, core, objects } = kube();
const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
const reader = appReader(kc, NS);
const RBAC = "rbac.authorization.k8s.io/v1";

let repo: TestRepo;
let agent: AgentProcess;

const postDelete = { "tether.dev/hook": "PostDelete" };
const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  K: v\n`;
const hookConfigMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  annotations:\n    tether.dev/hook: PostDelete\ndata:\n  K: v\n`;
const escalation = `apiVersion: ${RBAC}
kind: ClusterRoleBinding
metadata:
  name: e2e-pipeline-escalation
  annotations: ${JSON.stringify(postDelete)}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: default, namespace: e2e-pipeline-tenant}]
`;

const missing = async (read: () => Promise<unknown>) => {
  try {
    await read();
    return false;
  } catch (err) {
    return (err as { code?: number }).code === 404;
  }
};

async function project(name: string, spec: Record<string, unknown>): Promise<void> {
  await objects.patch({ apiVersion: "tether.dev/v1alpha1", kind: "AppProject", metadata: { name, namespace: NS }, spec } as never,
    undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
}

async function withPostDeleteFinalizer(name: string): Promise<Application> {
  return await eventually("the post-delete finalizer", async () => {
    const a = await reader.get(name);
    return a.metadata?.finalizers?.includes("post-delete-finalizer.tether.dev") ? a : undefined;
  }, 60_000);
}

async function deleteAndExpectDeletionError(name: string): Promise<string> {
  await objects.delete({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name, namespace: NS } });
  const stuck = await reader.until(name, "a DeletionError condition", (a) => a.status?.conditions?.some((c) => c.type === "DeletionError") ?? false, 60_000);
  return stuck.status?.conditions?.find((c) => c.type === "DeletionError")?.message ?? "";
}

async function forget(name: string): Promise<void> {
  await objects.patch({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name, namespace: NS, finalizers: [] } } as never,
    undefined, undefined, undefined, undefined, PatchStrategy.MergePatch).catch(() => undefined);
}

beforeAll(async () => {
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  for (const ns of ["e2e-pipeline-tenant", "e2e-pipeline-imp"]) await core.createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
  repo = await createRepo();
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
});

afterAll(async () => {
  await agent?.stop();
  await repo?.cleanup();
  await rbac.deleteClusterRoleBinding({ name: "e2e-pipeline-escalation" }).catch(() => undefined);
});

describe("the agent's HTTP surface (finding 14)", () => {
  it("serves /metrics only to a bearer token allowed to get /metrics", async () => {
    const closed = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, metricsOpen: false, pollInterval: "300s" });
    try {
      const metrics = (token?: string) => fetch(`http://127.0.0.1:${closed.port}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      expect((await metrics()).status).toBe(401);
      expect((await metrics("not-a-token")).status).toBe(401);
      const token = async (name: string) => {
        await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name } } }).catch(() => undefined);
        return (await core.createNamespacedServiceAccountToken({ name, namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } })).status?.token ?? "";
      };
      const nobody = await metrics(await token("e2e-no-metrics"));
      expect(nobody.status).toBe(403);
      expect(await nobody.text()).toContain("may not get /metrics");
      await objects.patch({ apiVersion: RBAC, kind: "ClusterRole", metadata: { name: "e2e-metrics-reader" }, rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }] },
        undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
      await objects.patch({ apiVersion: RBAC, kind: "ClusterRoleBinding", metadata: { name: "e2e-metrics-reader" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "e2e-metrics-reader" },
        subjects: [{ kind: "ServiceAccount", name: "e2e-prometheus", namespace: NS }] }, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
      const prometheus = await metrics(await token("e2e-prometheus"));
      expect(prometheus.status).toBe(200);
      expect(await prometheus.text()).toContain("tether_reconciles_total");
    } finally {
      await closed.stop();
    }
  });
});

describe("the UI's diff goes through the project (finding 6)", () => {
  it("refuses to show a kube-system object a tenant's app names, where it showed its live content", async () => {
    await project("tenant", { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "e2e-pipeline-tenant" }] });
    await repo.commit({ "leak/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extension-apiserver-authentication\n  namespace: kube-system\ndata: {}\n" });
    await applyApp(objects, application("leak", { repoURL: repo.url, path: "leak", destNamespace: "e2e-pipeline-tenant", agentNamespace: NS, project: "tenant" }));
    // A person allowed to read Applications, nothing in kube-system.
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: "e2e-ui-reader" } } }).catch(() => undefined);
    for (const obj of [
      { apiVersion: RBAC, kind: "Role", metadata: { name: "e2e-ui-reader", namespace: NS }, rules: [{ apiGroups: ["tether.dev"], resources: ["applications"], verbs: ["get", "list"] }] },
      { apiVersion: RBAC, kind: "RoleBinding", metadata: { name: "e2e-ui-reader", namespace: NS },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "e2e-ui-reader" }, subjects: [{ kind: "ServiceAccount", name: "e2e-ui-reader", namespace: NS }] },
    ]) await objects.patch(obj, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
    const token = (await core.createNamespacedServiceAccountToken({ name: "e2e-ui-reader", namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } })).status?.token ?? "";
    const res = await fetch(`http://127.0.0.1:${agent.port}/api/v1/applications/leak/diff`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.text();
    expect(body).toMatch(/ConfigMap\/kube-system\/extension-apiserver-authentication: .*not .*permitted/);
    expect(body).not.toContain("client-ca-file");
    expect(res.status).not.toBe(200);
  });
});

describe("the deletion path goes through the project and impersonation (finding 4)", () => {
  it("refuses a PostDelete ClusterRoleBinding the project forbids: the deletion waits and the binding never exists", async () => {
    // Only namespaced kinds in one namespace, as a platform team gives a tenant.
    await project("tenant", { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "e2e-pipeline-tenant" }] });
    const harmless = await repo.commit({ "tenant/cm.yaml": configMap("data"), "tenant/hook.yaml": hookConfigMap("bye") });
    await applyApp(objects, application("tenant-app", {
      repoURL: repo.url, path: "tenant", destNamespace: "e2e-pipeline-tenant", agentNamespace: NS, project: "tenant",
      syncPolicy: { automated: { prune: true } },
    }));
    await reader.until("tenant-app", "synced", (a) => a.status?.sync?.status === "Synced" && a.status.sync.revision === harmless, 90_000);
    await withPostDeleteFinalizer("tenant-app");
    // The escalation is committed as a PostDelete hook: the reconcile refuses it, and so must the deletion.
    const evil = await repo.commit({ "tenant/escalate.yaml": escalation });
    await reader.until("tenant-app", "the new revision refused",
      (a) => (a.status?.conditions?.some((c) => /ClusterRoleBinding/.test(c.message ?? "")) ?? false) || a.status?.sync?.revision === evil, 60_000);
    const message = await deleteAndExpectDeletionError("tenant-app");
    expect(message).toMatch(/ClusterRoleBinding\/e2e-pipeline-escalation: .*not permitted.*project tenant/);
    expect(await missing(() => rbac.readClusterRoleBinding({ name: "e2e-pipeline-escalation" }))).toBe(true);
    await forget("tenant-app");
  });

  it("creates PostDelete hooks as the project's ServiceAccount: what its Role does not allow is refused by the API server", async () => {
    const ns = "e2e-pipeline-imp";
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "deployer" } } }).catch(() => undefined);
    for (const obj of [
      { apiVersion: RBAC, kind: "Role", metadata: { name: "deployer", namespace: ns }, rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["*"] }] },
      { apiVersion: RBAC, kind: "RoleBinding", metadata: { name: "deployer", namespace: ns },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "deployer" }, subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: ns }] },
    ]) await objects.patch(obj, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
    await project("impersonated", {
      sourceRepos: ["*"], destinations: [{ server: "*", namespace: ns }],
      destinationServiceAccounts: [{ server: "*", namespace: ns, defaultServiceAccount: "deployer" }],
    });
    // A PostDelete hook of a kind the ServiceAccount may not create (the agent itself may).
    const sa = `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: hook-made\n  annotations: ${JSON.stringify(postDelete)}\n`;
    const rev = await repo.commit({ "imp/cm.yaml": configMap("data"), "imp/hook.yaml": sa });
    await applyApp(objects, application("imp-app", {
      repoURL: repo.url, path: "imp", destNamespace: ns, agentNamespace: NS, project: "impersonated", syncPolicy: { automated: { prune: true } },
    }));
    await reader.until("imp-app", "synced", (a) => a.status?.sync?.status === "Synced" && a.status.sync.revision === rev, 90_000);
    await withPostDeleteFinalizer("imp-app");
    const message = await deleteAndExpectDeletionError("imp-app");
    expect(message).toMatch(/PostDelete hook.*HTTP 403: .*"hook-made" is forbidden: User "system:serviceaccount:e2e-pipeline-imp:deployer"/);
    expect(await missing(() => core.readNamespacedServiceAccount({ name: "hook-made", namespace: ns }))).toBe(true);
    await forget("imp-app");
  });
});
