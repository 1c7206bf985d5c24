// Resource hooks against the real control plane, with Argo CD-shaped fixtures (test/fixtures/argo):
// the order Argo CD runs them in, read back from the objects' own creation and completion times.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BatchV1Api, PatchStrategy, type V1Job } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application } from "../../agent/api/types.ts";
import { inventoryOf } from "../../agent/apply/inventory.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, synced } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-hooks";
const { kubeconfigPath, kc, apps, core, objects } = kube();
const batch = kc.makeApiClient(BatchV1Api);
const reader = appReader(kc, NS);
const FIXTURES = path.join(import.meta.dirname, "../fixtures/argo");

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

/** The files of a fixture directory, placed under `into` in the test repository. */
function fixture(name: string, into: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full, `${rel}/${entry}`);
      else files[`${rel}/${entry}`] = readFileSync(full, "utf8");
    }
  };
  walk(path.join(FIXTURES, name), into);
  return files;
}

const automated = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };
const succeeded = (rev: string) => (a: Application) => synced(rev)(a) && a.status?.operationState?.phase === "Succeeded"
  && a.status.operationState.syncResult?.revision === rev;

const time = (t: Date | string | undefined) => {
  expect(t, "a timestamp").toBeDefined();
  return new Date(t!).getTime();
};
const job = async (name: string, ns: string) => await batch.readNamespacedJob({ name, namespace: ns });
const completed = (j: V1Job) => time(j.status?.completionTime);
const created = (o: { metadata?: { creationTimestamp?: Date | string } }) => time(o.metadata?.creationTimestamp);
async function available(name: string, ns: string): Promise<number> {
  const d = await apps.readNamespacedDeployment({ name, namespace: ns });
  return time(d.status?.conditions?.find((c) => c.type === "Available" && c.status === "True")?.lastTransitionTime);
}
const missing = async (read: () => Promise<unknown>) => {
  try {
    await read();
    return false;
  } catch (err) {
    return (err as { code?: number }).code === 404;
  }
};

describe("PreSync and PostSync hooks (pre-post-sync)", () => {
  const ns = "hooks-pps";

  it("runs the PreSync Job to completion before the app's objects, and the PostSync Job once they are healthy", async () => {
    const rev = await repo.commit(fixture("pre-post-sync", "pps"));
    await applyApp(objects, application("pps", { repoURL: repo.url, path: "pps", destNamespace: ns, agentNamespace: NS, syncPolicy: automated }));
    const app = await reader.until("pps", "operation Succeeded", succeeded(rev), 120_000);
    const before = await job("before", ns);
    const after = await job("after", ns);
    const deployment = await apps.readNamespacedDeployment({ name: "guestbook-ui", namespace: ns });
    expect(completed(before)).toBeLessThanOrEqual(created(deployment));
    expect(await available("guestbook-ui", ns)).toBeLessThanOrEqual(created(after));
    expect(completed(after)).toBeGreaterThanOrEqual(created(after));
    // Hooks are results of the operation, not resources of the app: never compared, never in the inventory.
    const hooks = app.status?.operationState?.syncResult?.resources?.filter((r) => r.hookType) ?? [];
    expect(hooks.map((h) => `${h.hookType}:${h.kind}/${h.name}:${h.hookPhase}`).sort()).toEqual(["PostSync:Job/after:Succeeded", "PreSync:Job/before:Succeeded"]);
    expect(app.status?.resources?.map((r) => r.kind).sort()).toEqual(["Deployment", "Service"]);
    expect(inventoryOf(app.status).some((k) => k.includes("_Job_"))).toBe(false);
  });

  it("does not run hooks again on a reconcile that finds nothing to sync", async () => {
    const uid = (await job("before", ns)).metadata?.uid;
    const reconciles = await agent.metric("tether_reconciles_total");
    await eventually("two more reconciles", async () => (await agent.metric("tether_reconciles_total")) >= reconciles + 2 ? true : undefined, 30_000);
    expect((await job("before", ns)).metadata?.uid).toBe(uid);
  });

  it("recreates a hook on the next sync (BeforeHookCreation, the default) and `app get` shows the hook results", async () => {
    const first = await job("before", ns);
    const rev = await repo.commit({ "pps/deployment.yaml": readFileSync(path.join(FIXTURES, "pre-post-sync/deployment.yaml"), "utf8").replace("replicas: 1", "replicas: 2") });
    await reader.until("pps", "operation Succeeded at the new commit", succeeded(rev), 120_000);
    const again = await job("before", ns);
    expect(again.metadata?.uid).not.toBe(first.metadata?.uid);
    expect(completed(again)).toBeLessThanOrEqual(time((await apps.readNamespacedDeployment({ name: "guestbook-ui", namespace: ns })).metadata?.managedFields
      ?.filter((f) => f.manager === "tether").map((f) => f.time).sort().at(-1)));
    const shown = await cli(["app", "get", "pps", "--namespace", NS], { kubeconfig: kubeconfigPath });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/PreSync\s+Job\s+before\s+Succeeded/);
    expect(shown.stdout).toMatch(/PostSync\s+Job\s+after\s+Succeeded/);
  });
});

