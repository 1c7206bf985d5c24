import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TetherError } from "../errors.ts";
import { gitConfig, gitEnv } from "./git.ts";
import { GitSource, safeJoin } from "./index.ts";
import { mirrorName, parseRepoUrl } from "./repo-url.ts";

const GIT_IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"];

/** Runs git in a test repository, synchronously so a test can change the remote at an exact moment. */
function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", [...GIT_IDENTITY, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

async function commitFiles(repo: string, files: Record<string, string>, message: string): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(repo, path)), { recursive: true });
    await writeFile(join(repo, path), content);
  }
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", message);
  return git(repo, "rev-parse", "HEAD");
}

async function allFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function expectSourceError(promise: Promise<unknown>): Promise<TetherError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  const tether = err as TetherError;
  expect(tether.reason).toBe("SourceFailed");
  return tether;
}

let work: string;
let origin: string;
let cacheDir: string;
let source: GitSource;
const commits: Record<string, string> = {};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "tether-source-"));
  origin = join(work, "origin");
  await mkdir(origin);
  git(origin, "init", "-q", "-b", "main");
  commits.first = await commitFiles(origin, { "apps/a.yaml": "a: 1\n", "old.txt": "gone later\n" }, "first");
  git(origin, "tag", "v1");
  git(origin, "tag", "-a", "v1.1", "-m", "annotated release");
  git(origin, "branch", "feature");
  git(origin, "checkout", "-q", "feature");
  commits.feature = await commitFiles(origin, { "apps/feature.yaml": "f: 1\n" }, "feature work");
  git(origin, "checkout", "-q", "main");
  git(origin, "rm", "-q", "old.txt");
  commits.second = await commitFiles(origin, {
    "apps/b.yaml": "b: 2\n",
    ".gitattributes": "ignored.txt export-ignore\n",
    "ignored.txt": "still part of the commit\n",
  }, "second");
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

beforeEach(async () => {
  cacheDir = await mkdtemp(join(work, "cache-"));
  source = new GitSource({ cacheDir });
});

describe("GitSource.resolve", () => {
  it.each([
    ["a branch", "feature", "feature"],
    ["the default branch by name", "main", "second"],
    ["HEAD", "HEAD", "second"],
    ["an empty revision", "", "second"],
    ["a lightweight tag", "v1", "first"],
    ["an annotated tag (peeled)", "v1.1", "first"],
    ["a full ref", "refs/heads/feature", "feature"],
  ])("resolves %s to a commit", async (_name, revision, commit) => {
    await source.fetch(origin);
    expect(await source.resolve(origin, revision)).toBe(commits[commit]);
  });

  it("resolves a full and a short SHA to the full SHA", async () => {
    await source.fetch(origin);
    const full = commits.feature!;
    expect(await source.resolve(origin, full)).toBe(full);
    expect(await source.resolve(origin, full.slice(0, 8))).toBe(full);
    expect(await source.resolve(origin, full.slice(0, 8).toUpperCase())).toBe(full);
  });

  it("reads the same repository through a file:// URL and a plain path, sharing one mirror", async () => {
    const url = pathToFileURL(origin).href;
    await source.fetch(url);
    expect(await source.resolve(url, "main")).toBe(commits.second);
    expect(await source.resolve(`${origin}/`, "main")).toBe(commits.second);
    expect(await readdir(join(cacheDir, "mirrors"))).toHaveLength(1);
  });

  it("names the URL and the revision when a revision does not exist, and says the fix", async () => {
    await source.fetch(origin);
    const err = await expectSourceError(source.resolve(origin, "v9"));
    expect(err.message).toBe(`revision 'v9' not found in ${origin}: push the branch or tag, or fix spec.source.targetRevision`);
    expect(err.object).toBe(origin);
    expect(err.retryable).toBe(false);
  });

  it("asks for a fetch first when the repository was never fetched", async () => {
    const err = await expectSourceError(source.resolve(origin, "main"));
    expect(err.message).toContain("has not been fetched yet");
  });
});

