// The writer against real git: a bare "server" repository on disk, a clone to push competing commits from.
import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setKustomizeImage } from "./edits.ts";
import { GitWriter, isNonFastForward, pushRefusal, type WriteRequest } from "./git.ts";

const IDENTITY = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "commit.gpgsign=false"];
function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", [...IDENTITY, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

let work: string;
let server: string;
let dev: string;
let writer: GitWriter;

async function devCommit(files: Record<string, string>, message: string, branch = "main"): Promise<void> {
  git(dev, "fetch", "-q", "origin");
  git(dev, "checkout", "-q", "-B", branch, `origin/${branch}`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dev, path)), { recursive: true });
    await writeFile(join(dev, path), content);
  }
  git(dev, "add", "-A");
  git(dev, "commit", "-q", "-m", message);
  git(dev, "push", "-q", "origin", `HEAD:${branch}`);
}

function serverFile(branch: string, path: string): string {
  return git(server, "show", `${branch}:${path}`);
}

const KUSTOMIZATION = "resources:\n  - deploy.yaml\nimages:\n  - name: registry.example/app\n    newTag: 1.0.0\n";

function setTag(tag: string, path = "apps/web/kustomization.yaml"): WriteRequest["edit"] {
  return async (dir) => {
    const file = join(dir, path);
    await writeFile(file, setKustomizeImage(await readFile(file, "utf8"), { name: "registry.example/app", newTag: tag }));
    return { files: [path] };
  };
}

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "tether-writeback-"));
  server = join(work, "server.git");
  dev = join(work, "dev");
  await mkdir(server);
  git(server, "init", "-q", "--bare", "-b", "main");
  git(work, "clone", "-q", server, dev);
  git(dev, "checkout", "-q", "-b", "main");
  await mkdir(join(dev, "apps/web"), { recursive: true });
  await writeFile(join(dev, "apps/web/kustomization.yaml"), KUSTOMIZATION);
  await writeFile(join(dev, "apps/web/deploy.yaml"), "kind: Deployment\n");
  git(dev, "add", "-A");
  git(dev, "commit", "-q", "-m", "first");
  git(dev, "push", "-q", "origin", "HEAD:main");
  writer = new GitWriter({ cacheDir: join(work, "cache") });
});

afterEach(async () => rm(work, { recursive: true, force: true }));

describe("GitWriter", () => {
  it("commits the edit on the default branch as Tether, with the message, and leaves no work tree behind", async () => {
    const result = await writer.write({ repoURL: server, branch: "", edit: setTag("1.2.0"), message: "build: automatic update of web\n\nupdates image registry.example/app tag '1.0.0' to '1.2.0'\n" });
    expect(result).toMatchObject({ kind: "pushed", branch: "main", attempts: 1 });
    expect(serverFile("main", "apps/web/kustomization.yaml")).toContain("newTag: 1.2.0");
    expect(git(server, "log", "-1", "--format=%an <%ae>|%cn|%s", "main")).toBe("Tether Image Updater <noreply@tether.dev>|Tether Image Updater|build: automatic update of web");
    expect(git(server, "rev-parse", "main")).toBe(result.kind === "pushed" ? result.commit : "");
    expect(await readdir(join(work, "cache", "writeback"))).toEqual([]);
  });

  it("writes nothing when the edit changes nothing", async () => {
    const before = git(server, "rev-parse", "main");
    expect(await writer.write({ repoURL: server, branch: "main", edit: setTag("1.0.0"), message: "m" })).toEqual({ kind: "unchanged", branch: "main" });
    expect(git(server, "rev-parse", "main")).toBe(before);
  });

  it("re-fetches and applies the edit again when someone pushed first", async () => {
    let calls = 0;
    const edit: WriteRequest["edit"] = async (dir) => {
      calls++;
      // Between this attempt's fetch and its push, a developer pushes to the same branch.
      if (calls === 1) await devCommit({ "apps/web/deploy.yaml": "kind: Deployment\nmetadata: {name: web}\n" }, "developer change");
      return setTag("1.3.0")(dir);
    };
    const result = await writer.write({ repoURL: server, branch: "main", edit, message: "update" });
    expect(result).toMatchObject({ kind: "pushed", attempts: 2 });
    expect(calls).toBe(2);
    expect(git(server, "log", "--format=%s", "main").split("\n")).toEqual(["update", "developer change", "first"]);
    expect(serverFile("main", "apps/web/deploy.yaml")).toContain("name: web");
  });

  it("pushes nothing when the check of the edited tree fails", async () => {
    const before = git(server, "rev-parse", "main");
    const check = (): Promise<void> => Promise.reject(new Error("kustomize build apps/web: accumulating resources: missing.yaml not found"));
    await expect(writer.write({ repoURL: server, branch: "main", edit: setTag("9.9.9"), check, message: "m" })).rejects.toThrow(/missing.yaml not found/);
    expect(git(server, "rev-parse", "main")).toBe(before);
  });

  it("base:target creates the target branch from the base, then writes on top of it", async () => {
    const first = await writer.write({ repoURL: server, branch: "main", pushBranch: "image-updates", edit: setTag("1.1.0"), message: "one" });
    expect(first).toMatchObject({ kind: "pushed", branch: "image-updates" });
    await writer.write({ repoURL: server, branch: "main", pushBranch: "image-updates", edit: setTag("1.2.0"), message: "two" });
    expect(git(server, "log", "--format=%s", "image-updates").split("\n")).toEqual(["two", "one", "first"]);
    expect(serverFile("main", "apps/web/kustomization.yaml")).toContain("newTag: 1.0.0");
  });

  it("says when the server refuses the push, and names the repository", async () => {
    const hook = join(server, "hooks", "pre-receive");
    await writeFile(hook, "#!/bin/sh\necho 'branch main is protected' >&2\nexit 1\n");
    await chmod(hook, 0o755);
    const error = await writer.write({ repoURL: server, branch: "main", edit: setTag("2.0.0"), message: "m" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "WriteBackFailed", retryable: false });
    expect((error as Error).message).toMatch(new RegExp(`cannot push to ${server}: .*the server refused the push`));
  });

  it("refuses a branch that is not there", async () => {
    await expect(writer.write({ repoURL: server, branch: "release", edit: setTag("2.0.0"), message: "m" })).rejects.toThrow(/branch 'release' is not in/);
  });

  it("refuses local repositories when the agent does", async () => {
    const agent = new GitWriter({ cacheDir: join(work, "cache"), allowLocal: false });
    await expect(agent.write({ repoURL: server, branch: "main", edit: setTag("2.0.0"), message: "m" })).rejects.toThrow(/local repositories are refused/);
  });
});

it.each<[string, string | undefined]>([
  ["remote: main is protected\nTo file:///srv/r.git\n ! [remote rejected] HEAD -> main (pre-receive hook declined)\nerror: failed to push some refs",
    "pre-receive hook declined: main is protected"],
  [" ! [remote rejected] HEAD -> main (protected branch hook declined)", "protected branch hook declined"],
  ["remote: Permission denied\nfatal: unable to access 'https://git.example/r.git/': The requested URL returned error: 403", undefined],
])("pushRefusal(%j) is %j", (stderr, expected) => expect(pushRefusal(stderr)).toBe(expected));

it.each([
  [" ! [rejected]        HEAD -> main (fetch first)", true],
  ["! [rejected] HEAD -> main (non-fast-forward)", true],
  ["! [remote rejected] HEAD -> main (pre-receive hook declined)", false],
])("isNonFastForward(%j) is %s", (stderr, expected) => expect(isNonFastForward(stderr)).toBe(expected));
