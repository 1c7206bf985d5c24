// Writing a change to a Git repository with the repository's own credential: fetch the branch into a
// fresh work tree, apply the edit, check the result (the caller's render), commit with a clear author
// and message, push. A push refused as non-fast-forward (someone pushed meanwhile) is retried from a new
// fetch with the edit applied again, so the commit always sits on top of what the server has. Nothing is
// pushed when the edit changes nothing or the check fails; the work tree is removed either way.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { TetherError, errorMessage } from "../errors.ts";
import { argv, gitRaw, gitRevArgv } from "../exec.ts";
import type { CredentialsProvider } from "../source/git-source.ts";
import { classifyFetchError, gitClient, gitReason, scrub } from "../source/git.ts";
import { isSshCredentials, parseRepoUrl, type RepoCredentials, type RepoLocation } from "../source/repo-url.ts";
import { openSshSession, type SshSession } from "../source/ssh.ts";

/** Who the commits are by. */
export interface CommitAuthor {
  readonly name: string;
  readonly email: string;
}

/** Tether's own name on the commits it writes, unless the caller says otherwise. */
export const DEFAULT_AUTHOR: CommitAuthor = { name: "Tether Image Updater", email: "noreply@tether.dev" };

/** What an edit did in the work tree. */
export interface EditOutcome {
  /** Paths (relative to the work tree) the edit wrote; only these are committed. */
  readonly files: readonly string[];
  /** The commit message, when the edit knows better than the request (the tags it replaced, read from the tree). */
  readonly message?: string;
}

/** One change to write. */
export interface WriteRequest {
  readonly repoURL: string;
  /** The branch to start from; empty or `HEAD` = the remote's default branch. */
  readonly branch: string;
  /**
   * The branch to push to, when it differs (Image Updater's `git-branch: base:target`): pushed on top of
   * itself when it exists, else created from `branch`.
   */
  readonly pushBranch?: string;
  /** Edits files in the work tree `dir`; called again on each retry, on the new tree. */
  readonly edit: (dir: string) => Promise<EditOutcome>;
  /** Throws (with the render's error) when the edited tree would not render: nothing is pushed then. */
  readonly check?: (dir: string) => Promise<void>;
  readonly message: string;
  readonly author?: CommitAuthor;
}

/** The outcome: a commit on `branch`, or nothing to write. */
export type WriteResult =
  | { readonly kind: "pushed"; readonly commit: string; readonly branch: string; readonly attempts: number }
  | { readonly kind: "unchanged"; readonly branch: string };

/** Options for {@link GitWriter}. */
export interface GitWriterOptions {
  /** Work trees are made (and removed) under `<cacheDir>/writeback`. */
  readonly cacheDir: string;
  /** The same provider agent/source fetches with: a write uses the repository's own credential. */
  readonly credentials?: CredentialsProvider;
  readonly timeoutMs?: number;
  /** `file://` and plain paths (tests and the CLI); the agent refuses them unless --allow-local-repos. */
  readonly allowLocal?: boolean;
  /** Pushes tried before a non-fast-forward is reported. Default 3. */
  readonly attempts?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** Writes changes to Git repositories. */
export class GitWriter {
  private readonly options: GitWriterOptions;

  constructor(options: GitWriterOptions) {
    this.options = options;
  }

  /** Fetches, edits, checks, commits and pushes; see {@link WriteRequest}. Throws `WriteBackFailed`. */
  async write(request: WriteRequest): Promise<WriteResult> {
    const repo = this.repoOf(request.repoURL);
    const credentials = await this.credentialsFor(repo);
    const attempts = Math.max(1, this.options.attempts ?? 3);
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(repo, credentials, request, attempt);
      if (result !== "rejected") return result;
      if (attempt >= attempts) {
        throw new TetherError("WriteBackFailed",
          `the push to ${describeBranch(request)} of ${repo.url} was rejected as non-fast-forward ${attempts} times (others keep pushing); will try again at the next update`,
          { object: repo.url, retryable: true });
      }
    }
  }

