// The CLI as a daily user meets it: one table of exit codes, kubeconfig trouble that says the next
// step, waits that stop when waiting cannot help, and lists that say why an app is broken.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, hasCondition, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";
import { tether } from "./support.ts";

const NS = "tether-e2e-cli";
const { kubeconfigPath, kc, core, objects } = kube();
const reader = appReader(kc, NS);
const run = (args: readonly string[], opts: { cwd?: string } = {}) => tether([...args, "-n", NS], { kubeconfig: kubeconfigPath, ...opts });

const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  VALUE: "${value}"\n`;
const plainSecret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\nstringData:\n  password: hunter2\n";
const automated = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };

let repo: TestRepo;
let agent: AgentProcess;
let scratch: string;

beforeAll(async () => {
  expect((await tether(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  repo = await createRepo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "tether-cli-ux-"));
  await repo.commit({ "good/cm.yaml": configMap("good", "v1"), "leaky/secret.yaml": plainSecret, "leaky/cm.yaml": configMap("leaky", "x") });
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "2s" });
  const app = (name: string, labels: Record<string, string>) => {
    const a = application(name, { repoURL: repo.url, path: name, destNamespace: `e2e-cli-${name}`, agentNamespace: NS, syncPolicy: automated });
    a.metadata = { ...a.metadata, labels };
    return a;
  };
  await applyApp(objects, app("good", { team: "a" }));
  await applyApp(objects, app("leaky", { team: "b" }));
  await reader.until("good", "Synced and Healthy", syncedAndHealthy());
  await reader.until("leaky", "PlaintextSecret", hasCondition("PlaintextSecret"));
});

afterAll(async () => {
  await agent?.stop();
  await repo?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("exit codes: one table for every command", () => {
  it.each([
    [["app", "list", "--bogus"], "unknown option '--bogus'"],
    [["app", "get"], "missing required argument 'name'"],
    [["app", "wait", "good", "--timeout", "soon"], "--timeout soon: expected a duration"],
    [["cluster", "add", "Bad_Name"], 'cluster "Bad_Name" is not a valid name'],
    [["secret", "create", "x", "--from-literal", "a=b", "-o", "out.yaml"], "-o is the output format (json or yaml); pass the file to write with --out out.yaml"],
    [["app", "list", "-o", "xml"], "-o xml: expected one of"],
  ])("usage errors exit 2, in subcommands too: %j", async (args, message) => {
    const r = await run(args, { cwd: scratch });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it("app wait on a name that does not exist exits 3 at once", async () => {
    const r = await run(["app", "wait", "nosuch", "--timeout", "2m"]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toContain(`application nosuch not found in namespace ${NS}`);
    expect(r.ms).toBeLessThan(30_000);
  });

  it("a wait that runs out of time exits 4 and shows the state it was in", async () => {
    const r = await run(["app", "wait", "good", "--revision", "0000000", "--timeout", "3s"]);
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/timed out after 3s waiting for good: good: sync=Synced health=Healthy at [0-9a-f]{7}, waiting for 0000000/);
  });
});

describe("waiting", () => {
  it("stops at once on a condition that will not clear by itself, and prints it (exit 1)", async () => {
    const r = await run(["app", "wait", "leaky", "--timeout", "2m"]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain("does not clear by itself: fix it in Git and push");
    expect(r.stderr).toMatch(/PlaintextSecret: .*leaked/);
    expect(r.ms).toBeLessThan(30_000);
  });

  it("--revision HEAD waits for the commit just pushed and says how long it took from the commit", async () => {
    const sha = await repo.commit({ "good/cm.yaml": configMap("good", "v2") }, "good v2");
    const r = await run(["app", "wait", "good", "--revision", "HEAD", "--timeout", "90s"], { cwd: repo.work });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^good: sync=Synced health=Healthy at ${sha.slice(0, 7)}; \\d+\\.\\ds after the commit$`));
    expect((await reader.get("good")).status?.sync?.revision).toBe(sha);
  });
});

