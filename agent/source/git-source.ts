// The source stage: one bare mirror per repository, revisions resolved to commits, commits
// materialised as throwaway trees.
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { SimpleGit } from "simple-git";
import { argv, gitRaw, gitRevArgv, runTool } from "../exec.ts";
import { TetherError, errorMessage } from "../errors.ts";
import { classifyFetchError, gitClient, gitEnv, gitReason, scrub } from "./git.ts";
import { isSshCredentials, mirrorName, parseRepoUrl, type RepoCredentials, type RepoLocation } from "./repo-url.ts";
import { openSshSession, type SshSession } from "./ssh.ts";
import { listDirectory, ObjectReader, writeBlobs, type ListedEntry } from "./blobs.ts";
import { cleanPath, reachesOutside } from "./watched-paths.ts";

/**
 * Looks up the credential for a repository URL (without any `user:password@` in it): a password for
 * HTTP(S), a private key for SSH. One of the wrong kind is not used.
 */
export type CredentialsProvider = (url: string) => Promise<RepoCredentials | undefined>;

/** Options for {@link GitSource}. */
export interface GitSourceOptions {
  /** Where mirrors and checkouts live; on a persistent volume a restart does not clone again. */
  readonly cacheDir: string;
  /** Asked before every fetch, so a rotated Secret is used at the next poll. HTTP(S) and SSH remotes. */
  readonly credentials?: CredentialsProvider;
  /** A git command that prints nothing for this long is killed, so a stalled server cannot stall the agent. */
  readonly timeoutMs?: number;
  /**
   * Whether `file://` URLs and plain paths are served. The agent refuses them unless started with
   * `--allow-local-repos`: with them a child Application could read any repository on the agent's disk,
   * other repositories' mirrors included, without their credentials. Default: true (the CLI reads the
   * user's own disk).
   */
  readonly allowLocal?: boolean;
}

/** Options for {@link GitSource.fetch}. */
export interface FetchOptions {
  /**
   * Reuse a fetch of the same repository that was requested at or after this time (ms since the
   * epoch), finished or still running. The controller passes the start of its poll so that all the
   * apps of one poll share one fetch; a webhook or refresh passes nothing and gets a fetch that starts
   * after the request, so it always sees the push that caused it. Default: now.
   */
  readonly since?: number;
  /**
   * The caller knows the remote's refs moved (a forge's push event): the fetch runs without asking
   * `git ls-remote` first and leaves git's housekeeping to the next poll. The remote's default branch
   * is followed by the next fetch that asks.
   */
  readonly refsMoved?: boolean;
}

