// The operation lifecycle as Argo CD's application controller runs it: automated sync only when the
// app compares OutOfSync, an operation in progress as a lock, a failed revision not repeated without
// syncPolicy.retry, and an operation that outlives the agent process running it.
// A PreSync Job created suspended (`spec.suspend: true`) stays Running until the test resumes it.
import os from "node:os";
import path from "node:path";
import { writeFileSync } from "node:fs";
import { BatchV1Api, PatchStrategy, type V1Job } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application } from "../../agent/api/types.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, synced } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-lifecycle";
const { kubeconfigPath, kc, core, objects } = kube();
const batch = kc.makeApiClient(BatchV1Api);
const reader = appReader(kc, NS);
const automated = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };

let repo: TestRepo;
let agent: AgentProcess;

beforeAll(async () => {
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  repo = await createRepo();
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "2s" });
});

afterAll(async () => {
  await agent?.stop();
  writeFileSync(path.join(os.tmpdir(), `${NS}-agent.log`), agent?.logs() ?? "");
  await repo?.cleanup();
});

/** A PreSync Job named by generateName, as Argo CD's TestAutomaticallyNamingUnnamedHook has it. */
const presync = (opts: { suspend: boolean; name?: string }) => `apiVersion: batch/v1
kind: Job
metadata:
  ${opts.name ? `name: ${opts.name}` : "generateName: migrate-"}
  annotations:
    argocd.argoproj.io/hook: PreSync
spec:
  suspend: ${opts.suspend}
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox:1.36
          command: ["sh", "-c", "echo migrated"]
`;
const configMap = (name: string, value: string, namespace?: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ""}data:\n  VALUE: "${value}"\n`;

const jobs = async (ns: string): Promise<V1Job[]> => (await batch.listNamespacedJob({ namespace: ns })).items
  .sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)));
const uids = async (ns: string) => (await jobs(ns)).map((j) => j.metadata?.uid);
const resume = async (name: string, ns: string) => {
  await objects.patch({ apiVersion: "batch/v1", kind: "Job", metadata: { name, namespace: ns }, spec: { suspend: false } } as never,
    undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
};
const succeeded = (rev: string) => (a: Application) => a.status?.operationState?.phase === "Succeeded" && a.status.operationState.syncResult?.revision === rev;
/** Lets the agent run a few reconciles of every app (the poll is 2 s). */
const someReconciles = async (n = 3) => {
  const start = await agent.metric("tether_reconciles_total");
  await eventually(`${n} more reconciles`, async () => (await agent.metric("tether_reconciles_total")) >= start + n ? true : undefined, 60_000);
};

describe("an operation in progress is a lock", () => {
  const ns = "lifecycle-lock";

  it("a commit during a running PreSync Job leaves that Job alone, and the new revision is synced after it", async () => {
    const first = await repo.commit({ "lock/job.yaml": presync({ suspend: true }), "lock/cm.yaml": configMap("web", "1") });
    await applyApp(objects, application("lock", { repoURL: repo.url, path: "lock", destNamespace: ns, agentNamespace: NS, syncPolicy: automated }));
    const [hook] = await eventually("the PreSync Job", async () => ((await jobs(ns)).length > 0 ? await jobs(ns) : undefined), 60_000);
    expect(hook?.metadata?.name).toMatch(new RegExp(`^migrate-${first.slice(0, 7)}-presync-\\d+$`));
    const running = await reader.until("lock", "operation Running at the first commit", (a) => a.status?.operationState?.phase === "Running"
      && a.status.operationState.syncResult?.revision === first);
    expect(running.status?.operationState?.message).toMatch(/PreSync hook Job\/lifecycle-lock\/migrate-/);

    const second = await repo.commit({ "lock/job.yaml": presync({ suspend: false }), "lock/cm.yaml": configMap("web", "2") });
    await someReconciles(4);
    expect(await uids(ns)).toEqual([hook?.metadata?.uid]);
    const waiting = await reader.get("lock");
    expect(waiting.status?.operationState).toMatchObject({ phase: "Running", startedAt: running.status?.operationState?.startedAt, syncResult: { revision: first } });
    await expect(core.readNamespacedConfigMap({ name: "web", namespace: ns })).rejects.toMatchObject({ code: 404 });

    await resume(hook!.metadata!.name!, ns);
    const done = await reader.until("lock", "operation Succeeded at the second commit", (a) => succeeded(second)(a) && synced(second)(a), 120_000);
    expect((await core.readNamespacedConfigMap({ name: "web", namespace: ns })).data?.VALUE).toBe("2");
    // The first commit's operation ran to its end (one deploy), then the second commit's (another).
    expect(done.status?.history?.map((h) => h.revision)).toEqual([first, second]);
    const all = await jobs(ns);
    expect(all).toHaveLength(2);
    expect(all[0]?.metadata?.uid).toBe(hook?.metadata?.uid);
    expect(all[1]?.metadata?.name).toMatch(new RegExp(`^migrate-${second.slice(0, 7)}-presync-\\d+$`));
  }, 240_000);
});

describe("automated sync only when OutOfSync", () => {
  const ns = "lifecycle-lock";

  it("a commit outside the app's path, and a commit adding only a YAML comment, start no operation and run no hook", async () => {
    const before = await reader.until("lock", "Succeeded", (a) => a.status?.operationState?.phase === "Succeeded" && synced()(a));
    const jobsBefore = await uids(ns);
    const outside = await repo.commit({ "elsewhere/cm.yaml": configMap("other", "x") }, "a commit for another app");
    const recorded = await reader.until("lock", "the commit outside its path recorded", synced(outside), 60_000);
    const comment = await repo.commit({ "lock/cm.yaml": `# a comment only\n${configMap("web", "2")}` }, "a comment");
    const after = await reader.until("lock", "the comment commit recorded", synced(comment), 60_000);
    await someReconciles(3);
    const last = await reader.get("lock");
    for (const a of [recorded, after, last]) {
      expect(a.status?.operationState).toEqual(before.status?.operationState);
      expect(a.status?.history).toEqual(before.status?.history);
    }
    expect(last.status?.sync?.revision).toBe(comment);
    expect(await uids(ns)).toEqual(jobsBefore);
    expect(agent.logs()).not.toMatch(new RegExp(`lock: sync \\w+ at ${comment.slice(0, 7)}`));
  }, 120_000);
});

