// `npm run demo` as a new user runs it, twice in a row in one checkout, then `npm run cluster:down`.
// `npm test` has already done the demo script's first steps (tools/setup.sh, the agent bundle, the web
// UI), so this runs what follows them, `tsx test/harness/demo.ts`, in a cluster directory of its own
// ($TETHER_CLUSTER_DIR, so a developer's .tether/cluster is left alone). The first run starts the control
// plane and the real node and bootstraps the agent as a pod there; the second reuses them and
// bootstraps again over what the first left (where it once failed on a 409 Conflict and a 422).
import { readFileSync, existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopControlPlane } from "../harness/controlplane.ts";
import { realNodeUnavailable, stopRecordedNode } from "../harness/node.ts";
import { pathWithTools, repoRoot } from "../harness/paths.ts";

const APPS = ["guestbook-ui", "message-app", "platform", "projects", "root"];
const NS = "tether-system";
const tsx = path.join(repoRoot, "node_modules", ".bin", "tsx");

let dir: string;
let head: string;
let firstPod: string;
let firstDaemon: string;

const env = () => ({ TETHER_CLUSTER_DIR: dir, PATH: pathWithTools() });

async function demo() {
  const started = Date.now();
  const r = await execa(tsx, ["test/harness/demo.ts"], { cwd: repoRoot, env: env(), reject: false, timeout: 600_000 });
  const seconds = (Date.now() - started) / 1000;
  console.error(`[demo] exit ${r.exitCode} in ${seconds.toFixed(0)}s`);
  return { ...r, seconds };
}

function core(): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(path.join(dir, "kubeconfig"));
  return kc.makeApiClient(CoreV1Api);
}

async function agentPods(): Promise<V1Pod[]> {
  const pods = await core().listNamespacedPod({ namespace: NS, labelSelector: "app.kubernetes.io/component=agent" });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** GET with a bearer token over HTTPS, trusting only `ca`. */
function get(url: string, token: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 10_000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => { body += d.toString(); });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

/** What a user sees at the end of a run: every app Synced and Healthy at HEAD, one agent pod on the node, the UI's address answering with the printed token. */
async function expectDeployed(run: { exitCode?: number; stdout: string; stderr: string }): Promise<V1Pod> {
  expect(run.exitCode, `${run.stdout}\n${run.stderr.split("\n").slice(-40).join("\n")}`).toBe(0);
  for (const app of APPS) expect(run.stdout).toMatch(new RegExp(`^${app}\\s+\\S+\\s+Synced\\s+Healthy\\s+${head}\\b`, "m"));
  const pods = await agentPods();
  expect(pods.map((p) => p.spec?.nodeName)).toEqual(["tether-node-0"]);
  const status = pods[0]!.status!.containerStatuses![0]!;
  expect(status.ready).toBe(true);
  expect(status.restartCount).toBe(0);
  const url = /^Web UI: (https:\/\/127\.0\.0\.1:\d+)\/ui\/$/m.exec(run.stdout)?.[1];
  const token = /DEMO ONLY token \([^)]*\): (\S+)$/m.exec(run.stdout)?.[1];
  expect(url, run.stdout).toBeDefined();
  expect(token, run.stdout).toBeDefined();
  const tls = await core().readNamespacedSecret({ name: "tether-agent-tls", namespace: NS });
  const listed = await get(`${url!}/api/v1/applications`, token!, Buffer.from(tls.data?.["ca.crt"] ?? "", "base64").toString());
  expect(listed.status, listed.body).toBe(200);
  for (const app of APPS) expect(listed.body).toContain(`"${app}"`);
  return pods[0]!;
}

beforeAll(async () => {
  const unavailable = realNodeUnavailable();
  if (unavailable) throw new Error(`the demo's real node cannot start here: ${unavailable}`);
  dir = await mkdtemp(path.join(os.tmpdir(), "tether-demo-"));
  head = (await execa("git", ["rev-parse", "--short=7", "HEAD"], { cwd: repoRoot })).stdout.trim();
});

afterAll(async () => {
  if (!dir) return;
  await stopRecordedNode(dir);
  await stopControlPlane(dir);
  await rm(dir, { recursive: true, force: true });
}, 120_000);

describe("npm run demo, twice in a row in one checkout", () => {
  it("deploys components/ with the agent as a pod on the real node, on a fresh checkout", async () => {
    const run = await demo();
    firstPod = (await expectDeployed(run)).metadata!.name!;
    firstDaemon = readFileSync(path.join(dir, "node", "git-daemon.pid"), "utf8");
  }, 900_000);

  it("runs again over what the first run left: reuses the cluster, node and git daemon, and a new agent pod takes over", async () => {
    const run = await demo();
    const pod = await expectDeployed(run);
    expect(run.stderr).toContain("reusing the local control plane");
    expect(run.stderr).toContain("reusing the real node tether-node-0");
    // One daemon across runs, the same repoURL: the first one's is not left behind.
    expect(readFileSync(path.join(dir, "node", "git-daemon.pid"), "utf8")).toBe(firstDaemon);
    expect(pod.metadata?.name).not.toBe(firstPod);
  }, 900_000);

  it("npm run cluster:down stops the node, the git daemon and the control plane", async () => {
    const pids = readFileSync(path.join(dir, "pids"), "utf8").split("\n").filter(Boolean).map((l) => Number(l.split(" ")[0]));
    pids.push(Number(readFileSync(path.join(dir, "node", "pid"), "utf8").split(" ")[0]), Number(firstDaemon.split(" ")[0]));
    const down = await execa(tsx, ["test/harness/cli.ts", "down"], { cwd: repoRoot, env: env(), reject: false });
    expect(down.exitCode, down.stderr).toBe(0);
    // Any process left in those process groups, zombies aside.
    const ps = (await execa("ps", ["-eo", "pgid=,stat=,args="])).stdout.split("\n").map((l) => l.trim().split(/\s+/));
    expect(ps.filter(([pgid, stat]) => pids.includes(Number(pgid)) && !stat?.startsWith("Z")).map((f) => f.join(" "))).toEqual([]);
    expect(existsSync(path.join(dir, "node", "git-daemon.pid"))).toBe(false);
  }, 120_000);
});