describe("GitSource.fetch", () => {
  let remote: string;

  beforeEach(async () => {
    remote = join(work, `remote-${Date.now()}-${Math.random().toString(16).slice(2)}`);
    await mkdir(remote);
    git(remote, "init", "-q", "-b", "main");
    await commitFiles(remote, { "x.yaml": "x: 1\n" }, "one");
    git(remote, "branch", "doomed");
    git(remote, "tag", "moving");
  });

  it("sees a new commit, a moved tag and a deleted branch after the next fetch", async () => {
    await source.fetch(remote);
    expect(await source.resolve(remote, "doomed")).toBe(git(remote, "rev-parse", "HEAD"));

    const next = await commitFiles(remote, { "x.yaml": "x: 2\n" }, "two");
    git(remote, "tag", "-f", "moving");
    git(remote, "branch", "-D", "doomed");
    await source.fetch(remote);

    expect(await source.resolve(remote, "main")).toBe(next);
    expect(await source.resolve(remote, "moving")).toBe(next);
    await expectSourceError(source.resolve(remote, "doomed"));
  });

  it("follows the remote when its default branch changes", async () => {
    git(remote, "checkout", "-q", "-b", "trunk");
    const trunk = await commitFiles(remote, { "t.yaml": "t: 1\n" }, "trunk");
    await source.fetch(remote);
    expect(await source.resolve(remote, "HEAD")).toBe(trunk);

    git(remote, "checkout", "-q", "main");
    await source.fetch(remote);
    expect(await source.resolve(remote, "HEAD")).toBe(git(remote, "rev-parse", "main"));
  });

  it("fetches nothing when the remote's refs are those it fetched last, and fetches again once one moves", async () => {
    await source.fetch(remote);
    const mirrors = join(cacheDir, "mirrors");
    const mirror = join(mirrors, (await readdir(mirrors)).find((name) => name.endsWith(".git"))!);
    // Taken from the mirror behind the agent's back: only a real fetch brings it back.
    git(mirror, "update-ref", "-d", "refs/heads/doomed");
    await source.fetch(remote);
    await expectSourceError(source.resolve(remote, "doomed"));
    await commitFiles(remote, { "x.yaml": "x: 4\n" }, "four");
    await source.fetch(remote);
    expect(await source.resolve(remote, "doomed")).toBe(git(remote, "rev-parse", "doomed"));
  });

  it("fetches a push a forge announced without asking ls-remote, leaving the default branch to the next poll", async () => {
    await source.fetch(remote);
    git(remote, "checkout", "-q", "-b", "trunk");
    const pushed = await commitFiles(remote, { "t.yaml": "t: 1\n" }, "on the new default branch");
    await source.fetch(remote, { refsMoved: true });
    expect(await source.resolve(remote, "trunk")).toBe(pushed);
    // Only ls-remote tells the remote's HEAD: the push's fetch kept the one it had.
    expect(await source.resolve(remote, "HEAD")).toBe(git(remote, "rev-parse", "main"));
    await source.fetch(remote);
    expect(await source.resolve(remote, "HEAD")).toBe(pushed);
  });

  it("resolves branches from the mirror's ref files, packed or loose, the loose one winning", async () => {
    await source.fetch(remote);
    const mirror = join(cacheDir, "mirrors", mirrorName(parseRepoUrl(remote).key));
    git(mirror, "pack-refs", "--all");
    expect(await readdir(join(mirror, "refs", "heads"))).toEqual([]);
    const first = git(remote, "rev-parse", "HEAD");
    expect(await source.resolve(remote, "doomed")).toBe(first);
    expect(await source.resolve(remote, "HEAD")).toBe(first);
    const next = await commitFiles(remote, { "x.yaml": "x: 5\n" }, "five");
    await source.fetch(remote);
    expect(await source.resolve(remote, "main")).toBe(next);
    expect(await source.resolve(remote, "refs/heads/main")).toBe(next);
    expect(await source.resolve(remote, "doomed")).toBe(first);
    expect(await source.resolve(remote, "moving")).toBe(first);
  });

  it("shares one fetch between the callers of one poll, and fetches again for a later request", async () => {
    const pollStart = Date.now();
    const first = source.fetch(remote, { since: pollStart });
    const second = source.fetch(remote, { since: pollStart });
    expect(second).toBe(first);

    // A push lands while that fetch may still be running: a request made after it must see it.
    const pushed = await commitFiles(remote, { "x.yaml": "x: 3\n" }, "pushed during the poll");
    const afterPush = source.fetch(remote);
    expect(afterPush).not.toBe(first);
    await Promise.all([first, afterPush]);
    expect(await source.resolve(remote, "main")).toBe(pushed);
  });

  it("fails fast with a retryable SourceFailed when the server cannot be reached", async () => {
    const url = "https://127.0.0.1:1/org/repo.git";
    const err = await expectSourceError(source.fetch(url));
    expect(err.retryable).toBe(true);
    expect(err.object).toBe(url);
    expect(err.message).toMatch(/^cannot fetch https:\/\/127\.0\.0\.1:1\/org\/repo\.git: .*; will retry$/);
  });

  it("says the repository does not exist, without retrying, for a wrong path", async () => {
    const missing = join(work, "no-such-repo");
    const err = await expectSourceError(source.fetch(missing));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`cannot fetch ${missing}`);
    expect(err.message).toContain("check spec.source.repoURL");
    expect(err.message).not.toContain(cacheDir);
  });

  it("never writes credentials to the cache and never shows them in errors", async () => {
    const withProvider = new GitSource({
      cacheDir,
      credentials: () => Promise.resolve({ username: "robot", password: "pr0vider-S3cret" }),
    });
    const inline = "https://robot:inl1ne-S3cret@127.0.0.1:1/org/private.git";
    const errors = await Promise.all([
      expectSourceError(withProvider.fetch("https://127.0.0.1:1/org/private.git")),
      expectSourceError(source.fetch(inline)),
    ]);
    for (const err of errors) {
      const text = `${err.message}\n${(err.cause as Error).message}`;
      expect(text).not.toMatch(/S3cret/);
      expect(err.object).not.toMatch(/S3cret/);
    }
    expect(errors[1].message).toContain("https://127.0.0.1:1/org/private.git");

    const files = await allFilesUnder(cacheDir);
    expect(files.some((f) => f.endsWith("config"))).toBe(true);
    for (const file of files) {
      expect(await readFile(file, "utf8"), file).not.toMatch(/S3cret/);
    }
  });

  it("hands git the credentials through its environment only", async () => {
    const credentials = { username: "robot", password: "p@ss word$`'\"" };
    const args = gitConfig(credentials).flatMap((setting) => ["-c", setting]);
    expect(args.join(" ")).not.toContain(credentials.password);
    const filled = await execa("git", [...args, "credential", "fill"], {
      input: "protocol=https\nhost=git.example.com\npath=org/repo.git\n\n",
      env: gitEnv(credentials),
      extendEnv: false,
    });
    expect(filled.stdout).toContain("username=robot");
    expect(filled.stdout).toContain(`password=${credentials.password}`);
  });
});

