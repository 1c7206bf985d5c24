// Scaffolding against a real smart-HTTP git server: `git http-backend` behind a small Node server on
// 127.0.0.1 that wants a token (HTTP Basic), as GitHub, GitLab and Gitea do.
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gitHttpHandler } from "../support/git-servers.ts";
import { configMapYaml, snapshot, tetherIn, writeTree } from "./support.ts";

const TOKEN = "ghp_scaffoldTest7c1e5b2d8046xyz";
let root: string;
let server: http.Server;
let base: string;
let tmp: string;
const users: string[] = [];

/** Serves every bare repository under `projectRoot` with `git http-backend`; the password must be TOKEN. */
function gitServer(projectRoot: string): http.Server {
  return http.createServer(gitHttpHandler(projectRoot, TOKEN, users));
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "tether-scaffold-http-"));
  tmp = path.join(root, "tmp");
  await mkdir(tmp);
  await simpleGit().init(["--bare", "--initial-branch=main", path.join(root, "srv", "gitops.git")]);
  const catalog = path.join(root, "catalog");
  await simpleGit().init(["--initial-branch=main", catalog]);
  await writeTree(catalog, { "apps/hello/cm.yaml": configMapYaml("hello", "over http") });
  await simpleGit(catalog).add(".").commit("catalog", { "--author": "t <t@t>" });
  await simpleGit().clone(catalog, path.join(root, "srv", "catalog.git"), ["--bare"]);
  server = gitServer(path.join(root, "srv"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (root) await rm(root, { recursive: true, force: true });
});

const bare = () => path.join(root, "srv", "gitops.git");
/** The CLI with its temporary directories under `tmp`, so the test can see none is left. */
const run = (args: readonly string[], env: Record<string, string> = {}) => tetherIn(root, args, { env: { TMPDIR: tmp, ...env } });
const output = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;
/** Temporary clones and worktrees the CLI left behind (tsx keeps its cache there too). */
const leftovers = async () => (await readdir(tmp)).filter((name) => name.startsWith("tether-"));

describe("an HTTPS repository that wants a token", () => {
  it("takes --git-token: repo init and app create push through the server", async () => {
    const init = await run(["repo", "init", "--repo", `${base}/gitops.git`, "--git-token", TOKEN]);
    expect(init.exitCode, output(init)).toBe(0);
    expect(init.stdout).toContain(`pushed to main of ${base}/gitops.git`);
    expect(users.every((u) => u === "git")).toBe(true);

    await writeTree(root, { "hello/cm.yaml": configMapYaml("hello", "hi") });
    const created = await run(["app", "create", "hello", "--app", "./hello", "-p", "default", "--repo", `${base}/gitops.git`], { TETHER_GIT_TOKEN: TOKEN });
    expect(created.exitCode, output(created)).toBe(0);
    expect((await simpleGit(bare()).raw(["log", "--format=%s", "main"])).trim().split("\n")).toEqual(["Add app hello to project default", "Lay out the GitOps repository"]);
    expect(await leftovers()).toEqual([]);
  });

  it("sends the token to a remote --app on the same server, to read it before committing", async () => {
    const created = await run(["app", "create", "from-catalog", "--app", `${base}/catalog.git/apps/hello?ref=main`, "-p", "default",
      "--repo", `${base}/gitops.git`, "--git-token", TOKEN, "--git-user", "ci-bot"]);
    expect(created.exitCode, output(created)).toBe(0);
    const manifest = await simpleGit(bare()).show(["main:components/default/from-catalog.yaml"]);
    expect(manifest).toContain(`repoURL: ${base}/catalog.git\n    targetRevision: main\n    path: apps/hello\n`);
    expect(users).toContain("ci-bot");
  });

  it("refuses a wrong token clearly, never prints it, and changes nothing", async () => {
    const before = await snapshot(bare());
    const wrong = await run(["project", "create", "team-a", "--repo", `${base}/gitops.git`, "--git-token", "not-the-token"]);
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toMatch(new RegExp(`reading ${base}/gitops.git failed: Authentication failed for .*\\nThe server refused the token: check --git-token \\(or TETHER_GIT_TOKEN\\)`));
    expect(output(wrong)).not.toContain("not-the-token");
    expect(await snapshot(bare())).toBe(before);
    expect(await leftovers()).toEqual([]);
  });

  it("asks for a token when none is given", async () => {
    const none = await run(["project", "create", "team-a", "--repo", `${base}/gitops.git`]);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain("The server wants credentials: pass --git-token TOKEN or set TETHER_GIT_TOKEN");
  });

  it("works in a clone of the server without writing the token into it", async () => {
    const clone = path.join(root, "clone");
    await simpleGit({ config: [`http.extraHeader=Authorization: Basic ${Buffer.from(`git:${TOKEN}`).toString("base64")}`] }).clone(`${base}/gitops.git`, clone);
    const created = await tetherIn(clone, ["project", "create", "team-a", "--git-token", TOKEN], { env: { TMPDIR: tmp } });
    expect(created.exitCode, output(created)).toBe(0);
    expect(created.stdout).toContain("pushed to main of origin");
    expect((await simpleGit(bare()).raw(["log", "-1", "--format=%s", "main"])).trim()).toBe("Add project team-a");
    expect(await readFile(path.join(clone, ".git", "config"), "utf8")).not.toContain(TOKEN);
    expect(output(created)).not.toContain(TOKEN);
  });
});
