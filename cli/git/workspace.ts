// Where a scaffolding command writes before it commits: a temporary clone of a remote repository,
// or a temporary worktree of the user's own clone. Either way the user's files are never touched
// until the commit exists (and, with an upstream, has been pushed), so a failure leaves nothing
// behind: no half-written file, no stray commit on any branch.
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { SimpleGit } from "simple-git";
import { errorMessage } from "../../agent/errors.ts";
import { argv, gitRaw, gitRevArgv, type Argv } from "../../agent/exec.ts";
import { ConflictError, UsageError } from "../errors.ts";
import type { RepoAccess } from "./access.ts";
import { classifyGitError, cliGit, explainGitError } from "./git.ts";

/** A git command failed for a reason the user has to fix (network, credentials, server): exit 1. */
export class RepositoryError extends Error {
  readonly exitCode: number = 1;
}

/** The push was rejected because the branch moved: fetch, re-plan on top, push again. */
export class PushRejectedError extends Error {}

/** A checkout to write in, and how its commit reaches the branch. */
export interface Workspace {
  readonly dir: string;
  readonly git: SimpleGit;
  readonly branch: string;
  /** "main of https://host/org/gitops.git", as messages say it. */
  readonly target: string;
  /** Makes the workspace the branch's latest commit again, after a rejected push. */
  refresh(): Promise<void>;
  /** Delivers HEAD to the branch; returns lines to show (what was pushed where). */
  publish(): Promise<string[]>;
  close(): Promise<void>;
}

/** Options for {@link openWorkspace}. */
export interface OpenOptions {
  /**
   * Paths (files or directories) the command may change. A local clone with uncommitted changes
   * there is refused: the commit would not contain what the user sees in those files.
   */
  readonly guard: readonly string[];
}

export async function openWorkspace(access: RepoAccess, opts: OpenOptions): Promise<Workspace> {
  return access.mode === "remote" ? await openClone(access) : await openWorktree(access, opts);
}

/** Runs git and turns a failure into a message that says what to do (token and paths scrubbed). */
export async function runGit(git: SimpleGit, args: Argv, ctx: { access: RepoAccess; action: string; paths?: readonly string[] }): Promise<string> {
  try {
    return await gitRaw(git, args);
  } catch (err) {
    const stderr = errorMessage(err);
    const secrets = ctx.access.credentials ? [ctx.access.credentials.password] : [];
    const message = explainGitError(stderr, { repo: ctx.access.display, hadToken: secrets.length > 0, action: ctx.action, secrets, paths: ctx.paths ?? [] });
    if (ctx.action === "push" && classifyGitError(stderr) === "rejected") throw new PushRejectedError(message);
    throw new RepositoryError(message);
  }
}