describe("GitSource on a shared cache", () => {
  it("lets two sources fetch one repository into one cache at once, one mirror and no error", async () => {
    for (let round = 0; round < 3; round++) {
      const shared = await mkdtemp(join(work, "shared-"));
      const sources = [new GitSource({ cacheDir: shared }), new GitSource({ cacheDir: shared })];
      await Promise.all(sources.map((s) => s.fetch(origin)));
      expect(await sources[1]!.resolve(origin, "main")).toBe(commits.second);
      expect((await readdir(join(shared, "mirrors"))).filter((name) => name.endsWith(".git"))).toHaveLength(1);
    }
  });

  it("names the credential Secret it fetched with, never the value", async () => {
    const named = new GitSource({ cacheDir, credentials: () => Promise.resolve({ username: "robot", password: "x", secretName: "repo-org" }) });
    await expectSourceError(named.fetch("https://127.0.0.1:1/org/private.git"));
    expect(named.credentialName("https://127.0.0.1:1/org/private.git")).toBe("repo-org");
    expect(named.credentialName(origin)).toBeUndefined();
  });
});

describe("GitSource with local repositories refused", () => {
  it.each([
    ["a file:// URL", () => pathToFileURL(origin).href],
    ["a plain path", () => origin],
  ])("refuses %s with the flag that allows it, before touching the disk", async (_name, url) => {
    const strict = new GitSource({ cacheDir, allowLocal: false });
    const err = await expectSourceError(strict.fetch(url()));
    expect(err.message).toContain("--allow-local-repos");
    expect(err.retryable).toBe(false);
    await expectSourceError(strict.resolve(url(), "main"));
    expect(await readdir(cacheDir)).toEqual([]);
  });
});

