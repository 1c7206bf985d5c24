// `npm run bench:profile`: CPU profiles of the agent (node --cpu-prof), one process per phase so each
// profile shows one kind of work: (1) the first sync of N apps × M ConfigMaps, (2) K one-ConfigMap Applications under one
// root, (3) a restart on all those synced apps and BENCH_NOOP_ROUNDS (4) no-op poll rounds. Each profile
// is summarised (top self and inclusive time, test/bench/cpuprofile.ts) and kept in BENCH_PROFILE_DIR
// (default: a temporary directory, printed). Sizes: BENCH_APPS, BENCH_PER_APP, BENCH_ONE_APPS, BENCH_MANY_APPS
// ((5) `fleet`: that many one-ConfigMap Applications created at once, as the bench's fleet phase).
// BENCH_ONLY=first-sync,one-root,noop,fleet profiles only those phases.
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { TetherClient } from "../../agent/api/client.ts";
import type { Application, Manifest } from "../../agent/api/types.ts";
import { startControlPlane } from "../harness/controlplane.ts";
import { pathWithTools } from "../harness/paths.ts";
import { cli, startAgent } from "../support/agent.ts";
import { createRepo } from "../support/git.ts";
import { summarise } from "./cpuprofile.ts";

const APPS = Number(process.env.BENCH_APPS ?? 20);
const PER_APP = Number(process.env.BENCH_PER_APP ?? 20);
const ONE_APPS = Number(process.env.BENCH_ONE_APPS ?? 200);
const NOOP_ROUNDS = Number(process.env.BENCH_NOOP_ROUNDS ?? 4);
const MANY_APPS = Number(process.env.BENCH_MANY_APPS ?? 500);
const ONLY = process.env.BENCH_ONLY?.split(",").map((p) => p.trim()).filter(Boolean);
const runs = (phase: string) => ONLY === undefined || ONLY.includes(phase);
const AGENT_ARGS = (process.env.BENCH_AGENT_ARGS ?? "").split(" ").filter(Boolean);
const NS = "tether-system";
process.env.PATH = pathWithTools();

const dir = await mkdtemp(path.join(os.tmpdir(), "tether-profile-"));
const out = process.env.BENCH_PROFILE_DIR ?? path.join(dir, "profiles");
const plane = await startControlPlane({ dir: path.join(dir, "cluster"), ownerPid: process.pid });
const kubeconfig = plane.kubeconfigPath;
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const repo = await createRepo();
const yaml = (obj: unknown) => `${JSON.stringify(obj)}\n`;
const configMap = (name: string, value: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { VALUE: value } });
const application = (name: string, p: string, namespace: string, repoURL?: string): Manifest => ({
  apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name, namespace: NS },
  spec: { project: "default", source: { ...(repoURL ? { repoURL } : {}), targetRevision: "main", path: p }, destination: { namespace },
    syncPolicy: { automated: { prune: true, selfHeal: true } } },
});
const custom = kc.makeApiClient(CustomObjectsApi);
const create = (app: Manifest) => custom.createNamespacedCustomObject({ group: "tether.dev", version: "v1alpha1", namespace: NS, plural: "applications", body: app });
const synced = (revision: string) => (a: Application) =>
  a.status?.sync?.status === "Synced" && a.status.sync.revision === revision && a.status.health?.status === "Healthy";

async function until(client: TetherClient, ok: (a: Application) => boolean, count: number): Promise<number> {
  const t0 = Date.now();
  while ((await client.listApplications()).filter(ok).length < count) await sleep(500);
  return Date.now() - t0;
}

