// Leases that cannot overlap: two real `tether agent --shards 1` processes; the holder is frozen
// (SIGSTOP) past the lease duration while a PreSync hook of its app runs, the peer takes the shard
// over and finishes the operation, and the frozen one, resumed (SIGCONT), writes nothing more.
import { BatchV1Api, CoordinationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application } from "../../agent/api/types.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, synced } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-fencing";
const DEST = "e2e-fencing";
const TIMING = ["--leader-elect-lease-duration", "6s", "--leader-elect-renew-deadline", "4s", "--leader-elect-retry-period", "1s"];
const { kubeconfigPath, kc, objects } = kube();
const leases = kc.makeApiClient(CoordinationV1Api);
const batch = kc.makeApiClient(BatchV1Api);
const reader = appReader(kc, NS);

let repo: TestRepo;
const agents: AgentProcess[] = [];

const holder = async () => (await leases.readNamespacedLease({ name: "tether-agent-shard-0-of-1", namespace: NS }).catch(() => undefined))?.spec?.holderIdentity ?? "";
const identityOf = (agent: AgentProcess) => /sharding: (\S+) takes part/.exec(agent.logs())?.[1] ?? "?";
/** Writes that change something (dry-runs aside): apply, create, delete, status, patch, event. */
const writesOf = async (agent: AgentProcess) => (await Promise.all(["apply", "create", "delete", "status", "patch", "event"]
  .map((verb) => agent.metric(`tether_kube_writes_total{verb="${verb}"}`)))).reduce((a, b) => a + b, 0);

// A PreSync Job created suspended: it runs until the test resumes it.
const hook = `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    tether.dev/hook: PreSync
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: busybox
          command: ["true"]
`;

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  repo = await createRepo();
  agents.push(...await Promise.all([0, 1].map(() =>
    startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "2s", extraArgs: ["--shards", "1", ...TIMING] }))));
});

afterAll(async () => {
  for (const agent of agents) {
    try {
      process.kill(agent.pid, "SIGCONT");
    } catch {
      // already gone
    }
    await agent.kill();
  }
  await repo?.cleanup();
});

describe("a shard holder frozen past its lease while a hook runs", () => {
  it("stops writing before the peer takes over; the peer finishes the operation without creating the hook again", async () => {
    const rev = await repo.commit({
      "app/hook.yaml": hook,
      "app/cm.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-hook\ndata:\n  k: v\n`,
    });
    const first = await eventually("the shard held", async () => (await holder()) || undefined, 60_000);
    const frozen = agents.find((a) => identityOf(a) === first)!;
    const peer = agents.find((a) => a !== frozen)!;
    expect(frozen, first).toBeDefined();
    await applyApp(objects, application("fenced", {
      repoURL: repo.url, path: "app", destNamespace: DEST, agentNamespace: NS,
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    }));
    const running = (a: Application) => a.status?.operationState?.phase === "Running"
      && (a.status.operationState.syncResult?.resources ?? []).some((r) => r.name === "migrate" && r.hookPhase === "Running");
    await reader.until("fenced", "the PreSync hook recorded as running", running, 60_000);
    const job = await batch.readNamespacedJob({ name: "migrate", namespace: DEST });

    const writes = await writesOf(frozen);
    process.kill(frozen.pid, "SIGSTOP");
    try {
      await eventually("the peer holds the shard", async () => ((await holder()) === identityOf(peer) ? true : undefined), 30_000);
      await batch.patchNamespacedJob({ name: "migrate", namespace: DEST, body: [{ op: "replace", path: "/spec/suspend", value: false }] });
      const done = await reader.until("fenced", "operation Succeeded", (a) => synced(rev)(a) && a.status?.operationState?.phase === "Succeeded", 60_000);
      expect(done.status?.operationState?.syncResult?.resources?.find((r) => r.name === "migrate")?.hookPhase).toBe("Succeeded");
    } finally {
      process.kill(frozen.pid, "SIGCONT");
    }
    // The resumed replica sees it lost the shard; until then it must not write (apply, hook, prune, status).
    await eventually("the resumed replica gave the shard up", () => Promise.resolve(/gave up 0|stopped writing/.test(frozen.logs()) ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await writesOf(frozen)).toBe(writes);
    expect((await batch.readNamespacedJob({ name: "migrate", namespace: DEST })).metadata?.uid).toBe(job.metadata?.uid);
    expect(await holder()).toBe(identityOf(peer));
  });
});