describe("GitSource.checkout", () => {
  it("writes the files of that commit, and only those", async () => {
    await source.fetch(origin);
    const old = await source.checkout(origin, commits.first!);
    const current = await source.checkout(origin, commits.second!);
    try {
      expect((await allFilesUnder(old.dir)).map((f) => f.slice(old.dir.length + 1)).sort()).toEqual(["apps/a.yaml", "old.txt"]);
      expect((await allFilesUnder(current.dir)).map((f) => f.slice(current.dir.length + 1)).sort())
        .toEqual([".gitattributes", "apps/a.yaml", "apps/b.yaml", "ignored.txt"]);
      expect(await readFile(join(current.dir, "apps/b.yaml"), "utf8")).toBe("b: 2\n");
    } finally {
      await old.cleanup();
      await current.cleanup();
    }
    await expect(stat(old.dir)).rejects.toThrow(/ENOENT/);
  });

  it("refuses anything but a full SHA, so an unresolved revision never reaches the tree", async () => {
    await source.fetch(origin);
    const err = await expectSourceError(source.checkout(origin, "main"));
    expect(err.message).toContain("resolve the revision first");
  });

  it("reports a commit missing from the mirror without leaving a directory behind", async () => {
    await source.fetch(origin);
    const err = await expectSourceError(source.checkout(origin, "0".repeat(40)));
    expect(err.message).toContain(`cannot check out ${"0".repeat(40)} of ${origin}`);
    expect(err.message).not.toContain(cacheDir);
    expect(await readdir(join(cacheDir, "checkouts"))).toEqual([]);
  });
});

describe("GitSource.sharedTree", () => {
  it("extracts a commit once for the renders that read it, keeps it for the next, and removes it on close", async () => {
    await source.fetch(origin);
    const [a, b] = await Promise.all([source.sharedTree(origin, commits.second!), source.sharedTree(origin, commits.second!)]);
    expect(b.dir).toBe(a.dir);
    expect(await readFile(join(a.dir, "apps/b.yaml"), "utf8")).toBe("b: 2\n");
    await a.cleanup();
    await b.cleanup();
    await b.cleanup();
    const again = await source.sharedTree(origin, commits.second!);
    expect(again.dir).toBe(a.dir);
    const other = await source.sharedTree(origin, commits.first!);
    expect(other.dir).not.toBe(a.dir);
    expect((await allFilesUnder(other.dir)).map((f) => f.slice(other.dir.length + 1)).sort()).toEqual(["apps/a.yaml", "old.txt"]);
    await again.cleanup();
    await other.cleanup();
    await source.close();
    await expect(stat(a.dir)).rejects.toThrow(/ENOENT/);
    await expect(stat(other.dir)).rejects.toThrow(/ENOENT/);
  });
});

describe("GitSource.sharedTree of one directory", () => {
  const relative = async (dir: string) => (await allFilesUnder(dir)).map((f) => f.slice(dir.length + 1)).sort();

  it("gives a render of a directory of plain files that directory alone, until the commit is extracted whole", async () => {
    const repo = join(work, "dirs");
    await mkdir(repo);
    git(repo, "init", "-q", "-b", "main");
    const files: Record<string, string> = { "base/cm.yaml": "b: 1\n", "lib/x.libsonnet": "{}\n", "jsonnet/main.jsonnet": "import '../lib/x.libsonnet'\n" };
    for (let i = 0; i < 10; i++) files[`apps/app-${i}/cm.yaml`] = `app: ${i}\n`;
    await commitFiles(repo, files, "apps");
    await symlink("../base", join(repo, "apps/app-0/base"));
    const commit = await commitFiles(repo, {}, "a symlink out of app-0");
    await source.fetch(repo);

    const one = await source.sharedTree(repo, commit, "apps/app-1/");
    expect(await relative(one.dir)).toEqual(["apps/app-1/cm.yaml"]);
    // Asked side by side (one push's apps), directories share one extraction.
    const [three, four] = await Promise.all([source.sharedTree(repo, commit, "apps/app-3"), source.sharedTree(repo, commit, "apps/app-4")]);
    expect(three.dir).toBe(four.dir);
    expect(await relative(three.dir)).toEqual(["apps/app-3/cm.yaml", "apps/app-4/cm.yaml"]);
    // A symlink or Jsonnet may reach outside the directory: the whole commit.
    const linked = await source.sharedTree(repo, commit, "apps/app-0");
    expect(await relative(linked.dir)).toContain("base/cm.yaml");
    const jsonnet = await source.sharedTree(repo, commit, "jsonnet");
    expect(jsonnet.dir).toBe(linked.dir);
    // With the whole commit extracted, the next directory render shares it.
    const two = await source.sharedTree(repo, commit, "apps/app-2");
    expect(two.dir).toBe(linked.dir);
    for (const t of [one, three, four, linked, jsonnet, two]) await t.cleanup();
    await source.close();
  });

  it("extracts the commit whole once many renders of it asked for a directory each (a first sync of many apps)", async () => {
    await source.fetch(origin);
    const trees = [];
    for (let i = 0; i < 40; i++) trees.push(await source.sharedTree(origin, commits.second!, "apps"));
    expect(await relative(trees[0]!.dir)).toEqual(["apps/a.yaml", "apps/b.yaml"]);
    expect(await relative(trees.at(-1)!.dir)).toEqual(expect.arrayContaining([".gitattributes", "apps/a.yaml", "apps/b.yaml"]));
    for (const t of trees) await t.cleanup();
    await source.close();
  });
});