/** A tree of one commit in a throwaway directory. */
export interface Checkout {
  readonly dir: string;
  /** Removes the directory; safe to call twice. */
  cleanup(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 120_000;
/** Shared trees kept when no render reads them (the most recently used); those in use are never removed. */
const SHARED_TREES = 8;
/** Answers about commits kept (changed files, tree listings): commits never change, and a push asks the same for every app. */
const COMMIT_ANSWERS = 256;
/** Whole-commit listings kept (one per commit, filtered for each directory asked): a push asks every app's directory of one commit. */
const COMMIT_LISTINGS = 4;
/**
 * Renders of one commit that read only their own directory get a tree of that directory alone (a push
 * renders the one app it touched: its twenty files, not the repository's thousands); past this many,
 * the commit is extracted whole once and shared (a first sync of thousands of apps of one commit).
 */
const PARTIAL_TREES = 32;
/** Directories of one commit asked within this many milliseconds are extracted by one `git archive`. */
const BATCH_MS = 5;

/** One commit's tree that renders only read: extracted once, shared by every render of that commit. */
interface SharedTree {
  readonly tree: Promise<Checkout>;
  users: number;
  lastUsed: number;
}
const FULL_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const SHORT_SHA = /^[0-9a-f]{4,64}$/i;

/**
 * Git repositories as the agent sees them. Fetches of one repository run one at a time and are
 * shared by callers that ask within the same window (see {@link FetchOptions.since}); resolve and
 * checkout only read the mirror and may run alongside a fetch.
 */
export class GitSource {
  private readonly options: GitSourceOptions;
  /** The latest fetch requested per repository key; a new one is chained behind it. */
  private readonly fetches = new Map<string, { readonly requestedAt: number; readonly done: Promise<void> }>();
  /** The credential Secret each repository was last fetched with, by repository key. */
  private readonly credentialNames = new Map<string, string>();
  /**
   * Revisions resolved since the last fetch of each repository (by repository key, then revision):
   * a reconcile of an unchanged app then runs no git command. A fetch that changed the mirror (or
   * failed) bumps the generation, which drops them; a resolve that raced it is not remembered.
   */
  private readonly resolved = new Map<string, { generation: number; revisions: Map<string, Promise<string>> }>();
  private readonly generations = new Map<string, number>();
  /** What `git ls-remote` said before the last fetch that succeeded, by repository key. */
  private readonly fetchedRefs = new Map<string, string>();
  /** Repositories whose default branch a fetch of this process followed (the mirror's HEAD is the remote's). */
  private readonly headFollowed = new Set<string>();
  /** Read-only trees by `repository key@commit`, or `repository key@commit:directory` for a tree holding that directory (and those batched with it). */
  private readonly shared = new Map<string, SharedTree>();
  /** Directories of a commit waiting to be extracted together, by `repository key@commit`. */
  private readonly batches = new Map<string, { readonly dirs: Set<string>; readonly entry: SharedTree }>();
  /** How many one-directory trees each `repository key@commit` had extracted (the most recent commits). */
  private readonly partials = new Map<string, number>();
  /** Each commit's whole tree listing (`git ls-tree -r`), the most recent {@link COMMIT_LISTINGS}. */
  private readonly listings = new Map<string, Promise<readonly ListedEntry[]>>();
  /** One `git cat-file --batch` per mirror, by repository key. */
  private readonly readers = new Map<string, ObjectReader>();
  /** `changedFiles` answers and directory listings by repository and commits, the most recent {@link COMMIT_ANSWERS}. */
  private readonly commitAnswers = new Map<string, Promise<unknown>>();

  constructor(options: GitSourceOptions) {
    this.options = options;
  }

  /** Whether `file://` URLs and plain paths are served (see {@link GitSourceOptions.allowLocal}). */
  allowsLocalRepos(): boolean {
    return this.options.allowLocal !== false;
  }

  /** Brings the mirror of `url` up to date with the remote (branches, tags, default branch). */
  fetch(url: string, options: FetchOptions = {}): Promise<void> {
    let repo: RepoLocation;
    try {
      repo = this.repoOf(url);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const since = options.since ?? Date.now();
    const last = this.fetches.get(repo.key);
    if (last !== undefined && last.requestedAt >= since) return last.done;
    // Chained behind the previous fetch: two git fetches into one mirror would race on its refs.
    const previous = last?.done.catch(() => undefined) ?? Promise.resolve();
    const done = previous.then(() => withMirrorLock(this.mirrorDir(repo), async () => {
      let changed = true;
      try {
        changed = await this.fetchNow(repo, options.refsMoved === true);
      } finally {
        if (changed) this.refsMayChange(repo);
      }
    }));
    this.fetches.set(repo.key, { requestedAt: Date.now(), done });
    return done;
  }

  /**
   * The full commit SHA that `revision` names in the fetched mirror of `url`: a branch, a tag
   * (annotated tags peeled), a full ref, a full or short SHA, or `HEAD`/empty for the remote's
   * default branch. Branches win over tags of the same name.
   */
  async resolve(url: string, revision = ""): Promise<string> {
    const repo = this.repoOf(url);
    const rev = revision.trim();
    const generation = this.generations.get(repo.key) ?? 0;
    let entry = this.resolved.get(repo.key);
    if (entry?.generation !== generation) this.resolved.set(repo.key, entry = { generation, revisions: new Map() });
    // The apps of one push resolve one revision at once: they share one answer.
    let answer = entry.revisions.get(rev);
    if (answer === undefined) {
      const asked = answer = this.resolveNow(repo, rev);
      const revisions = entry.revisions;
      revisions.set(rev, asked);
      asked.catch(() => { if (revisions.get(rev) === asked) revisions.delete(rev); });
    }
    return await answer;
  }

  private async resolveNow(repo: RepoLocation, rev: string): Promise<string> {
    const dir = await this.existingMirror(repo);
    let git: SimpleGit | undefined;
    for (const candidate of revisionCandidates(rev)) {
      const sha = await branchTip(dir, candidate) ?? await revParseCommit(git ??= gitClient({ baseDir: dir, timeoutMs: this.timeoutMs() }), candidate);
      if (sha !== undefined) return sha;
    }
    throw revisionNotFound(repo, rev);
  }

  /**
   * The tree of `commit` for a render that only reads it: one extraction per commit, shared by every
   * render of it (the apps of an app-of-apps all render paths of one commit) and kept, the
   * {@link SHARED_TREES} most recently used, for the next. `cleanup` says this render is done with it.
   * A render that edits its tree (Kustomize, Helm dependencies) takes a {@link checkout} of its own.
   * With `dir`, the render reads only that directory when it holds plain files (no symlink, no
   * Jsonnet, which may reach outside it): then, unless the whole commit is extracted already, the tree
   * may hold that directory alone, at the same path.
   */
  async sharedTree(url: string, commit: string, dir?: string): Promise<Checkout> {
    const repo = this.repoOf(url);
    const whole = `${repo.key}@${commit}`;
    const only = dir === undefined || this.shared.has(whole) ? undefined : await this.ownDirectory(url, commit, dir);
    const key = only === undefined ? whole : `${whole}:${only}`;
    let entry = this.shared.get(key);
    if (entry === undefined) entry = only === undefined ? this.extract(key, () => this.checkout(url, commit)) : this.batched(url, commit, only);
    const used = entry;
    used.users++;
    let tree: Checkout;
    try {
      tree = await used.tree;
    } catch (err) {
      used.users--;
      throw err;
    }
    let released = false;
    return {
      dir: tree.dir,
      cleanup: async () => {
        if (released) return;
        released = true;
        used.users--;
        used.lastUsed = Date.now();
        await this.evictShared();
      },
    };
  }

  /** A shared tree under `key`, forgotten if its extraction fails. */
  private extract(key: string, make: () => Promise<Checkout>): SharedTree {
    const created: SharedTree = { tree: make(), users: 0, lastUsed: Date.now() };
    created.tree.catch(() => { if (this.shared.get(key) === created) this.shared.delete(key); });
    this.shared.set(key, created);
    return created;
  }

  /**
   * The tree holding `dir` of `commit`: the directories of one commit asked within {@link BATCH_MS}
   * (the apps one push touched, rendered side by side) share one `git archive` of them all, not one
   * process pair each.
   */
  private batched(url: string, commit: string, dir: string): SharedTree {
    const whole = `${this.repoOf(url).key}@${commit}`;
    let batch = this.batches.get(whole);
    if (batch === undefined) {
      const dirs = new Set<string>();
      const tree = sleep(BATCH_MS).then(() => {
        this.batches.delete(whole);
        return this.directories(url, commit, [...dirs]);
      });
      const created: SharedTree = { tree, users: 0, lastUsed: Date.now() };
      tree.catch(() => {
        for (const d of dirs) if (this.shared.get(`${whole}:${d}`) === created) this.shared.delete(`${whole}:${d}`);
      });
      batch = { dirs, entry: created };
      this.batches.set(whole, batch);
    }
    batch.dirs.add(dir);
    this.shared.set(`${whole}:${dir}`, batch.entry);
    return batch.entry;
  }

  /**
   * `dirs` of `commit` in a fresh directory, written from the mirror's blobs through one long-lived
   * `git cat-file` (no process per push); by `git archive` when they hold anything but regular files.
   */
  private async directories(url: string, commit: string, dirs: readonly string[]): Promise<Checkout> {
    const repo = this.repoOf(url);
    const entries = (await Promise.all(dirs.map((d) => this.treeEntries(url, commit, d)))).flat();
    if (!entries.every(plainFile)) return await this.checkout(url, commit, dirs);
    const reader = await this.objects(repo);
    const tree = await this.treeDir();
    try {
      await writeBlobs(reader, tree.dir, entries);
      return tree;
    } catch {
      // git's own extraction says what is wrong, if anything is.
      await tree.cleanup();
      return await this.checkout(url, commit, dirs);
    }
  }

  /** The mirror's object reader (one long-lived `git cat-file`). */
  private async objects(repo: RepoLocation): Promise<ObjectReader> {
    let reader = this.readers.get(repo.key);
    if (reader === undefined) this.readers.set(repo.key, reader = new ObjectReader(await this.existingMirror(repo)));
    return reader;
  }

  /** A fresh directory for a tree under the cache. */
  private async treeDir(): Promise<Checkout> {
    const parent = join(this.options.cacheDir, "checkouts");
    await mkdir(parent, { recursive: true });
    const dir = await mkdtemp(join(parent, "tree-"));
    return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }

  /**
   * `dir` (repository-relative, clean) when a tree of it alone serves a render of it: it exists, holds
   * only plain files, and fewer than {@link PARTIAL_TREES} such trees of the commit were made.
   */
  private async ownDirectory(url: string, commit: string, dir: string): Promise<string | undefined> {
    const clean = cleanPath(dir);
    if (clean === "" || dir.split(/[\\/]/).includes("..") || !FULL_SHA.test(commit)) return undefined;
    const whole = `${this.repoOf(url).key}@${commit}`;
    const made = this.partials.get(whole) ?? 0;
    if (made >= PARTIAL_TREES) return undefined;
    const entries = await this.treeEntries(url, commit, clean);
    if (entries.length === 0 || entries.some(reachesOutside)) return undefined;
    this.partials.delete(whole);
    this.partials.set(whole, made + 1);
    if (this.partials.size > COMMIT_LISTINGS) this.partials.delete(this.partials.keys().next().value!);
    return clean;
  }

  /**
   * The regular files under `dir` of `commit` (`dir` repository-relative, not the root; paths returned
   * relative to it), read from the mirror's objects without touching the disk: what a plain directory
   * renders from. Undefined when `dir` is no directory of the commit or holds anything but regular files
   * (a symlink, a submodule). A file over `maxFileBytes` comes without its text, and is never held whole.
   */
  async plainFiles(url: string, commit: string, dir: string, maxFileBytes: number): Promise<PlainFile[] | undefined> {
    const clean = cleanPath(dir);
    if (clean === "" || dir.split(/[\\/]/).includes("..") || !FULL_SHA.test(commit)) return undefined;
    const entries = await this.treeEntries(url, commit, clean);
    if (entries.length === 0 || !entries.every(plainFile)) return undefined;
    const reader = await this.objects(this.repoOf(url));
    return await Promise.all(entries.map(async (entry): Promise<PlainFile> => {
      const blob = await reader.read(entry.object, maxFileBytes);
      if (blob?.type !== "blob") throw new Error(`object ${entry.object} (${entry.path}) is not a blob of the mirror of ${url}`);
      const path = entry.path.slice(clean.length + 1);
      return blob.content === undefined ? { path, size: blob.size } : { path, size: blob.size, text: blob.content.toString("utf8") };
    }));
  }

  /**
   * The files that differ between two fetched commits of `url` (full SHAs; both sides of a rename),
   * repository-relative: what a push changed, when its payload did not say.
   */
  async changedFiles(url: string, from: string, to: string): Promise<readonly string[]> {
    const repo = this.repoOf(url);
    if (!FULL_SHA.test(from) || !FULL_SHA.test(to)) throw new Error(`internal: changedFiles needs full commit SHAs, got '${from}' and '${to}'`);
    return await this.remembered(`diff ${repo.key} ${from} ${to}`, async () => {
      const out = await gitRaw(await this.mirrorClient(repo), gitRevArgv({ options: ["diff", "--name-only", "--no-renames", "-z"], positionals: [from, to] }));
      return out.split("\0").filter((f) => f !== "");
    });
  }

  /** The entries (path and mode) of `commit`'s tree under `dir` (repository-relative, `""` the root), recursively. */
  async treeEntries(url: string, commit: string, dir: string): Promise<readonly ListedEntry[]> {
    const repo = this.repoOf(url);
    if (!FULL_SHA.test(commit)) throw new Error(`internal: treeEntries needs a full commit SHA, got '${commit}'`);
    const key = `${repo.key} ${commit}`;
    const base = cleanPath(dir);
    let listing = this.listings.get(key);
    if (listing === undefined && base !== "") {
      // One directory: read tree by tree through the mirror's cat-file, no process (a push's app).
      return await this.remembered(`tree ${key}:${base}`, async () => listDirectory(await this.objects(repo), commit, base));
    }
    if (listing === undefined) {
      // One `ls-tree` of the whole commit answers every app's directory: a push asks them all.
      const created = this.mirrorClient(repo).then(async (git) => treeOfListing(await gitRaw(git, gitRevArgv({ options: ["ls-tree", "-r", "-z"], positionals: [commit] }))));
      created.catch(() => { if (this.listings.get(key) === created) this.listings.delete(key); });
      listing = created;
      if (this.listings.size >= COMMIT_LISTINGS) this.listings.delete(this.listings.keys().next().value!);
    } else {
      this.listings.delete(key);
    }
    this.listings.set(key, listing);
    return base === "" ? await listing : (await listing).filter((e) => e.path === base || e.path.startsWith(`${base}/`));
  }

  private remembered<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const known = this.commitAnswers.get(key);
    if (known !== undefined) {
      // Most recently used last.
      this.commitAnswers.delete(key);
      this.commitAnswers.set(key, known);
      return known as Promise<T>;
    }
    const answer = compute();
    answer.catch(() => { if (this.commitAnswers.get(key) === answer) this.commitAnswers.delete(key); });
    this.commitAnswers.set(key, answer);
    if (this.commitAnswers.size > COMMIT_ANSWERS) this.commitAnswers.delete(this.commitAnswers.keys().next().value!);
    return answer;
  }

  /** Removes every shared tree (the agent stops); a render still reading one fails and is retried. */
  async close(): Promise<void> {
    for (const reader of this.readers.values()) reader.close();
    this.readers.clear();
    const entries = new Set(this.shared.values());
    this.shared.clear();
    for (const e of entries) await e.tree.then((t) => t.cleanup(), () => undefined);
  }

  /** Removes the least recently used trees no render reads beyond {@link SHARED_TREES} (a batch's tree is one, under each of its directories). */
  private async evictShared(): Promise<void> {
    const keys = new Map<SharedTree, string[]>();
    for (const [key, e] of this.shared) keys.set(e, [...keys.get(e) ?? [], key]);
    const idle = [...keys].filter(([e]) => e.users === 0).sort((a, b) => a[0].lastUsed - b[0].lastUsed);
    for (const [e, names] of idle.slice(0, Math.max(0, keys.size - SHARED_TREES))) {
      for (const key of names) this.shared.delete(key);
      await e.tree.then((t) => t.cleanup(), () => undefined);
    }
  }

  private refsMayChange(repo: RepoLocation): void {
    this.generations.set(repo.key, (this.generations.get(repo.key) ?? 0) + 1);
    this.resolved.delete(repo.key);
  }

  /** Writes the tree of `commit` (a full SHA from {@link resolve}) into a fresh directory; with `only`, those directories of it alone. */
  async checkout(url: string, commit: string, only?: readonly string[]): Promise<Checkout> {
    const repo = this.repoOf(url);
    if (!FULL_SHA.test(commit)) {
      throw new TetherError("SourceFailed", `cannot check out '${commit}' of ${repo.url}: a full commit SHA is needed, resolve the revision first`, { object: repo.url });
    }
    const mirror = await this.existingMirror(repo);
    const tree = await this.treeDir();
    try {
      // `git archive` writes the tree without index or worktree bookkeeping in the mirror.
      const archive = argv({ options: [`--git-dir=${mirror}`, "archive", "--format=tar"], positionals: [commit, ...only ?? []] });
      await runTool("git", archive, { env: gitEnv(), extendEnv: false })
        .pipe(runTool("tar", argv({ options: ["-x", "--file=-", `--directory=${tree.dir}`] }), {}));
    } catch (err) {
      await tree.cleanup();
      const reason = scrub(gitReason(stderrOf(err)), [], [this.options.cacheDir]);
      throw new TetherError("SourceFailed", `cannot check out ${commit} of ${repo.url}: ${reason}`, { object: repo.url, retryable: true, cause: err });
    }
    return tree;
  }

  /**
   * The name of the credential Secret the last fetch of `url` used (never its value), for the status;
   * undefined when it was fetched without one or with credentials written in the URL.
   */
  credentialName(url: string): string | undefined {
    return this.credentialNames.get(this.repoOf(url).key);
  }

  private repoOf(url: string): RepoLocation {
    const repo = repoOf(url);
    if (this.options.allowLocal === false && repo.key.startsWith("file://")) {
      throw new TetherError("SourceFailed",
        `repository ${repo.url} is on the agent's own disk, and local repositories are refused: use a remote URL (https://, ssh://), or start the agent with --allow-local-repos`,
        { object: repo.url, retryable: false });
    }
    return repo;
  }

  private mirrorDir(repo: RepoLocation): string {
    return join(this.options.cacheDir, "mirrors", mirrorName(repo.key));
  }

  private async existingMirror(repo: RepoLocation): Promise<string> {
    const dir = this.mirrorDir(repo);
    try {
      await access(join(dir, "HEAD"));
    } catch {
      throw new TetherError("SourceFailed", `${repo.url} has not been fetched yet: fetch it before resolving or checking out`, { object: repo.url, retryable: true });
    }
    return dir;
  }

  private async mirrorClient(repo: RepoLocation): Promise<SimpleGit> {
    const dir = await this.existingMirror(repo);
    return gitClient({ baseDir: dir, timeoutMs: this.timeoutMs() });
  }

  private timeoutMs(): number {
    return this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /**
   * Fetches unless the remote's refs are those this process fetched last time; returns whether it
   * fetched. With `refsMoved` (and the default branch known), fetches without asking first.
   */
  private async fetchNow(repo: RepoLocation, refsMoved: boolean): Promise<boolean> {
    const dir = this.mirrorDir(repo);
    // A mirror removed from under the agent is fetched whole again.
    if (!await hasHead(dir)) {
      this.fetchedRefs.delete(repo.key);
      this.headFollowed.delete(repo.key);
    }
    await ensureMirror(dir, repo);
    const found = await this.credentialsFor(repo);
    if (found?.secretName === undefined) this.credentialNames.delete(repo.key);
    else this.credentialNames.set(repo.key, found.secretName);
    const credentials = isSshCredentials(found) ? undefined : found;
    let ssh: SshSession | undefined;
    try {
      ssh = isSshCredentials(found) ? await openSshSession(found) : undefined;
      const git = gitClient({ baseDir: dir, timeoutMs: this.timeoutMs(), ...(credentials ? { credentials } : {}), ...(ssh ? { sshCommand: ssh.command } : {}) });
      // Heads and tags only: `--mirror` would also copy refs/pull/* and similar, often thousands.
      // `--progress` keeps stderr busy on a long first clone, so the silence timeout only hits a stall.
      const fetch = (...extra: string[]) => gitRaw(git, argv({
        options: ["fetch", "--prune", "--no-tags", "--progress", ...extra], positionals: [repo.url, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
      }));
      if (refsMoved && this.headFollowed.has(repo.key)) {
        // A push said so: one process pair fewer on the way from a commit to the cluster. The next poll
        // asks `ls-remote` again (and fetches once more, with git's automatic maintenance).
        this.fetchedRefs.delete(repo.key);
        await fetch("--no-auto-maintenance");
        return true;
      }
      // The remote's default branch, branches and tags: when they are what the last fetch of this
      // process brought, the mirror holds them already and a poll costs this one command.
      const refs = await gitRaw(git, argv({ options: ["ls-remote", "--symref"], positionals: [repo.url, "HEAD", "refs/heads/*", "refs/tags/*"] }));
      if (this.fetchedRefs.get(repo.key) === refs) return false;
      this.fetchedRefs.delete(repo.key);
      await fetch();
      await followDefaultBranch(git, dir, refs);
      this.headFollowed.add(repo.key);
      this.fetchedRefs.set(repo.key, refs);
      return true;
    } catch (err) {
      this.fetchedRefs.delete(repo.key);
      throw this.fetchError(repo, err, found);
    } finally {
      // The key is on disk only while git runs.
      await ssh?.dispose();
    }
  }

  private async credentialsFor(repo: RepoLocation): Promise<RepoCredentials | undefined> {
    if (!repo.isHttp && repo.isSsh !== true) return undefined;
    const found = await this.options.credentials?.(repo.url);
    // Never a password to an SSH server or a key to an HTTP one (matching compares schemes, but the provider is pluggable).
    if (repo.isHttp) return (found !== undefined && !isSshCredentials(found) ? found : undefined) ?? repo.inlineCredentials;
    return isSshCredentials(found) ? found : undefined;
  }

  private fetchError(repo: RepoLocation, err: unknown, credentials: RepoCredentials | undefined): TetherError {
    const secrets = [isSshCredentials(credentials) ? credentials.sshPrivateKey : credentials?.password ?? "", repo.inlineCredentials?.password ?? ""];
    const stderr = scrub(errorMessage(err), secrets, [this.options.cacheDir]);
    const failure = classifyFetchError(stderr, credentials !== undefined);
    // The cause keeps git's text for logs, scrubbed like the message: the raw error may hold the password.
    return new TetherError("SourceFailed", `cannot fetch ${repo.url}: ${gitReason(stderr)}; ${failure.hint}`, {
      object: repo.url,
      retryable: failure.retryable,
      cause: new Error(stderr),
    });
  }
}

/** `git ls-tree -r -z`'s output (`<mode> <type> <object>\t<path>`) as entries. */
function treeOfListing(out: string): ListedEntry[] {
  return out.split("\0").filter((l) => l !== "").map((line) => {
    const tab = line.indexOf("\t");
    const [mode = "", type = "", object = ""] = line.slice(0, tab).split(" ");
    return { mode, type, object, path: line.slice(tab + 1) };
  });
}

/** A regular file of a plain directory as {@link GitSource.plainFiles} reads it; `text` absent when over the size asked. */
export interface PlainFile {
  readonly path: string;
  readonly size: number;
  readonly text?: string;
}

/** A regular file at a plain relative path: what {@link writeBlobs} writes as `git archive` would. */
function plainFile(entry: ListedEntry): boolean {
  return entry.type === "blob" && (entry.mode === "100644" || entry.mode === "100755")
    && !entry.path.split("/").some((part) => part === "" || part === "." || part === "..");
}

/** The fetches running per mirror directory in this process, across every GitSource on one cache. */
const mirrorLocks = new Map<string, Promise<unknown>>();

/** Runs `task` after every other task on the same mirror directory: two fetches into one mirror race on its refs. */
function withMirrorLock<T>(dir: string, task: () => Promise<T>): Promise<T> {
  const previous = mirrorLocks.get(dir) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(task);
  const settled = run.catch(() => undefined);
  mirrorLocks.set(dir, settled);
  void settled.then(() => { if (mirrorLocks.get(dir) === settled) mirrorLocks.delete(dir); });
  return run;
}

/**
 * Creates the bare mirror on first use. It is initialised in a sibling directory and renamed into
 * place, so a second process on the same cache sees either no mirror or a whole one.
 */
async function ensureMirror(dir: string, repo: RepoLocation): Promise<void> {
  try {
    if (!await hasHead(dir)) await createMirror(dir);
    // Highest-precedence attributes: `git archive` would otherwise drop `export-ignore` files and
    // expand `export-subst` placeholders, and the checkout would differ from the commit.
    await mkdir(join(dir, "info"), { recursive: true });
    await writeFile(join(dir, "info", "attributes"), "* -export-ignore -export-subst\n");
  } catch (err) {
    if (err instanceof TetherError) throw err;
    throw new TetherError("SourceFailed", `cannot create the mirror of ${repo.url} in the cache directory: ${errorMessage(err).replaceAll(dir, "<cache>")}`,
      { object: repo.url, retryable: true, cause: err });
  }
}

async function createMirror(dir: string): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const staging = await mkdtemp(join(dirname(dir), `.${basename(dir)}-init-`));
  try {
    await gitClient({ baseDir: staging, timeoutMs: DEFAULT_TIMEOUT_MS }).init(true);
    // Replaces a missing or empty directory; fails when another process put a mirror there first.
    await rename(staging, dir).catch(async (err: unknown) => {
      if (!await hasHead(dir)) throw err;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function hasHead(dir: string): Promise<boolean> {
  return access(join(dir, "HEAD")).then(() => true, () => false);
}

/** Points the mirror's HEAD where the remote's HEAD points, so `HEAD` means the default branch. */
async function followDefaultBranch(git: SimpleGit, dir: string, lsRemote: string): Promise<void> {
  const match = /^ref: (refs\/heads\/\S+)\tHEAD$/m.exec(lsRemote);
  if (match?.[1] === undefined) return;
  // Most fetches find it where it was: no process for that.
  if (await readFile(join(dir, "HEAD"), "utf8").then((head) => head.trim() === `ref: ${match[1]}`, () => false)) return;
  await gitRaw(git, argv({ options: ["symbolic-ref"], positionals: ["HEAD", match[1]] }));
}

/** Refs to try for a revision, in order of preference. */
function revisionCandidates(rev: string): string[] {
  if (rev === "" || rev === "HEAD") return ["HEAD"];
  const candidates = rev.startsWith("refs/") ? [rev] : [`refs/heads/${rev}`, `refs/tags/${rev}`];
  if (SHORT_SHA.test(rev)) candidates.push(rev.toLowerCase());
  return candidates;
}

/**
 * The commit a branch (or `HEAD`, the default branch) of the mirror points at, read from its ref files
 * without a process: a pushed commit resolves in microseconds. Undefined for anything else (tags may
 * need peeling, SHAs need the object store), which `git rev-parse` answers.
 */
async function branchTip(dir: string, candidate: string): Promise<string | undefined> {
  let ref = candidate;
  if (ref === "HEAD") {
    const head = (await readFile(join(dir, "HEAD"), "utf8").catch(() => "")).trim();
    if (!head.startsWith("ref: ")) return undefined;
    ref = head.slice("ref: ".length);
  }
  if (!ref.startsWith("refs/heads/") || ref.split("/").some((part) => part === "" || part === "." || part === "..")) return undefined;
  // A loose ref wins over packed-refs; git writes both by renaming a whole file into place.
  const loose = (await readFile(join(dir, ref), "utf8").catch(() => "")).trim();
  if (FULL_SHA.test(loose)) return loose;
  const packed = await readFile(join(dir, "packed-refs"), "utf8").catch(() => "");
  for (const line of packed.split("\n")) {
    const [sha, name] = line.split(" ");
    if (name === ref && sha !== undefined && FULL_SHA.test(sha)) return sha;
  }
  return undefined;
}

async function revParseCommit(git: SimpleGit, candidate: string): Promise<string | undefined> {
  try {
    const sha = (await gitRaw(git, gitRevArgv({ options: ["rev-parse", "--verify", "--quiet"], positionals: [`${candidate}^{commit}`] }))).trim();
    return FULL_SHA.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

function revisionNotFound(repo: RepoLocation, rev: string): TetherError {
  const opts = { object: repo.url, retryable: false };
  if (rev === "" || rev === "HEAD") {
    return new TetherError("SourceFailed", `the default branch (HEAD) of ${repo.url} has no commit: push a commit or set spec.source.targetRevision to a branch`, opts);
  }
  const hint = SHORT_SHA.test(rev) ? " (a short SHA must be unique: use more characters)" : "";
  return new TetherError("SourceFailed", `revision '${rev}' not found in ${repo.url}${hint}: push the branch or tag, or fix spec.source.targetRevision`, opts);
}

/** Parsed repoURLs: every reconcile of every app asks (a `file://` URL resolves a path each time); few distinct ones. */
const parsedRepos = new Map<string, RepoLocation>();

function repoOf(url: string): RepoLocation {
  const known = parsedRepos.get(url);
  if (known) return known;
  try {
    const repo = parseRepoUrl(url);
    if (parsedRepos.size >= 1024) parsedRepos.delete(parsedRepos.keys().next().value!);
    parsedRepos.set(url, repo);
    return repo;
  } catch {
    // Not even parseable, so the password cannot be cut out precisely: hide all of the user info.
    const shown = url.replace(/\/\/[^/]*@/, "//***@");
    throw new TetherError("SourceFailed", `'${shown}' is not a valid repository URL: fix spec.source.repoURL`, { object: shown, retryable: false });
  }
}

function stderrOf(err: unknown): string {
  if (typeof err === "object" && err !== null && "stderr" in err && typeof err.stderr === "string" && err.stderr !== "") {
    return err.stderr;
  }
  return errorMessage(err);
}