describe("hooks between sync waves (sync-waves)", () => {
  const ns = "hooks-waves";

  it("runs PreSync, wave 0, the wave-1 Sync hook, wave 2, then PostSync, and names a generateName hook as Argo CD does", async () => {
    const rev = await repo.commit(fixture("sync-waves", "waves"));
    await applyApp(objects, application("sync-waves", { repoURL: repo.url, path: "waves", destNamespace: ns, agentNamespace: NS, syncPolicy: automated }));
    const app = await reader.until("sync-waves", "operation Succeeded", succeeded(rev), 180_000);
    const schemaResult = app.status?.operationState?.syncResult?.resources?.find((r) => r.name.startsWith("upgrade-sql-schema-"));
    expect(schemaResult?.name).toMatch(new RegExp(`^upgrade-sql-schema-${rev.slice(0, 7)}-presync-\\d+$`));
    const schema = await job(schemaResult!.name, ns);
    const backend = await apps.readNamespacedDeployment({ name: "backend", namespace: ns });
    const up = await job("maint-page-up", ns);
    const frontend = await apps.readNamespacedDeployment({ name: "frontend", namespace: ns });
    const down = await job("maint-page-down", ns);
    expect(completed(schema)).toBeLessThanOrEqual(created(backend));
    expect(await available("backend", ns)).toBeLessThanOrEqual(created(up));
    expect(completed(up)).toBeLessThanOrEqual(created(frontend));
    expect(await available("frontend", ns)).toBeLessThanOrEqual(created(down));
  });
});

describe("Helm hooks (helm-hooks)", () => {
  const ns = "hooks-helm";

  it("maps pre-install to PreSync ordered by hook-weight and post-install to PostSync, deletes hook-succeeded hooks and never runs test hooks", async () => {
    const rev = await repo.commit(fixture("helm-hooks", "helm-hooks"));
    await applyApp(objects, application("helm-hooks", { repoURL: repo.url, path: "helm-hooks", destNamespace: ns, agentNamespace: NS, syncPolicy: automated }));
    const app = await reader.until("helm-hooks", "operation Succeeded", succeeded(rev), 180_000);
    const createDb = await job("helm-hooks-create-db", ns);
    const migrate = await job("helm-hooks-migrate", ns);
    const web = await apps.readNamespacedDeployment({ name: "helm-hooks-web", namespace: ns });
    expect(completed(createDb)).toBeLessThanOrEqual(created(migrate));
    expect(completed(migrate)).toBeLessThanOrEqual(created(web));
    const notify = app.status?.operationState?.syncResult?.resources?.find((r) => r.name === "helm-hooks-notify");
    expect(notify).toMatchObject({ hookType: "PostSync", hookPhase: "Succeeded" });
    await eventually("the hook-succeeded Job deleted", async () => await missing(() => job("helm-hooks-notify", ns)) ? true : undefined, 30_000);
    expect(await missing(() => job("helm-hooks-smoke-test", ns))).toBe(true);
  });
});

