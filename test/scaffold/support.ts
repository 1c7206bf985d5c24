// Helpers for the scaffolding suites: the CLI as a user runs it (from a directory of their choosing),
// and snapshots of a repository to prove a failed command left it exactly as it was.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { simpleGit } from "simple-git";
import { pathWithTools, repoRoot } from "../harness/paths.ts";

const tether = path.join(repoRoot, "bin", "tether.mjs");

/** Runs `tether ARGS` in `cwd`; never throws on a non-zero exit. */
export function tetherIn(cwd: string, args: readonly string[], opts: { kubeconfig?: string; env?: Record<string, string> } = {}) {
  return execa(process.execPath, [tether, ...args], {
    cwd, reject: false,
    env: { PATH: pathWithTools(), ...(opts.kubeconfig ? { KUBECONFIG: opts.kubeconfig } : {}), TETHER_GIT_TOKEN: "", TETHER_GIT_REPO: "", ...opts.env },
  });
}

/** Writes files (path -> content) under `dir`. */
export async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
}

/** What must not change when a command fails: the remote branch, and the clone's status and HEAD. */
export async function snapshot(bare: string, work?: string): Promise<string> {
  const remote = (await simpleGit(bare).raw(["for-each-ref", "--format=%(refname) %(objectname)"])).trim();
  if (!work) return remote;
  const status = await simpleGit(work).raw(["status", "--porcelain", "--untracked-files=all"]);
  const head = (await simpleGit(work).revparse(["HEAD"])).trim();
  const worktrees = await simpleGit(work).raw(["worktree", "list", "--porcelain"]);
  return `${remote}\n--\n${head}\n${status}--\n${worktrees}`;
}

export const configMapYaml = (name: string, value: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  MESSAGE: "${value}"\n`;
