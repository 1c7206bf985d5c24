// The agent's own CPU for one app between "files written" and "apply", without a cluster: the real
// reconcile (build/render of a plain directory of PER_APP ConfigMap files → plan → read live → compare
// → decide → sync → status) over a plain directory's files (in memory, as GitSource.plainFiles reads them), with the cluster's side played by an in-memory
// server that answers a server-side apply as the API server does (uid, resourceVersion, managedFields).
// Only the edges are stand-ins; every stage between them is the agent's code.
//   npx tsx test/bench/app-cpu.ts                       # ms of CPU per app for each scenario
//   npx tsx --cpu-prof --cpu-prof-dir=/tmp/p test/bench/app-cpu.ts && npx tsx test/bench/cpuprofile.ts /tmp/p/*.cpuprofile
// Scenarios (APP_CPU_ROUNDS apps each, APP_CPU_PER_APP objects per app):
//   first-sync  a new app: nothing live, every object applied
//   push        a new commit that changed one file of the app: one object applied, the rest compared
//   no-op       the same commit again: every object compared, nothing applied
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { defaultProject } from "../../agent/api/install.ts";
import type { Application, Manifest, ObjectRef } from "../../agent/api/types.ts";
import type { Cluster, WriteOptions } from "../../agent/apply/cluster.ts";
import type { Destination } from "../../agent/apply/destinations.ts";
import { identity, refOf } from "../../agent/apply/inventory.ts";
import type { LiveReader } from "../../agent/controller/live.ts";
import { RenderCache, SyncMemo } from "../../agent/controller/memo.ts";
import { reconcile, type ReconcileDeps } from "../../agent/controller/reconcile.ts";
import type { PlainFile } from "../../agent/render/sources.ts";
import { ChartFetcher } from "../../agent/source/helm-repo.ts";

const ROUNDS = Number(process.env.APP_CPU_ROUNDS ?? 100);
const PER_APP = Number(process.env.APP_CPU_PER_APP ?? 20);
const ONLY = process.env.APP_CPU_ONLY?.split(",");
/** Rounds of the push and no-op scenarios (0 profiles the first sync alone). */
const PUSH_ROUNDS = Number(process.env.APP_CPU_PUSH_ROUNDS ?? 3);
const NOOP_ROUNDS = Number(process.env.APP_CPU_NOOP_ROUNDS ?? 1);

/** The fields an object sets, as a managedFields `fieldsV1` set. */
function fieldsOf(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [`f:${k}`, fieldsOf(v)]));
}

/** An API server's store, in memory: what a server-side apply leaves (managedFields of manager `tether`). */
class Server {
  private readonly objects = new Map<string, Manifest>();
  private version = 1000;
  readonly writes = { apply: 0, dryRun: 0, delete: 0, create: 0 };

  get(ref: ObjectRef): Manifest | undefined {
    return this.objects.get(identity(ref));
  }

  apply(obj: Manifest, opts: WriteOptions = {}): Manifest {
    const key = identity(refOf(obj));
    const before = this.objects.get(key);
    const { apiVersion, kind, metadata, ...body } = obj;
    const stored: Manifest = {
      apiVersion, kind, ...body,
      metadata: {
        ...metadata, uid: before?.metadata.uid ?? `uid-${key}`, resourceVersion: String(++this.version),
        creationTimestamp: before?.metadata.creationTimestamp ?? "2026-12-07T00:00:00Z",
        managedFields: [{
          manager: "tether", operation: "Apply", apiVersion, time: "2026-12-07T00:00:01Z", fieldsType: "FieldsV1",
          fieldsV1: fieldsOf({ ...body, metadata: { labels: metadata.labels, annotations: metadata.annotations } }),
        }],
      },
    };
    if (opts.dryRun) {
      this.writes.dryRun++;
      return stored;
    }
    this.writes.apply++;
    this.objects.set(key, stored);
    // What a client reads back is JSON, a fresh object each time.
    return JSON.parse(JSON.stringify(stored)) as Manifest;
  }
}

function clusterOf(server: Server): Cluster {
  return {
    isNamespaced: (_apiVersion, kind) => Promise.resolve(kind !== "Namespace"),
    plural: (_apiVersion, kind) => Promise.resolve(`${kind.toLowerCase()}s`),
    get: (ref) => Promise.resolve(server.get(ref)),
    apply: (obj, opts) => Promise.resolve(server.apply(obj, opts)),
    delete: () => Promise.resolve(),
    create: (obj) => Promise.resolve(obj),
    writes: server.writes,
  };
}

