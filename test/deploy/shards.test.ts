// Sharding: three real `tether agent --shards 3` processes against the real API server share the
// Applications through coordination.k8s.io Leases; when one is killed, the survivors take its shard
// over and every app keeps being reconciled.
import { CoordinationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shardOf } from "../../agent/leader/assign.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, synced } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-shards";
const APPS = 12;
const SHARDING = ["--shards", "3", "--leader-elect-lease-duration", "6s", "--leader-elect-renew-deadline", "4s", "--leader-elect-retry-period", "1s"];
const { kubeconfigPath, kc, core, objects } = kube();
const leases = kc.makeApiClient(CoordinationV1Api);
const reader = appReader(kc, NS);
const names = Array.from({ length: APPS }, (_, i) => `shared-${i}`);

let repo: TestRepo;
const agents: AgentProcess[] = [];

const commitAll = (value: string) => repo.commit(Object.fromEntries(names.map((n) =>
  [`apps/${n}/cm.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${n}\ndata:\n  value: "${value}"\n`])));
const holders = async () => await Promise.all([0, 1, 2].map(async (i) =>
  (await leases.readNamespacedLease({ name: `tether-agent-shard-${i}-of-3`, namespace: NS }).catch(() => undefined))?.spec?.holderIdentity ?? ""));
const identityOf = (agent: AgentProcess) => /sharding: (\S+) takes part/.exec(agent.logs())?.[1] ?? "?";
const allSynced = (head: string, what: string) => Promise.all(names.map((n) => reader.until(n, what, synced(head), 120_000)));
/** The apps an agent wrote a sync line for: the ones it reconciled and applied. */
const syncedBy = (agent: AgentProcess) => names.filter((n) => new RegExp(`"?${n}: sync succeeded`).test(agent.logs()));

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  await core.createNamespace({ body: { metadata: { name: "e2e-shards" } } }).catch(() => undefined);
  repo = await createRepo();
  agents.push(...await Promise.all([0, 1, 2].map(() => startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "2s", extraArgs: SHARDING }))));
});

afterAll(async () => {
  for (const agent of agents) await agent.kill();
  await repo?.cleanup();
});

describe("tether agent --shards 3", () => {
  it("shares the apps: each of three replicas holds one shard and syncs that shard's apps, and only those", async () => {
    const head = await commitAll("one");
    await eventually("three distinct shard holders", async () => {
      const h = await holders();
      return new Set(h.filter(Boolean)).size === 3 ? h : undefined;
    }, 60_000);
    for (const n of names) {
      await applyApp(objects, application(n, { repoURL: repo.url, path: `apps/${n}`, destNamespace: "e2e-shards", agentNamespace: NS,
        syncPolicy: { automated: { prune: true, selfHeal: true } } }));
    }
    await allSynced(head, "synced by its shard's replica");
    const h = await holders();
    for (const agent of agents) {
      const shardsHeld = [0, 1, 2].filter((i) => h[i] === identityOf(agent));
      expect(shardsHeld).toHaveLength(1);
      expect(syncedBy(agent).sort()).toEqual(names.filter((n) => shardsHeld.includes(shardOf(n, 3))).sort());
    }
  });

  it("keeps every app reconciled when one replica is killed: the survivors take its shard over", async () => {
    const [victim, ...survivors] = agents as [AgentProcess, AgentProcess, AgentProcess];
    const gone = identityOf(victim);
    await victim.kill();
    const head = await commitAll("two");
    await allSynced(head, "synced after a replica died");
    const h = await holders();
    expect(h).not.toContain(gone);
    expect(new Set(h)).toEqual(new Set(survivors.map(identityOf)));
    for (const n of names) expect((await core.readNamespacedConfigMap({ name: n, namespace: "e2e-shards" })).data?.value).toBe("two");
  });
});
