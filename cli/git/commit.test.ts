// The commit-and-push cycle against real git repositories on disk (no server, no cluster).
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError } from "../errors.ts";
import type { RepoAccess } from "./access.ts";
import { commitChange, type Planner } from "./commit.ts";

let root: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "tether-commit-test-"));
  // Every temporary directory the code under test makes lands here, so the test can see it is gone.
  process.env.TMPDIR = path.join(root, "tmp");
  await import("node:fs/promises").then((fs) => fs.mkdir(process.env.TMPDIR!, { recursive: true }));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const git = (dir: string) => simpleGit({ baseDir: dir, config: ["user.name=t", "user.email=t@t", "commit.gpgsign=false"] });

/** A bare repository with one commit on main, and a function that pushes a commit to it from elsewhere. */
async function remote() {
  const dir = path.join(root, `remote-${++counter}`);
  const bare = `${dir}/origin.git`;
  await simpleGit().init(["--bare", "--initial-branch=main", bare]);
  const seed = `${dir}/seed`;
  await simpleGit().clone(bare, seed);
  await git(seed).checkout(["-B", "main"]);
  await writeFile(`${seed}/README.md`, "seed\n");
  await git(seed).add(".").commit("seed").push("origin", "main");
  let others = 0;
  return {
    bare,
    head: async () => (await simpleGit(bare).revparse(["main"])).trim(),
    log: async () => (await simpleGit(bare).raw(["log", "--format=%s", "main"])).trim().split("\n"),
    /** Someone else pushes a commit. */
    async pushOther() {
      await git(seed).pull("origin", "main");
      await writeFile(`${seed}/other-${++others}.txt`, "x\n");
      await git(seed).add(".").commit(`other ${others}`).push("origin", "main");
    },
  };
}

const access = (location: string, mode: RepoAccess["mode"] = "remote"): RepoAccess => ({ display: location, mode, location });
const addFile = (file: string): Planner => () => Promise.resolve({ message: `Add ${file}`, changes: [{ path: file, content: "hello\n" }] });
const tempLeft = async () => (await readdir(process.env.TMPDIR!)).length;

