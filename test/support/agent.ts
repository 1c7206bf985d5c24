import { spawn, type ChildProcess } from "node:child_process";
import https from "node:https";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { pathWithTools, repoRoot } from "../harness/paths.ts";

/** The bundled CLI, as the image and an installed `tether` run it; global-setup builds it. */
const tether = path.join(repoRoot, "dist", "tether.mjs");

/** Runs the `tether` CLI as a user would; never throws on a non-zero exit. `env` adds to it (TETHER_CONFIG for a login). */
export function cli(args: readonly string[], opts: { kubeconfig: string; input?: string; env?: Readonly<Record<string, string>> }) {
  return execa(process.execPath, [tether, ...args], {
    reject: false, env: { KUBECONFIG: opts.kubeconfig, PATH: pathWithTools(), ...opts.env }, ...(opts.input ? { input: opts.input } : {}),
  });
}

/** A `tether agent` process, as a user starts it. */
export interface AgentProcess {
  readonly logs: () => string;
  /** Port of its HTTP surface (/metrics, /readyz). */
  readonly port: number;
  /** The process id, for CPU and memory figures read from /proc. */
  readonly pid: number;
  metric(name: string): Promise<number>;
  /** SIGTERM and wait; `kill` sends SIGKILL (a crash). */
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export async function startAgent(opts: {
  kubeconfig: string; namespace: string; pollInterval?: string; cacheDir?: string; extraArgs?: readonly string[];
  /** The test repositories are file:// URLs, so `--allow-local-repos` is passed unless this is false. */
  allowLocalRepos?: boolean;
  /** `/metrics` without a token (`--metrics-allow-unauthenticated`), as the suites read figures; default true. */
  metricsOpen?: boolean;
  /** Extra environment (TMPDIR, to see what the agent leaves in its temporary directory). */
  env?: Record<string, string>;
  /** Options for node itself (`--cpu-prof`, for the profiling bench). */
  nodeArgs?: readonly string[];
}): Promise<AgentProcess> {
  const cacheDir = opts.cacheDir ?? await mkdtemp(path.join(os.tmpdir(), "tether-agent-cache-"));
  const child: ChildProcess = spawn(process.execPath, [...opts.nodeArgs ?? [], tether, "agent", "--kubeconfig", opts.kubeconfig, "--namespace", opts.namespace,
    "--poll-interval", opts.pollInterval ?? "3s", "--listen", "127.0.0.1:0", "--cache-dir", cacheDir,
    ...(opts.metricsOpen === false ? [] : ["--metrics-allow-unauthenticated"]),
    ...(opts.allowLocalRepos === false ? [] : ["--allow-local-repos"]), ...opts.extraArgs ?? []], {
    env: { ...process.env, PATH: pathWithTools(), ...opts.env }, stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => { output += d.toString(); });
  child.stderr?.on("data", (d: Buffer) => { output += d.toString(); });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start within 30s:\n${output}`)), 30_000);
    const check = () => {
      const m = /metrics on https?:\/\/[\d.]+:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`agent exited with ${code}:\n${output}`)); });
  });
  // 'exit' may come before the last lines written to stdout are read ("released Lease" just before
  // process.exit): wait for the pipes to close too, a moment at most (a grandchild could hold them).
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
    .then(() => Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, 2000))]));
  return {
    logs: () => output,
    port,
    pid: child.pid ?? 0,
    async metric(name) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return text.split("\n").filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
    },
    async stop() {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(killer);
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** GET over HTTPS trusting only `ca` (PEM): the agent's serving certificate checked as a client checks it. */
export function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca, timeout: 5_000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => { body += d.toString(); });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject).on("timeout", function (this: { destroy(e: Error): void }) { this.destroy(new Error(`${url}: no answer in 5s`)); });
  });
}
