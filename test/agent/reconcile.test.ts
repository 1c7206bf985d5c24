// Regressions of the reconcile rebuild, each as a user meets it on the real control plane: a guard
// skipped on a render-cache hit, a field deleted from Git left live, a refused object reported as a
// generic error, history listing commits that did not touch the app, PruneLast and syncPolicy.retry.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application } from "../../agent/api/types.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, hasCondition, synced, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-reconcile";
const { kubeconfigPath, kc, core, apps, objects } = kube();
const reader = appReader(kc, NS);

let repo: TestRepo;
let agent: AgentProcess;

const auto = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };
const app = (name: string, dir: string, dest: string, extra: Partial<Parameters<typeof application>[1]> = {}): Application =>
  application(name, { repoURL: repo.url, path: dir, destNamespace: dest, agentNamespace: NS, syncPolicy: auto, ...extra });

const plainSecret = (name: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\nstringData:\n  token: not-encrypted\n`;
const configMap = (name: string, extra = "") => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}${extra}\ndata:\n  K: v\n`;
const deployment = (name: string, opts: { nodeSelector?: boolean; selector?: string } = {}) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels: {app: ${opts.selector ?? name}}
  template:
    metadata:
      labels: {app: ${opts.selector ?? name}}
    spec:
${opts.nodeSelector ? "      nodeSelector: {disk: ssd}\n" : ""}      containers:
        - name: web
          image: nginx:1.27
`;

beforeAll(async () => {
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  repo = await createRepo();
  await repo.commit({
    "shared/secret.yaml": plainSecret("plain"),
    "fields/deploy.yaml": deployment("web", { nodeSelector: true }),
    "immutable/deploy.yaml": deployment("api"),
    "history/cm.yaml": configMap("h"),
    "prunelast/a.yaml": configMap("a"), "prunelast/b.yaml": configMap("b", "\n  annotations:\n    argocd.argoproj.io/sync-options: PruneLast=true"),
  });
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
});

afterAll(async () => {
  await agent?.stop();
  writeFileSync(path.join(os.tmpdir(), `${NS}-agent.log`), agent?.logs() ?? "");
  await repo?.cleanup();
});

describe("the plaintext-Secret guard", () => {
  it("refuses a plain Secret for an app that did not opt out, even when another app that did rendered the same source first", async () => {
    await applyApp(objects, app("opted-out", "shared", "rc-shared-a", { annotations: { "tether.dev/allow-plaintext-secrets": "true" } }));
    await reader.until("opted-out", "Synced", synced());
    await applyApp(objects, app("not-opted-out", "shared", "rc-shared-b"));
    await reader.until("not-opted-out", "a PlaintextSecret condition", hasCondition("PlaintextSecret"));
    await expect(core.readNamespacedSecret({ name: "plain", namespace: "rc-shared-b" })).rejects.toThrow();
  });

  it("checks an app again as soon as its opt-out annotation is removed", async () => {
    await applyApp(objects, app("opted-out", "shared", "rc-shared-a"));
    await reader.until("opted-out", "a PlaintextSecret condition", hasCondition("PlaintextSecret"));
  });
});

describe("a field deleted from Git", () => {
  it("is removed from the live object, and the app is OutOfSync until it is", async () => {
    await applyApp(objects, app("fields", "fields", "rc-fields"));
    await reader.until("fields", "Synced", synced());
    expect((await apps.readNamespacedDeployment({ name: "web", namespace: "rc-fields" })).spec?.template.spec?.nodeSelector).toEqual({ disk: "ssd" });
    const rev = await repo.commit({ "fields/deploy.yaml": deployment("web") });
    await reader.until("fields", "Synced at the commit that drops nodeSelector", synced(rev));
    const live = await apps.readNamespacedDeployment({ name: "web", namespace: "rc-fields" });
    expect(live.spec?.template.spec?.nodeSelector).toBeUndefined();
  });
});

describe("an object the API server refuses", () => {
  it("fails the sync with SyncError naming the object, and leaves the app OutOfSync", async () => {
    await applyApp(objects, app("immutable", "immutable", "rc-immutable"));
    await reader.until("immutable", "Synced", synced());
    await repo.commit({ "immutable/deploy.yaml": deployment("api", { selector: "changed" }) });
    const seen = await reader.until("immutable", "a SyncError condition", hasCondition("SyncError"));
    expect(seen.status?.conditions?.find((c) => c.type === "SyncError")?.message).toMatch(/Deployment\/rc-immutable\/api: .*(immutable|selector)/);
    expect(seen.status?.sync?.status).toBe("OutOfSync");
    expect(seen.status?.operationState?.phase).toBe("Failed");
  });
});

describe("app history", () => {
  it("lists only the deploys that changed the app, not every commit", async () => {
    const first = await repo.commit({ "history/cm.yaml": configMap("h") }, "touch nothing of history");
    await applyApp(objects, app("history", "history", "rc-history"));
    await reader.until("history", "Synced", syncedAndHealthy(first));
    const unrelated = await repo.commit({ "elsewhere/cm.yaml": configMap("x") }, "a commit for another app");
    await reader.until("history", "at the unrelated commit", synced(unrelated));
    const changed = await repo.commit({ "history/cm.yaml": configMap("h2") }, "change the app");
    const seen = await reader.until("history", "at the commit that changes it", synced(changed));
    expect(seen.status?.history?.map((h) => h.revision)).toEqual([first, changed]);
  });
});

describe("PruneLast", () => {
  it("deletes an object marked PruneLast=true after the other stale objects", async () => {
    await applyApp(objects, app("prunelast", "prunelast", "rc-prunelast"));
    await reader.until("prunelast", "Synced", synced());
    const rev = await repo.commit({ "prunelast/a.yaml": null, "prunelast/b.yaml": null, "prunelast/c.yaml": configMap("c") });
    await reader.until("prunelast", "pruned at the new commit", (a) => synced(rev)(a) && (a.status?.resources?.length ?? 0) === 1);
    // The Pruned event lists what was deleted in the order it was deleted.
    const pruned = await eventually("the Pruned event", async () => {
      const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: "involvedObject.name=prunelast,reason=Pruned" });
      return events.items.map((e) => e.message ?? "").find((m) => m.includes("ConfigMap/b"));
    }, 30_000);
    expect(pruned.indexOf("ConfigMap/a")).toBeGreaterThanOrEqual(0);
    expect(pruned.indexOf("ConfigMap/a")).toBeLessThan(pruned.indexOf("ConfigMap/b"));
  });
});

describe("syncPolicy.retry", () => {
  it("retries a failed sync with its backoff and counts the attempts", async () => {
    await repo.commit({ "retry/cm.yaml": configMap("r", "\n  namespace: rc-retry-missing") });
    await applyApp(objects, app("retry", "retry", "rc-retry", {
      syncPolicy: { automated: { prune: true }, retry: { limit: 2, backoff: { duration: "1s", factor: 2, maxDuration: "5s" } } },
    }));
    // The retry is recorded (Running, retryCount 2) before it acts; it ends Failed.
    const seen = await reader.until("retry", "two retries spent", (a) => a.status?.operationState?.retryCount === 2 && a.status.operationState.phase !== "Running", 60_000);
    expect(seen.status?.operationState?.phase).toBe("Failed");
    await eventually("no third retry", async () => new Promise<true>((resolve) => setTimeout(() => resolve(true), 5000)));
    expect((await reader.get("retry")).status?.operationState?.retryCount).toBe(2);
  });
});

describe("a project with destinationServiceAccounts", () => {
  it("applies as that ServiceAccount, so RBAC refuses what it may not touch", async () => {
    const ns = "rc-impersonated";
    const yaml = (o: object) => o as never;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "deployer" } } });
    await objects.create(yaml({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "configmaps", namespace: ns },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["*"] }] }));
    await objects.create(yaml({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "deployer", namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "configmaps" }, subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: ns }] }));
    await objects.create(yaml({ apiVersion: "tether.dev/v1alpha1", kind: "AppProject", metadata: { name: "limited", namespace: NS },
      spec: { sourceRepos: ["*"], destinations: [{ server: "*", namespace: ns }], destinationServiceAccounts: [{ server: "*", namespace: ns, defaultServiceAccount: "deployer" }] } }));
    await repo.commit({ "impersonated/cm.yaml": configMap("allowed"), "impersonated/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: refused\nspec:\n  ports: [{port: 80}]\n" });
    await applyApp(objects, app("impersonated", "impersonated", ns, { project: "limited", syncPolicy: { automated: { prune: true } } }));
    const seen = await reader.until("impersonated", "a SyncError condition", hasCondition("SyncError"));
    expect(seen.status?.conditions?.find((c) => c.type === "SyncError")?.message).toMatch(/Service\/rc-impersonated\/refused: .*forbidden.*system:serviceaccount:rc-impersonated:deployer/);
    expect((await core.readNamespacedConfigMap({ name: "allowed", namespace: ns })).data?.K).toBe("v");
  });
});