describe("a failing hook", () => {
  const ns = "hooks-fail";
  const failing = `apiVersion: batch/v1
kind: Job
metadata:
  name: check
  annotations:
    argocd.argoproj.io/hook: PreSync
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox:1.36
          command: ["false"]
`;
  const onFail = readFileSync(path.join(FIXTURES, "pre-post-sync/pre-sync-job.yaml"), "utf8")
    .replace("name: before", "name: page-someone").replace("PreSync", "SyncFail");

  it("stops the sync: the app's objects are not applied, the operation Failed with a SyncError naming the hook, and SyncFail hooks run", async () => {
    const rev = await repo.commit({
      "fail/check.yaml": failing, "fail/on-fail.yaml": onFail,
      "fail/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  K: v\n",
    });
    await applyApp(objects, application("fail", { repoURL: repo.url, path: "fail", destNamespace: ns, agentNamespace: NS, syncPolicy: automated }));
    const app = await reader.until("fail", "operation Failed", (a) => a.status?.operationState?.phase === "Failed" && a.status.operationState.syncResult?.revision === rev, 120_000);
    expect(app.status?.sync?.status).toBe("OutOfSync");
    expect(app.status?.conditions?.find((c) => c.type === "SyncError")?.message).toMatch(/PreSync hook Job\/hooks-fail\/check: .*/);
    expect(app.status?.operationState?.message).toMatch(/PreSync hook Job\/hooks-fail\/check failed/);
    expect(await missing(() => core.readNamespacedConfigMap({ name: "app-config", namespace: ns }))).toBe(true);
    const results = app.status?.operationState?.syncResult?.resources ?? [];
    expect(results.find((r) => r.name === "check")).toMatchObject({ hookType: "PreSync", hookPhase: "Failed" });
    expect(results.find((r) => r.name === "page-someone")).toMatchObject({ hookType: "SyncFail", hookPhase: "Succeeded" });
    expect(completed(await job("page-someone", ns))).toBeGreaterThanOrEqual(time((await job("check", ns)).status?.conditions?.find((c) => c.type === "Failed")?.lastTransitionTime));
  });

  it("is not retried for the same commit (as Argo CD without syncPolicy.retry), and a commit that fixes it syncs", async () => {
    const uid = (await job("check", ns)).metadata?.uid;
    const reconciles = await agent.metric("tether_reconciles_total");
    await eventually("two more reconciles", async () => (await agent.metric("tether_reconciles_total")) >= reconciles + 2 ? true : undefined, 30_000);
    expect((await job("check", ns)).metadata?.uid).toBe(uid);
    const rev = await repo.commit({ "fail/check.yaml": failing.replace('["false"]', '["true"]') });
    await reader.until("fail", "operation Succeeded at the fix", succeeded(rev), 120_000);
    expect((await core.readNamespacedConfigMap({ name: "app-config", namespace: ns })).data?.K).toBe("v");
  });
});

