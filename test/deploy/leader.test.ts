// High availability: two real `tether agent --leader-elect` processes against the real API server.
// One leads and reconciles, the standby writes nothing; when the leader is killed the standby takes
// over within the lease duration (measured and printed) and reconciles continue; a graceful stop
// releases the lease, so the next standby takes over at its next try.
import { CoordinationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, synced } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-leader";
const LEASE_S = 6;
const RETRY_S = 1;
const ELECTION = ["--leader-elect", "--leader-elect-lease-duration", `${LEASE_S}s`, "--leader-elect-renew-deadline", "4s",
  "--leader-elect-retry-period", `${RETRY_S}s`];
const { kubeconfigPath, kc, core, objects } = kube();
const leases = kc.makeApiClient(CoordinationV1Api);
const reader = appReader(kc, NS);

let repo: TestRepo;
const agents: AgentProcess[] = [];

const candidate = async () => {
  const agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "2s", extraArgs: ELECTION });
  agents.push(agent);
  return agent;
};
const leads = (agent: AgentProcess) => /leader election: \S+ leads/.test(agent.logs());
const untilLeads = (agent: AgentProcess, what: string) => eventually(what, () => Promise.resolve(leads(agent) ? true : undefined), 30_000);
const holder = async () => (await leases.readNamespacedLease({ name: "tether-agent-leader", namespace: NS })).spec?.holderIdentity ?? "";
const writesOf = async (agent: AgentProcess) => await agent.metric("tether_kube_writes_total") + await agent.metric("tether_reconciles_total");
const readyz = async (agent: AgentProcess) => (await fetch(`http://127.0.0.1:${agent.port}/readyz`)).status;
const greeting = async () => (await core.readNamespacedConfigMap({ name: "greeting", namespace: NS })).data?.text;
const commitGreeting = (text: string) => repo.commit({ "app/cm.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\ndata:\n  text: ${text}\n` });

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  repo = await createRepo();
  const head = await commitGreeting("one");
  await applyApp(objects, application("greeting", {
    repoURL: repo.url, path: "app", destNamespace: NS, agentNamespace: NS, syncPolicy: { automated: { prune: true, selfHeal: true } },
  }));
  const first = await candidate();
  await untilLeads(first, "the first agent leads");
  await reader.until("greeting", "synced by the leader", synced(head), 60_000);
});

afterAll(async () => {
  for (const agent of agents) await agent.kill();
  await repo?.cleanup();
});

describe("tether agent --leader-elect", () => {
  it("keeps a second replica standing by: ready, but reconciling and writing nothing", async () => {
    const standby = await candidate();
    // Several retry periods: long enough for a standby that ignored the lease to have reconciled.
    await new Promise((r) => setTimeout(r, 5 * RETRY_S * 1000));
    expect(leads(standby)).toBe(false);
    expect(await writesOf(standby)).toBe(0);
    expect(await readyz(standby)).toBe(200);
    expect(await holder()).not.toBe("");
  });

  it("hands over to the standby within the lease duration when the leader is killed, and reconciles continue", async () => {
    const [leader, standby] = agents as [AgentProcess, AgentProcess];
    const before = await holder();
    const killedAt = Date.now();
    await leader.kill();
    await untilLeads(standby, "the standby leads");
    const takeoverS = (Date.now() - killedAt) / 1000;
    console.log(`[leader] takeover after SIGKILL of the leader: ${takeoverS.toFixed(1)}s (lease duration ${LEASE_S}s, retry period ${RETRY_S}s)`);
    // The standby counts the lease duration from when it last saw the lease renewed, and tries every retry period.
    expect(takeoverS).toBeLessThanOrEqual(LEASE_S + 2 * RETRY_S + 1);
    expect(await holder()).not.toBe(before);
    const head = await commitGreeting("two");
    await reader.until("greeting", "synced by the new leader", synced(head), 60_000);
    expect(await greeting()).toBe("two");
  });

  it("releases the lease on a graceful stop, so the next standby takes over at once", async () => {
    const leader = agents[1]!;
    const next = await candidate();
    await new Promise((r) => setTimeout(r, 2 * RETRY_S * 1000));
    expect(leads(next)).toBe(false);
    const stoppedAt = Date.now();
    await leader.stop();
    expect(leader.logs()).toMatch(/leader election: \S+ released Lease/);
    await untilLeads(next, "the next standby leads");
    const takeoverS = (Date.now() - stoppedAt) / 1000;
    console.log(`[leader] takeover after SIGTERM of the leader (lease released): ${takeoverS.toFixed(1)}s`);
    expect(takeoverS).toBeLessThan(LEASE_S);
    const head = await commitGreeting("three");
    await reader.until("greeting", "synced after the graceful handover", synced(head), 60_000);
  });
});