/** Removes `dir` if the process is interrupted while it exists; returns the function that stops watching. */
function removeOnInterrupt(dir: string): () => void {
  const handler = () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

/** The default branch and the branches of a remote, from `git ls-remote --symref`. */
export function parseLsRemote(out: string): { head?: string; branches: Map<string, string> } {
  const branches = new Map<string, string>();
  let head: string | undefined;
  for (const line of out.split("\n")) {
    const sym = /^ref: refs\/heads\/(\S+)\s+HEAD$/.exec(line);
    if (sym) head = sym[1];
    const ref = /^([0-9a-f]{40,64})\s+refs\/heads\/(\S+)$/.exec(line);
    if (ref) branches.set(ref[2]!, ref[1]!);
  }
  return head === undefined ? { branches } : { head, branches };
}

async function openClone(access: RepoAccess): Promise<Workspace> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "tether-repo-"));
  const stopWatching = removeOnInterrupt(tmp);
  const close = async () => {
    stopWatching();
    await rm(tmp, { recursive: true, force: true });
  };
  try {
    const dir = path.join(tmp, "repo");
    await mkdir(dir);
    const git = cliGit(dir, access.credentials);
    const ctx = (action: string) => ({ access, action, paths: [tmp] });
    await runGit(git, argv({ options: ["init", "-q"] }), ctx("init"));
    await runGit(git, argv({ options: ["remote", "add"], positionals: ["origin", access.location] }), ctx("init"));
    const remote = parseLsRemote(await runGit(git, argv({ options: ["ls-remote", "--symref"], positionals: ["origin"] }), ctx("reading")));
    const empty = remote.branches.size === 0;
    const branch = access.branch ?? remote.head ?? (empty ? await unbornBranch(git, tmp, access) : [...remote.branches.keys()][0]) ?? "main";
    const fetchBranch = async () => {
      await runGit(git, argv({ options: ["fetch", "-q", "--no-tags"], positionals: ["origin", `+refs/heads/${branch}:refs/remotes/origin/${branch}`] }), ctx("fetch"));
      // -B takes the next word as its value; the start point begins with refs/ (git 2.39's checkout refuses --end-of-options here).
      await runGit(git, argv({ options: ["checkout", "-q", "-B", branch, `refs/remotes/origin/${branch}`] }), ctx("checkout"));
    };
    if (remote.branches.has(branch)) {
      await fetchBranch();
    } else if (empty) {
      // An empty repository: the first commit starts the branch.
      await runGit(git, argv({ options: ["symbolic-ref"], positionals: ["HEAD", `refs/heads/${branch}`] }), ctx("init"));
    } else {
      throw new UsageError(`--branch ${branch}: no such branch in ${access.display}; it has ${[...remote.branches.keys()].join(", ")}`);
    }
    return {
      dir, git, branch, target: `${branch} of ${access.display}`,
      async refresh() {
        await fetchBranch();
        await runGit(git, argv({ options: ["clean", "-qfdx"] }), ctx("clean"));
      },
      async publish() {
        await runGit(git, argv({ options: ["push", "-q"], positionals: ["origin", `HEAD:refs/heads/${branch}`] }), ctx("push"));
        return [`pushed to ${branch} of ${access.display}`];
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The branch an empty repository will start, as its HEAD names it: `ls-remote` does not show an
 * unborn HEAD, but a clone learns it (protocol v2).
 */
async function unbornBranch(git: SimpleGit, tmp: string, access: RepoAccess): Promise<string | undefined> {
  const probe = path.join(tmp, "probe");
  try {
    await runGit(git, argv({ options: ["clone", "-q", "--bare"], positionals: [access.location, probe] }), { access, action: "clone", paths: [tmp] });
    const head = await gitRaw(cliGit(probe), argv({ options: ["symbolic-ref", "--short"], positionals: ["HEAD"] })).catch(() => "");
    return head.trim() || undefined;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

interface Upstream {
  readonly remote: string;
  /** The branch on the remote (`main` for `refs/heads/main`). */
  readonly branch: string;
}

async function upstreamOf(git: SimpleGit, branch: string): Promise<Upstream | undefined> {
  const get = async (key: string) => (await gitRaw(git, argv({ options: ["config", "--get"], positionals: [key] })).catch(() => "")).trim();
  const remote = await get(`branch.${branch}.remote`);
  const merge = await get(`branch.${branch}.merge`);
  if (!remote || remote === "." || !merge.startsWith("refs/heads/")) return undefined;
  return { remote, branch: merge.slice("refs/heads/".length) };
}

/** The files under `guard` that differ from HEAD (or are untracked there), as `git status` shows them. */
async function localChanges(git: SimpleGit, guard: readonly string[]): Promise<string[]> {
  const out = await gitRaw(git, argv({ options: ["status", "--porcelain=v1", "--untracked-files=all"], positionals: guard }));
  return out.split("\n").filter((l) => l.trim() !== "");
}

async function localBranch(git: SimpleGit, access: RepoAccess): Promise<string> {
  const branch = (await gitRaw(git, argv({ options: ["symbolic-ref", "--short", "-q"], positionals: ["HEAD"] })).catch(() => "")).trim();
  if (!branch) throw new UsageError(`${access.display}: HEAD is detached; check out the branch the root Application watches (git switch main), or pass --repo URL`);
  if (access.branch && access.branch !== branch) {
    throw new UsageError(`--branch ${access.branch}: ${access.display} has ${branch} checked out; switch to ${access.branch} there, or pass --repo URL to work in a fresh clone`);
  }
  const head = (await gitRaw(git, gitRevArgv({ options: ["rev-parse", "--verify", "-q"], positionals: ["HEAD"] })).catch(() => "")).trim();
  if (!head) throw new UsageError(`${access.display} has no commit yet: commit something first, or pass the remote's URL as --repo`);
  return branch;
}

async function refuseLocalState(git: SimpleGit, access: RepoAccess, check: { guard: readonly string[]; branch: string; upstream?: Upstream }): Promise<void> {
  const dirty = await localChanges(git, check.guard);
  if (dirty.length > 0) {
    const shown = dirty.slice(0, 8).map((l) => `  ${l}`).join("\n");
    throw new ConflictError(`${access.display} has uncommitted changes where this command writes:\n${shown}${dirty.length > 8 ? `\n  ... and ${dirty.length - 8} more` : ""}\n`
      + `Commit or stash them first (git stash), or pass --repo URL to work in a fresh clone. Nothing was changed.`);
  }
  if (!check.upstream) return;
  const tracking = `refs/remotes/${check.upstream.remote}/${check.upstream.branch}`;
  const known = (await gitRaw(git, gitRevArgv({ options: ["rev-parse", "--verify", "-q"], positionals: [tracking] })).catch(() => "")).trim();
  if (!known) return;
  const ahead = Number((await gitRaw(git, gitRevArgv({ options: ["rev-list", "--count"], positionals: [`${tracking}..HEAD`] }))).trim());
  if (ahead > 0) {
    throw new ConflictError(`${check.branch} in ${access.display} has ${ahead} commit(s) that are not on ${check.upstream.remote}/${check.upstream.branch}; `
      + `tether would push them along with its own. Push them first (git push), or pass --repo URL. Nothing was changed.`);
  }
}

async function openWorktree(access: RepoAccess, opts: OpenOptions): Promise<Workspace> {
  const user = cliGit(access.location, access.credentials);
  const branch = await localBranch(user, access);
  const upstream = await upstreamOf(user, branch);
  await refuseLocalState(user, access, { guard: opts.guard, branch, ...(upstream ? { upstream } : {}) });

  const tmp = await mkdtemp(path.join(os.tmpdir(), "tether-worktree-"));
  const dir = path.join(tmp, "tree");
  const stopWatching = removeOnInterrupt(tmp);
  const ctx = (action: string) => ({ access, action, paths: [tmp] });
  const close = async () => {
    stopWatching();
    await gitRaw(user, argv({ options: ["worktree", "remove", "--force"], positionals: [dir] })).catch(() => "");
    await rm(tmp, { recursive: true, force: true });
    await gitRaw(user, argv({ options: ["worktree", "prune"] })).catch(() => "");
  };
  await runGit(user, argv({ options: ["worktree", "add", "-q", "--detach"], positionals: [dir, "HEAD"] }), ctx("worktree")).catch(async (err: unknown) => {
    await close();
    throw err;
  });
  const git = cliGit(dir, access.credentials);
  const where = upstream ? `${branch} of ${access.display} (pushed to ${upstream.remote}/${upstream.branch})` : `${branch} of ${access.display}`;
  return {
    dir, git, branch, target: where,
    async refresh() {
      if (!upstream) throw new RepositoryError(`${branch} in ${access.display} moved while tether worked on it; run the command again`);
      const tracking = `refs/remotes/${upstream.remote}/${upstream.branch}`;
      await runGit(git, argv({ options: ["fetch", "-q", "--no-tags"], positionals: [upstream.remote, `+refs/heads/${upstream.branch}:${tracking}`] }), ctx("fetch"));
      // The commit begins with refs/ (git 2.39's reset refuses --end-of-options); `--` then ends the paths.
      await runGit(git, argv({ options: ["reset", "-q", "--hard", tracking] }), ctx("reset"));
      await runGit(git, argv({ options: ["clean", "-qfdx"] }), ctx("clean"));
    },
    async publish() {
      const sha = (await runGit(git, gitRevArgv({ options: ["rev-parse", "--verify"], positionals: ["HEAD"] }), ctx("commit"))).trim();
      const lines: string[] = [];
      if (upstream) {
        await runGit(git, argv({ options: ["push", "-q"], positionals: [upstream.remote, `HEAD:refs/heads/${upstream.branch}`] }), ctx("push"));
        lines.push(`pushed to ${upstream.branch} of ${upstream.remote}`);
      }
      // The user's branch follows: a fast-forward, since nothing of theirs was ahead of the commit's parent.
      try {
        await gitRaw(user, argv({ options: ["merge", "-q", "--ff-only"], positionals: [sha] }));
        lines.push(`${branch} in ${access.display} is now at ${sha.slice(0, 7)}`);
      } catch (err) {
        if (!upstream) throw new RepositoryError(`${branch} in ${access.display} moved while tether worked on it (${errorMessage(err).trim()}); nothing was changed, run the command again`);
        lines.push(`warning: could not fast-forward ${branch} in ${access.display} (${errorMessage(err).trim()}); run \`git pull --ff-only\` there`);
      }
      return lines;
    },
    close,
  };
}
