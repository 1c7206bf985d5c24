// A push through the webhook, as a forge sends it: the app whose folder it touched is refreshed,
// rendered and applied first; the other apps of the branch move to the new revision without a render
// (Argo CD's manifest-generate-paths), found from the payload's file list or, without one, from the
// fetched commits. The renders are counted by the agent's tether_builds_total.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, synced } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { kube } from "../support/kube.ts";

const NS = "tether-e2e-webhook";
const { kubeconfigPath, kc, core, objects } = kube();
const reader = appReader(kc, NS);
const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  VALUE: "${value}"\n`;
const automated = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };

let repo: TestRepo;
let agent: AgentProcess;

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  repo = await createRepo();
  // A long poll: every change here comes from the webhook.
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "300s", extraArgs: ["--webhook-allow-unsigned"] });
});

afterAll(async () => {
  await agent?.stop();
  await repo?.cleanup();
});

const builds = async () => ({
  rendered: await agent.metric('tether_builds_total{outcome="rendered"}'),
  kept: await agent.metric('tether_builds_total{outcome="kept"}'),
});

async function push(files?: readonly string[]): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${agent.port}/api/webhook`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ ref: "refs/heads/main", repository: { clone_url: repo.url }, ...(files ? { commits: [{ modified: files }] } : {}) }),
  });
  expect(res.status).toBe(202);
  return await res.text();
}

const value = async (name: string) => (await core.readNamespacedConfigMap({ name, namespace: "e2e-webhook" })).data?.VALUE;

describe("a push through the webhook", () => {
  beforeAll(async () => {
    const first = await repo.commit({ "touched/cm.yaml": configMap("touched", "1"), "untouched/cm.yaml": configMap("untouched", "1") });
    for (const name of ["touched", "untouched"]) {
      await applyApp(objects, application(name, { repoURL: repo.url, path: name, destNamespace: "e2e-webhook", agentNamespace: NS, syncPolicy: automated }));
    }
    for (const name of ["touched", "untouched"]) await reader.until(name, "Synced", synced(first));
  });

  it("applies the app whose path the payload lists; the other records the new revision without a render", async () => {
    const before = await builds();
    const second = await repo.commit({ "touched/cm.yaml": configMap("touched", "2") });
    expect(await push(["touched/cm.yaml"])).toBe("refreshing 1 application(s); 1 more move to the new revision without a change under their paths\n");
    await reader.until("touched", "synced to the pushed commit", synced(second));
    expect(await value("touched")).toBe("2");
    await reader.until("untouched", "at the pushed commit", synced(second));
    expect(await value("untouched")).toBe("1");
    const after = await builds();
    expect({ rendered: after.rendered - before.rendered, kept: after.kept - before.kept }).toEqual({ rendered: 1, kept: 1 });
    expect(agent.logs()).toMatch(/untouched: no changes at [0-9a-f]{7} \(in sync; the previous render kept: nothing under untouched changed since/);
  });

  it("without a file list in the payload, finds from the fetched commits which app changed and renders only that one", async () => {
    const before = await builds();
    const third = await repo.commit({ "untouched/cm.yaml": configMap("untouched", "3") });
    expect(await push()).toBe("refreshing 2 application(s)\n");
    await reader.until("untouched", "synced to the pushed commit", synced(third));
    await reader.until("touched", "at the pushed commit", synced(third));
    expect(await value("untouched")).toBe("3");
    expect(await value("touched")).toBe("2");
    const after = await builds();
    expect({ rendered: after.rendered - before.rendered, kept: after.kept - before.kept }).toEqual({ rendered: 1, kept: 1 });
  });
});