describe("committing to a remote repository", () => {
  it("clones, commits only the planned files, pushes, and removes its temporary clone", async () => {
    const r = await remote();
    const outcome = await commitChange(access(r.bare), addFile("components/a.yaml"), { guard: ["components"] });
    expect(outcome.status).toBe("committed");
    expect(await r.log()).toEqual(["Add components/a.yaml", "seed"]);
    expect(await r.head()).toBe(outcome.status === "committed" ? outcome.commit : "");
    expect(await tempLeft()).toBe(0);
  });

  it("commits nothing when the plan changes nothing", async () => {
    const r = await remote();
    const before = await r.head();
    const outcome = await commitChange(access(r.bare), () => Promise.resolve({ message: "noop", changes: [{ path: "README.md", content: "seed\n" }] }), { guard: [] });
    expect(outcome.status).toBe("unchanged");
    expect(await r.head()).toBe(before);
  });

  it("shows the diff on --dry-run and pushes nothing", async () => {
    const r = await remote();
    const before = await r.head();
    const outcome = await commitChange(access(r.bare), addFile("a.yaml"), { guard: [], dryRun: true });
    expect(outcome.status).toBe("dry-run");
    expect(outcome.status === "dry-run" && outcome.diff).toContain("+++ b/a.yaml\n@@ -0,0 +1 @@\n+hello");
    expect(await r.head()).toBe(before);
    expect(await tempLeft()).toBe(0);
  });

  it("re-plans on top and pushes again when someone pushed in between", async () => {
    const r = await remote();
    let calls = 0;
    const planner: Planner = async (tree) => {
      if (++calls === 1) await r.pushOther();
      return { message: `Add b.yaml (saw other-1: ${(await tree.kind("other-1.txt")) === "file"})`, changes: [{ path: "b.yaml", content: "b\n" }] };
    };
    const outcome = await commitChange(access(r.bare), planner, { guard: [] });
    expect(outcome.status).toBe("committed");
    expect(calls).toBe(2);
    expect(await r.log()).toEqual(["Add b.yaml (saw other-1: true)", "other 1", "seed"]);
  });

  it("gives up after the second rejection, explains, and leaves the branch as the others left it", async () => {
    const r = await remote();
    const planner: Planner = async () => {
      await r.pushOther();
      return { message: "Add c.yaml", changes: [{ path: "c.yaml", content: "c\n" }] };
    };
    const err = await commitChange(access(r.bare), planner, { guard: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/moved again while tether re-applied its change .* Nothing was changed; run the command again/s);
    expect(await r.log()).toEqual(["other 2", "other 1", "seed"]);
    expect(await tempLeft()).toBe(0);
  });

  it("refuses a branch the repository does not have", async () => {
    const r = await remote();
    await expect(commitChange({ ...access(r.bare), branch: "nope" }, addFile("x"), { guard: [] })).rejects.toThrow(/--branch nope: no such branch in .*; it has main/);
  });

  it("starts the branch in an empty repository", async () => {
    const bare = path.join(root, `empty-${++counter}.git`);
    await simpleGit().init(["--bare", "--initial-branch=trunk", bare]);
    const outcome = await commitChange(access(bare), addFile("x.yaml"), { guard: [] });
    expect(outcome.status === "committed" && outcome.target).toBe(`trunk of ${bare}`);
    expect((await simpleGit(bare).raw(["log", "--format=%s", "trunk"])).trim()).toBe("Add x.yaml");
  });
});

describe("committing in the user's clone", () => {
  async function clone() {
    const r = await remote();
    const work = `${path.dirname(r.bare)}/work`;
    await simpleGit().clone(r.bare, work);
    return { r, work, local: access(work, "local") };
  }

  it("commits there, pushes to its upstream and fast-forwards the branch", async () => {
    const { r, work, local } = await clone();
    const outcome = await commitChange(local, addFile("components/a.yaml"), { guard: ["components"] });
    expect(outcome.status === "committed" && outcome.published).toEqual(["pushed to main of origin", expect.stringMatching(/^main in .* is now at [0-9a-f]{7}$/)]);
    expect((await simpleGit(work).revparse(["HEAD"])).trim()).toBe(await r.head());
    expect((await simpleGit(work).status()).isClean()).toBe(true);
    expect((await simpleGit(work).raw(["worktree", "list"])).trim().split("\n")).toHaveLength(1);
  });

  it("brings a clone that is behind up to date on the way", async () => {
    const { r, work, local } = await clone();
    await r.pushOther();
    await commitChange(local, addFile("b.yaml"), { guard: [] });
    expect(await r.log()).toEqual(["Add b.yaml", "other 1", "seed"]);
    expect((await simpleGit(work).revparse(["HEAD"])).trim()).toBe(await r.head());
  });

  it("refuses uncommitted changes where it writes, and changes nothing", async () => {
    const { r, work, local } = await clone();
    await import("node:fs/promises").then((fs) => fs.mkdir(`${work}/components`));
    await writeFile(`${work}/components/draft.yaml`, "draft\n");
    const before = await r.head();
    const err = await commitChange(local, addFile("components/a.yaml"), { guard: ["components"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain("?? components/draft.yaml");
    expect(await r.head()).toBe(before);
    expect((await simpleGit(work).status()).not_added).toEqual(["components/draft.yaml"]);
  });

  it("refuses to push the user's own unpushed commits along with its own", async () => {
    const { work, local } = await clone();
    await writeFile(`${work}/mine.txt`, "x\n");
    await git(work).add(".").commit("mine");
    await expect(commitChange(local, addFile("a.yaml"), { guard: [] })).rejects.toThrow(/main in .* has 1 commit\(s\) that are not on origin\/main/);
  });

  it("commits to a clone without upstream, as the demo's file:// root reads it", async () => {
    const dir = path.join(root, `solo-${++counter}`);
    await simpleGit().init(["--initial-branch=main", dir]);
    await writeFile(`${dir}/README.md`, "x\n");
    await git(dir).add(".").commit("first");
    const outcome = await commitChange(access(dir, "local"), addFile("a.yaml"), { guard: [] });
    expect(outcome.status === "committed" && outcome.published).toEqual([expect.stringMatching(/^main in .* is now at/)]);
    expect((await simpleGit(dir).raw(["log", "--format=%s"])).trim().split("\n")).toEqual(["Add a.yaml", "first"]);
  });

  it("leaves the clone as it was when the plan is refused", async () => {
    const { r, work, local } = await clone();
    const before = await r.head();
    await expect(commitChange(local, () => Promise.reject(new Error("refused")), { guard: [] })).rejects.toThrow("refused");
    expect(await r.head()).toBe(before);
    expect((await simpleGit(work).status()).isClean()).toBe(true);
    expect((await simpleGit(work).raw(["worktree", "list"])).trim().split("\n")).toHaveLength(1);
  });
});