describe("a CRD and its custom resources in one application", () => {
  const ns = "hooks-crd";
  const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                cronSpec: {type: string}
`;
  const cr = "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: nightly\nspec:\n  cronSpec: \"0 3 * * *\"\n";

  it("compares the custom resource as missing, applies the CRD, waits until it is served, then creates the resource", async () => {
    const skipped = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: skipped\n  annotations:\n    argocd.argoproj.io/hook: Skip\ndata:\n  K: v\n";
    const rev = await repo.commit({ "crd/crd.yaml": crd, "crd/crontab.yaml": cr, "crd/skipped.yaml": skipped });
    await applyApp(objects, application("crd", { repoURL: repo.url, path: "crd", destNamespace: ns, agentNamespace: NS, syncPolicy: automated }));
    const app = await reader.until("crd", "operation Succeeded", succeeded(rev), 120_000);
    expect(app.status?.resources?.map((r) => `${r.kind}:${r.status}`).sort()).toEqual(["CronTab:Synced", "CustomResourceDefinition:Synced"]);
    expect(app.status?.conditions?.some((c) => c.type === "ComparisonError" || c.type === "SyncError")).toBe(false);
    const live = await objects.read({ apiVersion: "stable.example.com/v1", kind: "CronTab", metadata: { name: "nightly", namespace: ns } });
    expect((live as { spec?: { cronSpec?: string } }).spec?.cronSpec).toBe("0 3 * * *");
    // A Skip hook is not applied at all, nor listed.
    expect(await missing(() => core.readNamespacedConfigMap({ name: "skipped", namespace: ns }))).toBe(true);
    expect(app.status?.operationState?.syncResult?.resources?.some((r) => r.name === "skipped")).toBe(false);
  });
});

describe("PostDelete hooks", () => {
  const ns = "hooks-postdelete";
  const goodbye = readFileSync(path.join(FIXTURES, "pre-post-sync/pre-sync-job.yaml"), "utf8").replace("name: before", "name: goodbye").replace("PreSync", "PostDelete");

  it("runs once the app's resources are deleted, and the Application goes only when it succeeded", async () => {
    const rev = await repo.commit({ "postdelete/goodbye.yaml": goodbye, "postdelete/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: data\ndata:\n  K: v\n" });
    await applyApp(objects, application("postdelete", { repoURL: repo.url, path: "postdelete", destNamespace: ns, agentNamespace: NS, syncPolicy: automated, finalizer: true }));
    await reader.until("postdelete", "operation Succeeded", succeeded(rev), 120_000);
    const app = await eventually("the post-delete finalizer", async () => {
      const a = await reader.get("postdelete");
      return a.metadata?.finalizers?.includes("post-delete-finalizer.tether.dev") ? a : undefined;
    }, 30_000);
    expect(app.metadata?.finalizers).toContain("tether.dev/resources-finalizer");
    // Not run by a sync.
    expect(await missing(() => job("goodbye", ns))).toBe(true);
    await objects.delete({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "postdelete", namespace: NS } });
    const deleted = time((await reader.get("postdelete")).metadata?.deletionTimestamp);
    await eventually("the Application gone", async () => await missing(() => reader.get("postdelete")) ? true : undefined, 120_000);
    expect(await missing(() => core.readNamespacedConfigMap({ name: "data", namespace: ns }))).toBe(true);
    // Created by the deletion, run to completion before the Application went; kept (no HookSucceeded policy), as in Argo CD.
    const hook = await job("goodbye", ns);
    expect(created(hook)).toBeGreaterThanOrEqual(deleted - 1000);
    expect(completed(hook)).toBeGreaterThanOrEqual(created(hook));
    expect(hook.metadata?.labels?.["tether.dev/app"]).toBe("postdelete");
  });

  it("keeps the Application with a DeletionError while a PostDelete hook fails; removing the finalizer by hand lets it go", async () => {
    const failing = goodbye.replace("name: goodbye", "name: farewell").replace(/command: .*/, 'command: ["false"]').replace(/args: .*\n/, "");
    const rev = await repo.commit({ "postdelete-fail/farewell.yaml": failing, "postdelete-fail/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: data\ndata:\n  K: v\n" });
    await applyApp(objects, application("postdelete-fail", { repoURL: repo.url, path: "postdelete-fail", destNamespace: `${ns}-fail`, agentNamespace: NS, syncPolicy: automated, finalizer: true }));
    await reader.until("postdelete-fail", "operation Succeeded", succeeded(rev), 120_000);
    await eventually("the post-delete finalizer", async () => (await reader.get("postdelete-fail")).metadata?.finalizers?.includes("post-delete-finalizer.tether.dev") ? true : undefined, 30_000);
    await objects.delete({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "postdelete-fail", namespace: NS } });
    const stuck = await reader.until("postdelete-fail", "a DeletionError condition", (a) => a.status?.conditions?.some((c) => c.type === "DeletionError") ?? false, 120_000);
    expect(stuck.status?.conditions?.find((c) => c.type === "DeletionError")?.message).toMatch(/PostDelete hook failed: Job\/hooks-postdelete-fail\/farewell/);
    expect(stuck.metadata?.finalizers).toEqual(["post-delete-finalizer.tether.dev"]);
    expect(await missing(() => core.readNamespacedConfigMap({ name: "data", namespace: `${ns}-fail` }))).toBe(true);
    await objects.patch({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "postdelete-fail", namespace: NS, finalizers: [] } },
      undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    await eventually("the Application gone", async () => await missing(() => reader.get("postdelete-fail")) ? true : undefined, 60_000);
  });
});

describe("a degraded wave repaired by a later commit", () => {
  const ns = "hooks-repair";
  // Broken as a wrong nodeSelector breaks it: the pod is never scheduled, the rollout passes its deadline (Degraded).
  const deployment = (nodeSelector?: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations:
    argocd.argoproj.io/sync-wave: "1"
spec:
  replicas: 1
  progressDeadlineSeconds: 5
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
${nodeSelector ? `      nodeSelector: ${nodeSelector}\n` : ""}      containers:
        - name: main
          image: busybox:1.36
          command: ["sleep", "3600"]
`;
  const later = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-api\n  annotations:\n    argocd.argoproj.io/sync-wave: \"2\"\ndata:\n  K: v\n";

  it("fails the operation when wave 1 turns Degraded (wave 2 not applied, as Argo CD), and a commit that repairs wave 1 syncs both", async () => {
    const broken = await repo.commit({ "repair/api.yaml": deployment("{no-such-label: x}"), "repair/after.yaml": later });
    await applyApp(objects, application("repair", { repoURL: repo.url, path: "repair", destNamespace: ns, agentNamespace: NS, syncPolicy: automated }));
    const stuck = await reader.until("repair", "wave 1 Degraded", (a) => a.status?.sync?.revision === broken
      && a.status.resources?.find((r) => r.kind === "Deployment")?.health?.status === "Degraded", 120_000);
    const failed = await reader.until("repair", "operation Failed", (a) => a.status?.operationState?.phase === "Failed", 60_000);
    expect(failed.status?.operationState?.message).toMatch(/^wave 1: Deployment\/hooks-repair\/api is Degraded/);
    expect(stuck.status?.sync?.revision).toBe(broken);
    expect(await missing(() => core.readNamespacedConfigMap({ name: "after-api", namespace: ns }))).toBe(true);
    const fixed = await repo.commit({ "repair/api.yaml": deployment() });
    const app = await reader.until("repair", "operation Succeeded at the fix", succeeded(fixed), 180_000);
    expect(app.status?.health?.status).toBe("Healthy");
    const after = await core.readNamespacedConfigMap({ name: "after-api", namespace: ns });
    expect(created(after)).toBeGreaterThanOrEqual(await available("api", ns));
  }, 360_000);
});