/** The watch-fed cache as a reconcile sees it once its watch delivered every apply (a JSON copy of the store). */
function liveOf(server: Server): LiveReader {
  const cache = new Map<string, Manifest>();
  return {
    read: (refs) => Promise.resolve(refs.map((ref) => cache.get(identity(ref)) ?? server.get(ref))),
    applied: (obj) => { cache.set(identity(refOf(obj)), obj); },
    found: () => undefined,
    tracked: () => [],
  };
}

const configMap = (name: string, value: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { VALUE: value } });

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), "tether-app-cpu-"));
  const server = new Server();
  const cluster = clusterOf(server);
  const destination: Destination = { name: "in-cluster", server: "https://kubernetes.default.svc", kc: new KubeConfig(), cluster, local: true };
  let commit = "c".repeat(40);
  const project = defaultProject();
  const deps: ReconcileDeps = {
    source: {
      fetch: () => Promise.resolve(),
      resolve: () => Promise.resolve(commit),
      checkout: () => Promise.resolve({ dir: root, cleanup: () => Promise.resolve() }),
      sharedTree: () => Promise.resolve({ dir: root, cleanup: () => Promise.resolve() }),
      // A plain directory's files as the mirror's objects give them (GitSource.plainFiles): no tree on disk.
      plainFiles: (_url, _commit, dir) => Promise.resolve(files.get(dir)),
    },
    charts: new ChartFetcher({ cacheDir: path.join(root, ".charts"), access: () => Promise.resolve(undefined) }),
    agentNamespace: "tether-system", decryptionKeys: () => Promise.resolve([]), project: () => Promise.resolve(project),
    renderCache: new RenderCache(), allowLocalRepos: true,
    destinations: { resolve: () => Promise.resolve(destination), impersonating: () => destination },
    live: { reader: () => liveOf(server) }, memo: new SyncMemo(), concurrency: 8,
  };
  const apps = new Map<string, Application>();
  const appOf = (i: number): Application => apps.get(`app-${i}`) ?? {
    apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: `app-${i}`, namespace: "tether-system", uid: `app-uid-${i}` },
    spec: { project: "default", source: { repoURL: "https://git.example.com/r.git", targetRevision: "main", path: `many/app-${i}` },
      destination: { namespace: `a-${i}` }, syncPolicy: { automated: { prune: true, selfHeal: true } } },
  };
  const files = new Map<string, PlainFile[]>();
  const write = async (i: number, c: number, value: string) => {
    const text = `${JSON.stringify(configMap(`cm-${c}`, value))}\n`;
    await writeFile(path.join(root, "many", `app-${i}`, `cm-${c}.yaml`), text);
    const dir = files.get(`many/app-${i}`) ?? [];
    dir[c] = { path: `cm-${c}.yaml`, size: text.length, text };
    files.set(`many/app-${i}`, dir);
  };
  for (let i = 0; i < ROUNDS; i++) {
    await mkdir(path.join(root, "many", `app-${i}`), { recursive: true });
    for (let c = 0; c < PER_APP; c++) await write(i, c, "0");
  }
  const run = async (scenario: string, before: (i: number) => Promise<void>): Promise<void> => {
    const applies = server.writes.apply;
    let cpu = 0;
    let wall = 0;
    for (let i = 0; i < ROUNDS; i++) {
      await before(i);
      const t0 = process.cpuUsage();
      const w0 = performance.now();
      const outcome = await reconcile({ app: appOf(i), freshness: { kind: "shared", since: 0, push: "touched" } }, deps);
      wall += performance.now() - w0;
      const used = process.cpuUsage(t0);
      cpu += (used.user + used.system) / 1000;
      if (outcome.error) throw new Error(`${scenario} app-${i}: ${outcome.error.message}`);
      const app = appOf(i);
      apps.set(`app-${i}`, { ...app, status: outcome.status });
    }
    if (ONLY === undefined || ONLY.includes(scenario)) {
      console.log(`${scenario.padEnd(11)} ${(cpu / ROUNDS).toFixed(2).padStart(7)} ms CPU/app ${(wall / ROUNDS).toFixed(2).padStart(7)} ms wall/app, `
        + `${server.writes.apply - applies} applies, ${ROUNDS} apps x ${PER_APP} objects`);
    }
  };
  await run("first-sync", () => Promise.resolve());
  for (let round = 1; round <= PUSH_ROUNDS; round++) {
    await run("push", async (i) => {
      commit = `${round}`.padStart(40, "0");
      await write(i, 0, String(round));
    });
  }
  for (let round = 0; round < NOOP_ROUNDS; round++) await run("no-op", () => Promise.resolve());
  await rm(root, { recursive: true, force: true });
}

await main();