describe("app list and get", () => {
  it("the default table says why a broken app is broken", async () => {
    const r = await run(["app", "list"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const leaky = r.stdout.split("\n").find((l) => l.startsWith("leaky"));
    expect(leaky).toMatch(/PlaintextSecret: /);
  });

  it("-o wide shows more than the default table", async () => {
    const plain = (await run(["app", "list"])).stdout;
    const wide = (await run(["app", "list", "-o", "wide"])).stdout;
    expect(wide).not.toBe(plain);
    expect(wide).toContain("SYNC POLICY");
    expect(wide).toContain("auto,prune,selfHeal");
    const get = (await run(["app", "get", "good"])).stdout;
    const getWide = (await run(["app", "get", "good", "-o", "wide"])).stdout;
    expect(getWide).not.toBe(get);
    expect(getWide).toMatch(/^OBJECT\s+SYNC\s+HEALTH\s+WAVE\s+HOOK\s+MESSAGE$/m);
    expect(getWide).toContain("Reconciled:");
  });

  it("app get shows the live objects as a tree", async () => {
    const r = await run(["app", "get", "good"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^OBJECT\s+SYNC\s+HEALTH\s+MESSAGE$/m);
    // A ConfigMap has no health check: its HEALTH is empty, as `argocd app get` shows it.
    expect(r.stdout).toMatch(/^ConfigMap\/e2e-cli-good\/good\s+Synced\s*$/m);
  });

  it("app logs says when the app runs no pods (exit 3)", async () => {
    const r = await run(["app", "logs", "good"]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toContain("good: no pods in its tree; `tether app get good` shows what it deployed");
  });

  it("JSON carries no managedFields", async () => {
    const list = (await run(["app", "list", "-o", "json"])).stdout;
    expect(list).not.toContain("managedFields");
    expect(JSON.parse(list)).toHaveLength(2);
    expect((await run(["app", "get", "good", "-o", "yaml"])).stdout).not.toContain("managedFields");
  });

  it("filters by label (-l), project (-p) and lists every namespace (-A)", async () => {
    expect((await run(["app", "list", "-l", "team=a", "-o", "name"])).stdout).toBe("good");
    expect((await run(["app", "list", "-p", "nosuch", "-o", "name"])).stdout).toBe("");
    expect((await run(["app", "list", "-p", "default", "-o", "name"])).stdout).toBe("good\nleaky");
    const all = await tether(["app", "list", "-A", "-l", "team"], { kubeconfig: kubeconfigPath });
    expect(all.stdout).toMatch(new RegExp(`^NAMESPACE\\s+NAME[^\\n]*\\n${NS}\\s+good`));
  });
});

describe("app suspend and resume", () => {
  it("turn automation off and on with an annotation the parent does not own, shown by list and get", async () => {
    const suspended = await run(["app", "suspend", "good"]);
    expect(suspended.exitCode, suspended.stderr).toBe(0);
    expect((await reader.get("good")).metadata?.annotations?.["tether.dev/suspend"]).toBe("true");
    expect((await run(["app", "list", "-o", "wide"])).stdout).toMatch(/^good\s.*\ssuspended\s/m);
    expect((await run(["app", "get", "good"])).stdout).toContain(", suspended");
    const resumed = await run(["app", "resume", "good"]);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect((await reader.get("good")).metadata?.annotations?.["tether.dev/suspend"]).toBeUndefined();
    expect((await run(["app", "list", "-o", "wide"])).stdout).toMatch(/^good\s.*\sauto,prune,selfHeal\s/m);
  });
});

describe("project list", () => {
  it("lists the AppProjects in the cluster", async () => {
    const r = await run(["project", "list"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+DESTINATIONS\s+SOURCES\s+DESCRIPTION\ndefault\s/);
    expect((await run(["project", "list", "-o", "name"])).stdout).toBe("default");
  });
});

describe("app delete", () => {
  it("--cascade=false deletes an app that is only in the cluster and leaves what it deployed", async () => {
    const handmade = application("handmade", { repoURL: repo.url, path: "good", destNamespace: "e2e-cli-handmade", agentNamespace: NS, syncPolicy: automated, finalizer: true });
    await applyApp(objects, handmade);
    await reader.until("handmade", "Synced and Healthy", syncedAndHealthy());
    const r = await run(["app", "delete", "handmade", "--cascade=false", "--repo", repo.url], { cwd: scratch });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("handmade: not in Git; deleted from the cluster; what it deployed is left running");
    await eventually("handmade gone", async () => ((await run(["app", "list", "-o", "name"])).stdout.includes("handmade") ? undefined : true), 30_000);
    expect((await core.readNamespacedConfigMap({ name: "good", namespace: "e2e-cli-handmade" })).data?.VALUE).toBeDefined();
  });

  it("--cascade takes true or false (exit 2)", async () => {
    const r = await run(["app", "delete", "good", "--cascade", "maybe"], { cwd: scratch });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain("--cascade maybe: expected true or false");
  });
});

describe("kubeconfig trouble says the next step", () => {
  it("merges a multi-file KUBECONFIG=a:b as kubectl does", async () => {
    const other = path.join(scratch, "other.kubeconfig");
    await writeFile(other, "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n");
    const r = await tether(["app", "list", "-n", NS, "-o", "name"], { env: { KUBECONFIG: `${other}${path.delimiter}${kubeconfigPath}` } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe("good\nleaky");
  });

  it("--context nope names the contexts there are (exit 2)", async () => {
    const r = await run(["app", "list", "--context", "nope"]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--context nope: no such context in the kubeconfig \(known: [^)]+\)/);
  });

  it("no kubeconfig at all says how to get one (exit 2)", async () => {
    const r = await tether(["app", "list"], { env: { HOME: scratch } });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain("no kubeconfig found: pass --kubeconfig PATH, set KUBECONFIG, or write ~/.kube/config");
    expect(r.stderr).not.toContain("HTTP protocol");
  });

  it("an unreachable API server is named with what to check (exit 1)", async () => {
    const dead = path.join(scratch, "dead.kubeconfig");
    await writeFile(dead, (await readFile(kubeconfigPath, "utf8")).replace(/server: https:\/\/127\.0\.0\.1:\d+/, "server: https://127.0.0.1:1"));
    const r = await tether(["app", "list"], { kubeconfig: dead });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain("cannot reach the Kubernetes API server at https://127.0.0.1:1 (ECONNREFUSED): is the cluster running?");
  });

  it("an API server without Tether's API says to run tether install (exit 1)", async () => {
    // A real API server answering "404 page not found" for tether.dev, as one without `tether install` does:
    // the kubeconfig's server URL carries a path prefix the server does not serve.
    const bare = path.join(scratch, "bare.kubeconfig");
    await writeFile(bare, (await readFile(kubeconfigPath, "utf8")).replace(/(server: https:\/\/127\.0\.0\.1:\d+)/, "$1/no-tether"));
    for (const args of [["app", "list"], ["app", "get", "good"], ["app", "wait", "good"]]) {
      const r = await tether([...args, "-n", NS], { kubeconfig: bare });
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toContain("has no Tether API (tether.dev/v1alpha1): run `tether install` with this kubeconfig first");
      expect(r.stderr).not.toContain("Headers");
    }
  });
});
