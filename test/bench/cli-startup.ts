// `npm run bench:cli`: start-up of the `tether` command as a user runs it (bin/tether.mjs, which runs
// the bundle in dist/), median of N runs each, next to `node -e 0` on the same machine at the same
// moment. Targets: `--help` and `app list --help` 0.2 s, `app list` against the local cluster 0.4 s.
// It prints; it asserts nothing. BENCH_RUNS sets N (default 15).
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isRunning, startControlPlane, type ControlPlane } from "../harness/controlplane.ts";
import { clusterStateDir, pathWithTools, repoRoot } from "../harness/paths.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const tether = path.join(repoRoot, "bin", "tether.mjs");

interface Case {
  readonly label: string;
  readonly args: readonly string[];
  readonly target?: number;
}

/** CPU seconds (user + system) of the children this process waited for, from /proc/self/stat (clock ticks of 10 ms). */
function childCpu(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").replace(/^.*\) /, "").split(" ");
  // After the command name: field 16 cutime and 17 cstime are at 13 and 14.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Wall seconds and CPU seconds of one run: on a busy machine the CPU time says what the command costs. */
function seconds(args: readonly string[], env: NodeJS.ProcessEnv): { wall: number; cpu: number } {
  const cpu = childCpu();
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status !== 0) throw new Error(`node ${args.join(" ")} exited ${run.status}: ${run.stderr.toString()}`);
  return { wall: elapsed, cpu: childCpu() - cpu };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The long-lived cluster of `npm run cluster:up` when it runs, else a throwaway one. */
async function cluster(): Promise<{ kubeconfig: string; plane?: ControlPlane }> {
  if (await isRunning(clusterStateDir)) return { kubeconfig: path.join(clusterStateDir, "kubeconfig") };
  const dir = await mkdtemp(path.join(os.tmpdir(), "tether-bench-cli-"));
  const plane = await startControlPlane({ dir, ownerPid: process.pid });
  return { kubeconfig: plane.kubeconfigPath, plane };
}

execFileSync(process.execPath, [path.join(repoRoot, "tools", "bundle.mjs")], { stdio: "inherit" });
const { kubeconfig, plane } = await cluster();
const env = { ...process.env, KUBECONFIG: kubeconfig, PATH: pathWithTools() };
try {
  execFileSync(process.execPath, [tether, "install"], { env, stdio: "ignore" });
  // A fresh API server answers 429 while the new CRD's storage initializes.
  for (let i = 0; spawnSync(process.execPath, [tether, "app", "list"], { env }).status !== 0; i++) {
    if (i > 60) throw new Error("tether app list kept failing after `tether install`");
    await new Promise((r) => setTimeout(r, 500));
  }
  const cases: Case[] = [
    { label: "node -e 0", args: ["-e", "0"] },
    { label: "tether --help", args: [tether, "--help"], target: 0.2 },
    { label: "tether app list --help", args: [tether, "app", "list", "--help"], target: 0.2 },
    { label: "tether app list (local cluster)", args: [tether, "app", "list"], target: 0.4 },
    { label: "tether version --client", args: [tether, "version", "--client"] },
  ];
  // Interleaved, so a burst of load on a shared machine falls on every case alike.
  const times = new Map(cases.map((c) => [c.label, [] as { wall: number; cpu: number }[]]));
  for (const c of cases) seconds(c.args, env);
  const loadBefore = os.loadavg()[0]!;
  for (let i = 0; i < RUNS; i++) for (const c of cases) times.get(c.label)!.push(seconds(c.args, env));
  const wall = (label: string) => median(times.get(label)!.map((t) => t.wall));
  const cpu = (label: string) => median(times.get(label)!.map((t) => t.cpu));
  const base = wall("node -e 0");
  console.log(`median of ${RUNS} runs, node ${process.version}, load average ${loadBefore.toFixed(2)} before and `
    + `${os.loadavg()[0]!.toFixed(2)} after, on ${os.cpus().length} CPUs`);
  console.log(`${"".padEnd(34)} ${"wall".padStart(7)}  ${"".padEnd(20)} ${"CPU (user+sys)".padStart(14)}`);
  for (const c of cases) {
    const m = wall(c.label);
    const target = c.target === undefined ? "" : `  target ${c.target.toFixed(2)} s ${m <= c.target ? "met" : "MISSED"}`;
    console.log(`${c.label.padEnd(34)} ${m.toFixed(3)} s  (node + ${(m - base).toFixed(3)} s) ${cpu(c.label).toFixed(2).padStart(11)} s${target}`);
  }
  console.log("On a busy machine (load average above the CPU count) the wall times mostly measure waiting for a CPU; "
    + "the CPU column is what each command costs.");
} finally {
  await plane?.stop();
}