describe("a failed sync", () => {
  const ns = "lifecycle-once";

  it("is attempted once per revision without syncPolicy.retry: SyncError names the revision, the PreSync Job is not recreated", async () => {
    const broken = await repo.commit({
      "once/job.yaml": presync({ suspend: false, name: "check" }),
      "once/cm.yaml": configMap("web", "1", "lifecycle-no-such-namespace"),
    });
    await applyApp(objects, application("once", { repoURL: repo.url, path: "once", destNamespace: ns, agentNamespace: NS, syncPolicy: automated }));
    const failed = await reader.until("once", "operation Failed", (a) => a.status?.operationState?.phase === "Failed"
      && a.status.operationState.syncResult?.revision === broken, 120_000);
    const uid = (await batch.readNamespacedJob({ name: "check", namespace: ns })).metadata?.uid;
    await someReconciles(6);
    const app = await reader.get("once");
    expect(app.status?.operationState?.startedAt).toBe(failed.status?.operationState?.startedAt);
    expect(app.status?.conditions?.find((c) => c.type === "SyncError")?.message).toMatch(new RegExp(`^Failed last sync attempt to ${broken}: `));
    expect((await batch.readNamespacedJob({ name: "check", namespace: ns })).metadata?.uid).toBe(uid);
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: "involvedObject.name=once,reason=SyncFailed" });
    expect(events.items.reduce((n, e) => n + (e.count ?? 1), 0)).toBe(1);

    const fixed = await repo.commit({ "once/cm.yaml": configMap("web", "1") });
    await reader.until("once", "operation Succeeded at the fix", succeeded(fixed), 120_000);
    expect((await batch.readNamespacedJob({ name: "check", namespace: ns })).metadata?.uid).not.toBe(uid);
  }, 240_000);
});

describe("an agent killed in the middle of a hook", () => {
  const ns = "lifecycle-restart";

  it("resumes the operation from its record when started again: the hook created once, the operation finished", async () => {
    const rev = await repo.commit({ "restart/job.yaml": presync({ suspend: true }), "restart/cm.yaml": configMap("web", "1") });
    await applyApp(objects, application("restart", { repoURL: repo.url, path: "restart", destNamespace: ns, agentNamespace: NS, syncPolicy: automated }));
    const [hook] = await eventually("the PreSync Job", async () => ((await jobs(ns)).length > 0 ? await jobs(ns) : undefined), 60_000);
    await agent.kill();
    // Written before the Job was created: the operation, its start and the hook's name.
    const recorded = await reader.get("restart");
    expect(recorded.status?.operationState).toMatchObject({ phase: "Running", syncResult: { revision: rev } });
    expect(recorded.status?.operationState?.tasks?.[0]).toEqual({ phase: "PreSync", wave: 0, hooks: [`Job/${ns}/${hook?.metadata?.name}`] });
    agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "2s" });
    await someReconciles(4);
    expect(await uids(ns)).toEqual([hook?.metadata?.uid]);
    expect((await reader.get("restart")).status?.operationState?.startedAt).toBe(recorded.status?.operationState?.startedAt);
    await resume(hook!.metadata!.name!, ns);
    const done = await reader.until("restart", "operation Succeeded", succeeded(rev), 120_000);
    expect(done.status?.operationState?.startedAt).toBe(recorded.status?.operationState?.startedAt);
    expect(await uids(ns)).toEqual([hook?.metadata?.uid]);
    expect((await core.readNamespacedConfigMap({ name: "web", namespace: ns })).data?.VALUE).toBe("1");
  }, 240_000);
});