describe("`tether app sync` without --prune", () => {
  const ns = "hooks-pruning";
  const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  K: v\n`;

  it("says how many objects require pruning and exits 1 at once, and the status says so too", async () => {
    await repo.commit({ "pruning/a.yaml": cm("a"), "pruning/b.yaml": cm("b") });
    await applyApp(objects, application("pruning", {
      repoURL: repo.url, path: "pruning", destNamespace: ns, agentNamespace: NS, syncPolicy: { syncOptions: ["CreateNamespace=true"] },
    }));
    const first = await cli(["app", "sync", "pruning", "--namespace", NS, "--timeout", "3m"], { kubeconfig: kubeconfigPath });
    expect(first.exitCode, first.stderr).toBe(0);
    await repo.commit({ "pruning/b.yaml": null });
    const started = Date.now();
    const second = await cli(["app", "sync", "pruning", "--namespace", NS, "--timeout", "5m"], { kubeconfig: kubeconfigPath });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain("1 object requires pruning: ConfigMap/hooks-pruning/b");
    expect(Date.now() - started).toBeLessThan(240_000);
    const app = await reader.get("pruning");
    expect(app.status?.conditions?.find((c) => c.type === "PruningRequired")?.message).toMatch(/^1 object requires pruning: ConfigMap\/hooks-pruning\/b/);
    expect(app.status?.operationState?.syncResult?.resources?.find((r) => r.name === "b")).toMatchObject({ status: "PruneSkipped", message: "ignored (requires pruning)" });
    expect((await core.readNamespacedConfigMap({ name: "b", namespace: ns })).data?.K).toBe("v");
  });
});