  private async attempt(repo: RepoLocation, credentials: RepoCredentials | undefined, request: WriteRequest, attempt: number): Promise<WriteResult | "rejected"> {
    const parent = join(this.options.cacheDir, "writeback");
    await mkdir(parent, { recursive: true });
    const dir = await mkdtemp(join(parent, "tree-"));
    let ssh: SshSession | undefined;
    try {
      ssh = isSshCredentials(credentials) ? await openSshSession(credentials) : undefined;
      const git = gitClient({
        baseDir: dir, timeoutMs: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        ...(credentials !== undefined && !isSshCredentials(credentials) ? { credentials } : {}), ...(ssh ? { sshCommand: ssh.command } : {}),
      });
      const secrets = [isSshCredentials(credentials) ? credentials.sshPrivateKey : credentials?.password ?? ""];
      const run = (args: Parameters<typeof gitRaw>[1], what: string): Promise<string> =>
        gitRaw(git, args).catch((err: unknown) => { throw this.gitError({ repo, what, secrets, dir, hadCredentials: credentials !== undefined }, err); });
      await run(argv({ options: ["init", "--quiet"] }), "init a work tree for");
      const base = await this.baseBranch(repo, request, run);
      const pushBranch = request.pushBranch ?? base;
      const start = await this.fetchStart(repo, { base, pushBranch }, run);
      await run(gitRevArgv({ options: ["checkout", "--quiet", "-B", pushBranch, start] }), "check out");
      const outcome = await request.edit(dir);
      if (outcome.files.length > 0) await run(argv({ options: ["add", "--all"], positionals: [...outcome.files] }), "stage the edit in");
      const staged = await run(argv({ options: ["diff", "--cached", "--name-only"] }), "read the edit in");
      if (staged.trim() === "") return { kind: "unchanged", branch: pushBranch };
      await request.check?.(dir);
      const author = request.author ?? DEFAULT_AUTHOR;
      // Author and committer both: the commit says who wrote it, whatever the machine's git config holds.
      const identity = ["-c", `user.name=${author.name}`, "-c", `user.email=${author.email}`];
      await run(argv({ options: [...identity, "commit", "--quiet", "--no-verify", "--no-gpg-sign", `--message=${outcome.message ?? request.message}`] }), "commit to");
      const commit = (await run(gitRevArgv({ options: ["rev-parse", "--verify"], positionals: ["HEAD"] }), "read the commit in")).trim();
      const pushed = await gitRaw(git, argv({ options: ["push", "--porcelain"], positionals: [repo.url, `HEAD:refs/heads/${pushBranch}`] }))
        .then(() => true, (err: unknown) => {
          if (isNonFastForward(errorMessage(err))) return false;
          throw this.gitError({ repo, what: "push to", secrets, dir, hadCredentials: credentials !== undefined }, err);
        });
      return pushed ? { kind: "pushed", commit, branch: pushBranch, attempts: attempt } : "rejected";
    } finally {
      await ssh?.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The branch to start from: the request's, or the remote's default branch. */
  private async baseBranch(repo: RepoLocation, request: WriteRequest, run: Runner): Promise<string> {
    const wanted = request.branch.trim().replace(/^refs\/heads\//, "");
    if (wanted !== "" && wanted !== "HEAD") return wanted;
    const refs = await run(argv({ options: ["ls-remote", "--symref"], positionals: [repo.url, "HEAD"] }), "read the default branch of");
    const match = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(refs);
    if (match?.[1] === undefined) {
      throw new TetherError("WriteBackFailed", `${repo.url} has no default branch to write to: name the branch (git-branch annotation or spec.source.targetRevision)`, { object: repo.url });
    }
    return match[1];
  }

  /** Fetches the push branch when it exists, else the base branch; returns the ref to start from. */
  private async fetchStart(repo: RepoLocation, branches: { base: string; pushBranch: string }, run: Runner): Promise<string> {
    const heads = await run(argv({ options: ["ls-remote", "--heads"], positionals: [repo.url, branches.base, branches.pushBranch] }), "list the branches of");
    const has = (b: string): boolean => heads.split("\n").some((line) => line.endsWith(`\trefs/heads/${b}`));
    const from = has(branches.pushBranch) ? branches.pushBranch : branches.base;
    if (!has(from)) {
      throw new TetherError("WriteBackFailed", `branch '${branches.base}' is not in ${repo.url}: push it, or fix the git-branch annotation or spec.source.targetRevision`, { object: repo.url });
    }
    await run(argv({ options: ["fetch", "--quiet", "--no-tags", "--depth=1"], positionals: [repo.url, `+refs/heads/${from}:refs/remotes/origin/${from}`] }), "fetch");
    return `refs/remotes/origin/${from}`;
  }

  private async credentialsFor(repo: RepoLocation): Promise<RepoCredentials | undefined> {
    if (!repo.isHttp && repo.isSsh !== true) return undefined;
    const found = await this.options.credentials?.(repo.url);
    if (repo.isHttp) return (found !== undefined && !isSshCredentials(found) ? found : undefined) ?? repo.inlineCredentials;
    return isSshCredentials(found) ? found : undefined;
  }

  private repoOf(url: string): RepoLocation {
    let repo: RepoLocation;
    try {
      repo = parseRepoUrl(url);
    } catch {
      throw new TetherError("WriteBackFailed", `'${url.replace(/\/\/[^/]*@/, "//***@")}' is not a valid repository URL`, { object: url });
    }
    if (this.options.allowLocal === false && repo.key.startsWith("file://")) {
      throw new TetherError("WriteBackFailed", `repository ${repo.url} is on the agent's own disk, and local repositories are refused: use a remote URL, or start the agent with --allow-local-repos`, { object: repo.url });
    }
    return repo;
  }

  private gitError(failed: FailedGit, err: unknown): TetherError {
    const { repo, what, secrets, dir, hadCredentials } = failed;
    if (err instanceof TetherError) return err;
    const text = scrub(errorMessage(err), secrets, [dir, this.options.cacheDir]);
    const failure = classifyFetchError(text, hadCredentials);
    const hint = /push/.test(what) && /denied|protected|forbidden|403|pre-receive hook declined|rejected/i.test(text)
      ? "the server refused the push: give the repository credential write access, or allow pushes to this branch"
      : failure.hint;
    const reason = (/push/.test(what) ? pushRefusal(text) : undefined) ?? gitReason(text);
    return new TetherError("WriteBackFailed", `cannot ${what} ${repo.url}: ${reason}; ${hint}`, {
      object: repo.url, retryable: failure.retryable && !/refused the push/.test(hint), cause: new Error(text),
    });
  }
}

/** A git command that failed, with what is needed to explain it safely. */
interface FailedGit {
  readonly repo: RepoLocation;
  /** `push to`, `fetch`, …: the message reads "cannot <what> <url>". */
  readonly what: string;
  /** Values scrubbed from git's output. */
  readonly secrets: readonly string[];
  readonly dir: string;
  readonly hadCredentials: boolean;
}

type Runner = (args: Parameters<typeof gitRaw>[1], what: string) => Promise<string>;

/** Whether git's push error is "someone pushed first": fetch, re-apply, push again. */
export function isNonFastForward(stderr: string): boolean {
  return /non-fast-forward|\[rejected\].*\(fetch first\)|failed to update ref|cannot lock ref|stale info/i.test(stderr);
}

/**
 * What the server said when it refused a push: the `[remote rejected]` reason and the lines its hook printed
 * (`remote: …`), which name the rule ("main is protected"); undefined when the push was not refused so.
 */
export function pushRefusal(stderr: string): string | undefined {
  const rejected = /\[remote rejected\][^(\n]*\(([^)\n]+)\)/.exec(stderr)?.[1];
  if (rejected === undefined) return undefined;
  const said = stderr.split("\n").map((l) => /^remote:\s*(.*)$/.exec(l.trim())?.[1]?.trim() ?? "").filter((l) => l !== "");
  const text = said.join(" / ");
  return `${rejected}${text === "" ? "" : `: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`}`;
}

function describeBranch(request: WriteRequest): string {
  return `branch '${request.pushBranch ?? (request.branch || "HEAD")}'`;
}
