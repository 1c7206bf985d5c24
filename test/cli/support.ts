// The CLI as a user runs it, with the environment under the test's control (no inherited KUBECONFIG).
import path from "node:path";
import { execa } from "execa";
import { pathWithTools, repoRoot } from "../harness/paths.ts";

/** The bundle global-setup builds: what an installed `tether` runs. */
const bundle = path.join(repoRoot, "dist", "tether.mjs");

export interface RunOptions {
  readonly kubeconfig?: string;
  readonly cwd?: string;
  readonly env?: Record<string, string | undefined>;
}

/** Runs `tether ARGS`; never throws on a non-zero exit; `ms` is how long it took. */
export async function tether(args: readonly string[], opts: RunOptions = {}) {
  const started = Date.now();
  const result = await execa(process.execPath, [bundle, ...args], {
    reject: false, extendEnv: false, ...(opts.cwd ? { cwd: opts.cwd } : {}),
    env: { PATH: pathWithTools(), HOME: process.env.HOME, ...(opts.kubeconfig ? { KUBECONFIG: opts.kubeconfig } : {}), ...opts.env },
  });
  return { ...result, ms: Date.now() - started };
}