describe("GitSource.changedFiles and treeEntries", () => {
  it("lists what two commits changed (a removed file too), and a directory's entries with their modes", async () => {
    await source.fetch(origin);
    expect([...await source.changedFiles(origin, commits.first!, commits.second!)].sort()).toEqual([".gitattributes", "apps/b.yaml", "ignored.txt", "old.txt"]);
    expect(await source.changedFiles(origin, commits.second!, commits.second!)).toEqual([]);
    expect(await source.treeEntries(origin, commits.second!, "apps")).toMatchObject([
      { path: "apps/a.yaml", mode: "100644" }, { path: "apps/b.yaml", mode: "100644" }]);
    expect((await source.treeEntries(origin, commits.second!, "")).map((e) => e.path)).toContain("ignored.txt");
  });

  it("lists one directory tree by tree exactly as git ls-tree -r lists it: nested files, modes, symlinks, odd names", async () => {
    const remote = join(work, `listing-${Date.now()}`);
    await mkdir(remote);
    git(remote, "init", "-q", "-b", "main");
    await commitFiles(remote, { "apps/web/deep/x.yaml": "x: 1\n", "apps/web/run.sh": "echo\n", "apps/web/ü ber.yaml": "u: 1\n", "apps/webx/no.yaml": "n: 1\n" }, "files");
    await execa("chmod", ["+x", join(remote, "apps/web/run.sh")]);
    await symlink("../webx/no.yaml", join(remote, "apps/web/link.yaml"));
    const commit = await commitFiles(remote, {}, "modes");
    await source.fetch(remote);
    const listed = git(remote, "-c", "core.quotePath=false", "ls-tree", "-r", commit, "--", "apps/web").split("\n").map((line) => {
      const [meta, path] = line.split("\t");
      const [mode, type, object] = meta!.split(" ");
      return { path, mode, type, object };
    });
    const one = await source.treeEntries(remote, commit, "apps/web");
    expect([...one].sort((a, b) => a.path.localeCompare(b.path))).toEqual(listed.sort((a, b) => a.path!.localeCompare(b.path!)));
    expect(one.map((e) => e.mode).sort()).toEqual(["100644", "100644", "100755", "120000"]);
    expect(await source.treeEntries(remote, commit, "apps/nothing")).toEqual([]);
    // The whole commit's listing, once made, answers the same.
    await source.treeEntries(remote, commit, "");
    expect([...await source.treeEntries(remote, commit, "apps/web")].sort((a, b) => a.path.localeCompare(b.path))).toEqual([...one].sort((a, b) => a.path.localeCompare(b.path)));
  });

  it("refuses anything but full SHAs", async () => {
    await source.fetch(origin);
    await expect(source.changedFiles(origin, "main", commits.second!)).rejects.toThrow(/full commit SHA/);
  });
});