/** CPU seconds (user + system) of a process so far, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

/** Runs `phase` with an agent under --cpu-prof, stops it (the profile is written at exit) and summarises the profile. */
async function profiled(name: string, phase: (agent: Awaited<ReturnType<typeof startAgent>>) => Promise<string>): Promise<void> {
  if (!runs(name)) return;
  const where = path.join(out, name);
  await mkdir(where, { recursive: true });
  const agent = await startAgent({ kubeconfig, namespace: NS, pollInterval: "5s", extraArgs: AGENT_ARGS,
    nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${where}`] });
  const figure = await phase(agent);
  await agent.stop();
  const file = (await readdir(where)).find((f) => f.endsWith(".cpuprofile"));
  console.log(`\n=== ${name}: ${figure} (load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")})\n${file ? summarise(path.join(where, file), 25) : "no profile written"}`);
}

try {
  const installed = await cli(["install", "--namespace", NS], { kubeconfig });
  if (installed.exitCode !== 0) throw new Error(`tether install failed: ${installed.stderr}`);
  const client = new TetherClient(kc, NS);
  const files: Record<string, string> = {};
  for (let a = 0; a < APPS; a++) for (let c = 0; c < PER_APP; c++) files[`many/app-${a}/cm-${c}.yaml`] = yaml(configMap(`cm-${c}`, "0"));
  for (let i = 0; i < MANY_APPS; i++) files[`fleet/app-${i}/cm.yaml`] = yaml(configMap(`fleet-${i}`, "0"));
  for (let i = 0; i < ONE_APPS; i++) {
    files[`root/app-${i}.yaml`] = yaml(application(`one-${i}`, `one/app-${i}`, "ones"));
    files[`one/app-${i}/cm.yaml`] = yaml(configMap(`one-${i}`, "0"));
  }
  const head = await repo.commit(files, "apps");
  const namespaces = [...Array.from({ length: APPS }, (_, a) => `a-${a}`), "ones", "fleet"];
  const core = kc.makeApiClient(CoreV1Api);
  for (const ns of namespaces) await core.createNamespace({ body: { metadata: { name: ns } } });
  const apps = Array.from({ length: APPS }, (_, a) => application(`many-${a}`, `many/app-${a}`, `a-${a}`, repo.url));

  await profiled("first-sync", async () => {
    // 16 in flight, as `npm run bench` creates them: the agent batches what arrives together (one extraction per commit).
    for (let i = 0; i < apps.length; i += 16) await Promise.all(apps.slice(i, i + 16).map(create));
    return `${APPS}×${PER_APP} first sync ${((await until(client, synced(head), APPS)) / 1000).toFixed(2)} s`;
  });
  await profiled("one-root", async () => {
    await create(application("root", "root", NS, repo.url));
    const ms = await until(client, (a) => a.metadata?.name?.startsWith("one-") === true && synced(head)(a), ONE_APPS);
    return `${ONE_APPS}×1 under one root ${(ms / 1000).toFixed(2)} s (${(ONE_APPS / ms * 1000).toFixed(1)} apps/s)`;
  });
  await profiled("noop", async (agent) => {
    const rounds = async () => await agent.metric("tether_reconciles_total");
    const all = APPS + ONE_APPS + 1;
    // The restart reconciles every app once (renders included), then the poll every 5 s: the rounds
    // after the first are what a no-op round costs.
    while (await rounds() < all) await sleep(200);
    const cpu0 = cpuSeconds(agent.pid);
    const reconciles0 = await rounds();
    // Read every second: each read of /metrics costs the agent CPU that would count as the round's.
    while (await rounds() < reconciles0 + NOOP_ROUNDS * all) await sleep(1000);
    const perRound = (cpuSeconds(agent.pid) - cpu0) / NOOP_ROUNDS;
    const writes = await Promise.all(["apply", "apply_dry_run", "delete", "status", "patch", "event"]
      .map(async (verb) => `${verb} ${await agent.metric(`tether_kube_writes_total{verb="${verb}"}`)}`));
    return `restart + ${NOOP_ROUNDS} poll rounds over ${all} synced apps (${await agent.metric("tether_live_cache_objects")} objects): `
      + `${perRound.toFixed(2)} s CPU per round; writes ${writes.join(", ")}; ${await agent.metric('tether_live_reads_total{source="get"}')} GETs`;
  });
  await profiled("fleet", async () => {
    const t0 = Date.now();
    const fleet = Array.from({ length: MANY_APPS }, (_, i) => application(`fleet-${i}`, `fleet/app-${i}`, "fleet", repo.url));
    for (let i = 0; i < fleet.length; i += 16) await Promise.all(fleet.slice(i, i + 16).map(create));
    const ms = await until(client, (a) => a.metadata?.name?.startsWith("fleet-") === true && synced(head)(a), MANY_APPS);
    return `${MANY_APPS}×1 created at once ${((Date.now() - t0) / 1000).toFixed(2)} s (all Synced ${(ms / 1000).toFixed(2)} s after the last was created)`;
  });
  console.log(`\nprofiles in ${out} (open in Chrome DevTools or speedscope)`);
} finally {
  await plane.stop();
  await repo.cleanup();
  if (!process.env.BENCH_PROFILE_DIR) console.log(`(kept ${out}; remove ${dir} when done)`);
  else await rm(path.join(dir, "cluster"), { recursive: true, force: true });
}
