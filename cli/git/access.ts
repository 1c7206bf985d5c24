// Which repository a scaffolding command writes to and how: `--repo URL|PATH` (or TETHER_GIT_REPO,
// or the clone the command runs in), `--git-token` (or TETHER_GIT_TOKEN) for HTTPS.
import { stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { gitRaw, gitRevArgv } from "../../agent/exec.ts";
import { parseRepoUrl, type Credentials } from "../../agent/source/repo-url.ts";
import { UsageError } from "../errors.ts";
import { cliGit } from "./git.ts";

/** The repository flags every writing command takes. */
export interface RepoFlags {
  readonly repo?: string;
  readonly gitToken?: string;
  readonly gitUser?: string;
  readonly branch?: string;
}

/** A repository resolved from {@link RepoFlags}. */
export interface RepoAccess {
  /** The repository as messages name it: the URL without credentials, or the path. */
  readonly display: string;
  /**
   * `remote`: cloned into a temporary directory and pushed to (URLs and bare repositories).
   * `local`: a working clone of the user's; tether commits there and pushes to its upstream.
   */
  readonly mode: "remote" | "local";
  /** `remote`: what git is given. `local`: the top-level directory of the working clone. */
  readonly location: string;
  readonly credentials?: Credentials;
  /** `--branch`: the branch the root Application watches; default the remote's default branch. */
  readonly branch?: string;
}

/** Adds `--repo`, `--git-token`, `--git-user`, `--branch` and `--dry-run` to a writing command. */
export function repoOptions(cmd: Command): Command {
  return cmd
    .option("--repo <url|path>", "the GitOps repository: an HTTPS/SSH/file URL, a bare repository, or a local clone (default: $TETHER_GIT_REPO, else the clone you are in)")
    .option("--git-token <token>", "token for an HTTPS repository (default: $TETHER_GIT_TOKEN); passed to git in its environment only, never written to disk")
    .option("--git-user <name>", "user name sent with --git-token", "git")
    .option("--branch <name>", "branch to commit to: the one the root Application watches (default: the repository's default branch)")
    .option("--dry-run", "print the files and the diff that would be committed; change nothing", false);
}

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;
const SCP_LIKE = /^[^/\s]+@[^/:\s]+:/;

/** Resolves the flags (and environment) to a repository; checks that a path is a git repository. */
export async function resolveAccess(flags: RepoFlags, cwd = process.cwd()): Promise<RepoAccess> {
  const raw = flags.repo ?? process.env.TETHER_GIT_REPO;
  const token = flags.gitToken ?? process.env.TETHER_GIT_TOKEN;
  const branch = flags.branch ? { branch: flags.branch } : {};
  // A clone's upstream may be an HTTPS server that wants the token.
  const local = { ...branch, ...(token ? { credentials: { username: flags.gitUser ?? "git", password: token } } : {}) };
  if (raw === undefined || raw === "") {
    const top = await topLevel(cwd);
    if (!top) throw new UsageError("no repository: pass --repo URL|PATH or set TETHER_GIT_REPO (or run the command inside a clone of the GitOps repository)");
    return { display: top, mode: "local", location: top, ...local };
  }
  if (/^file:\/\//i.test(raw)) return await localAccess(fileURLToPath(raw), raw, local);
  if (URL_LIKE.test(raw) || SCP_LIKE.test(raw)) {
    const parsed = parseRepoUrl(raw);
    if (flags.gitToken && !parsed.isHttp) throw new UsageError(`--git-token is for HTTPS repositories; ${parsed.url} uses SSH or a local path: drop the token`);
    const credentials = parsed.isHttp && token ? { username: flags.gitUser ?? "git", password: token } : parsed.inlineCredentials;
    return { display: parsed.url, mode: "remote", location: parsed.url, ...(credentials ? { credentials } : {}), ...branch };
  }
  return await localAccess(path.resolve(cwd, raw), raw, local);
}

async function localAccess(dir: string, display: string, extra: Pick<RepoAccess, "branch" | "credentials">): Promise<RepoAccess> {
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) {
    throw new UsageError(`--repo ${display}: no such directory; pass a URL, a bare repository or a clone`);
  }
  const git = cliGit(dir);
  const bare = (await gitRaw(git, gitRevArgv({ options: ["rev-parse", "--is-bare-repository"] })).catch(() => "")).trim();
  if (bare === "true") return { display: dir, mode: "remote", location: dir, ...extra };
  const top = await topLevel(dir);
  if (!top) throw new UsageError(`--repo ${display} is not a git repository: create one with \`git init --bare ${display}\`, or pass a URL`);
  return { display: top, mode: "local", location: top, ...extra };
}

async function topLevel(dir: string): Promise<string | undefined> {
  const out = await gitRaw(cliGit(dir), gitRevArgv({ options: ["rev-parse", "--show-toplevel"] })).catch(() => "");
  return out.trim() || undefined;
}