describe("safeJoin", () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(work, "tree-"));
    await mkdir(join(root, "apps/web"), { recursive: true });
    await writeFile(join(root, "apps/web/deploy.yaml"), "kind: x\n");
    await writeFile(join(work, "outside.yaml"), "secret\n");
    await symlink("web", join(root, "apps/current"));
    await symlink("../../outside.yaml", join(root, "apps/escape.yaml"));
    await symlink("/etc", join(root, "etc"));
    await symlink("nowhere", join(root, "dangling"));
  });

  it.each([
    ["a plain path", "apps/web/deploy.yaml", "apps/web/deploy.yaml"],
    ["the root itself", "", ""],
    ["a path with '..' that stays inside", "apps/web/../web/deploy.yaml", "apps/web/deploy.yaml"],
    ["a symlink that stays inside", "apps/current/deploy.yaml", "apps/web/deploy.yaml"],
    ["a path that does not exist yet", "apps/new/x.yaml", "apps/new/x.yaml"],
  ])("accepts %s", async (_name, relPath, expected) => {
    expect(await safeJoin(root, relPath)).toBe(join(await realpath(root), expected));
  });

  it.each([
    ["a '..' escape", "../outside.yaml", /leaves the repository through '\.\.'/],
    ["an absolute path", "/etc/passwd", /is absolute/],
    ["a symlinked file pointing outside", "apps/escape.yaml", /symlink that points outside the repository/],
    ["a symlinked directory pointing outside", "etc/passwd", /symlink that points outside the repository/],
    ["a dangling symlink", "dangling/x.yaml", /points to nothing/],
  ])("refuses %s", async (_name, relPath, message) => {
    const err = await safeJoin(root, relPath).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TetherError);
    expect((err as TetherError).message).toMatch(message);
    expect((err as TetherError).message).toContain(`'${relPath}'`);
    expect((err as TetherError).message).not.toContain(root);
  });
});

describe("GitSource.plainFiles", () => {
  let repo: string;
  let commit: string;
  const big = "x".repeat(200_000);
  beforeAll(async () => {
    repo = join(work, "plain");
    await mkdir(repo);
    git(repo, "init", "-q", "-b", "main");
    await mkdir(join(repo, "linked"));
    await symlink("../plain-app/a.yaml", join(repo, "linked", "a.yaml"));
    commit = await commitFiles(repo, {
      "plain-app/a.yaml": "a: 1\n", "plain-app/big.yaml": big, "plain-app/nested/z.yaml": "z: 26\n", "plain-app/.hidden": "h\n",
      "other/b.yaml": "b: 2\n",
    }, "plain files");
  });

  const url = () => pathToFileURL(repo).href;

  it("reads a directory's regular files from the mirror, paths relative to it", async () => {
    await source.fetch(url());
    const files = await source.plainFiles(url(), commit, "plain-app/", 1_000_000);
    expect(files?.map((f) => [f.path, f.size, f.text?.length])).toEqual([
      [".hidden", 2, 2], ["a.yaml", 5, 5], ["big.yaml", big.length, big.length], ["nested/z.yaml", 6, 6],
    ]);
    expect(files?.find((f) => f.path === "nested/z.yaml")?.text).toBe("z: 26\n");
  });

  it("leaves out the text of a file over the size asked, and reads the files after it intact", async () => {
    await source.fetch(url());
    const files = await source.plainFiles(url(), commit, "plain-app", 1000);
    expect(files?.find((f) => f.path === "big.yaml")).toEqual({ path: "big.yaml", size: big.length });
    expect(files?.find((f) => f.path === "nested/z.yaml")?.text).toBe("z: 26\n");
    // The stream stays in step after the unkept object: a later read gets its own answer.
    expect((await source.plainFiles(url(), commit, "other", 1000))?.map((f) => f.text)).toEqual(["b: 2\n"]);
  });

  it.each([
    ["a directory holding a symlink", "linked"],
    ["the root", ""],
    ["a path that is not in the commit", "missing"],
    ["a file, not a directory", "other/b.yaml"],
    ["a path leaving the repository", "../plain-app"],
  ])("answers nothing for %s (the render then reads a tree on disk)", async (_, dir) => {
    await source.fetch(url());
    expect(await source.plainFiles(url(), commit, dir, 1_000_000)).toBeUndefined();
  });
});
