// Scaffolding commands that cannot do what they were asked: each says why and how to fix it, exits
// with its code, and leaves the remote branch, the user's clone and its worktrees exactly as they were.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appProject, projectYaml } from "../../cli/project/project.ts";
import { layoutFiles } from "../../cli/repo/init.ts";
import { applicationYaml } from "../../cli/app/scaffold.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { configMapYaml, snapshot, tetherIn, writeTree } from "./support.ts";

let repo: TestRepo;
let bare: string;
let scratch: string;

const run = (args: readonly string[], cwd = scratch) => tetherIn(cwd, [...args, "--repo", repo.url]);
const inClone = (args: readonly string[]) => tetherIn(repo.work, args);

beforeAll(async () => {
  repo = await createRepo();
  bare = repo.url.slice("file://".length);
  scratch = await mkdtemp(path.join(os.tmpdir(), "tether-scaffold-errors-"));
  await repo.commit({
    ...layoutFiles({ components: "components" }),
    "projects/team-a.yaml": projectYaml(appProject({ name: "team-a", namespace: "tether-system", components: "components", destNamespaces: ["team-a-*"] })),
    "components/team-a/hello.yaml": applicationYaml({ name: "hello", project: "team-a", source: { path: "components/team-a/hello" }, server: "https://kubernetes.default.svc", namespace: "team-a-hello" }),
    "components/team-a/hello/cm.yaml": configMapYaml("hello", "hi"),
  }, "seed");
  await repo.git.branch(["--set-upstream-to=origin/main", "main"]);
  await writeTree(scratch, {
    "app/cm.yaml": configMapYaml("x", "y"),
    "leaky/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n",
    "admin/role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: everything\nrules: []\n",
    "broken/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: {\n",
  });
});

afterAll(async () => {
  await repo?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Runs `attempt` and checks it failed with `code` and `message` and left everything as it was. */
async function refused(attempt: () => ReturnType<typeof run>, code: number, message: RegExp | string) {
  const before = await snapshot(bare, repo.work);
  const result = await attempt();
  expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(code);
  if (typeof message === "string") expect(result.stderr).toContain(message);
  else expect(result.stderr).toMatch(message);
  expect(await snapshot(bare, repo.work)).toBe(before);
  return result;
}

describe("refusals that change nothing", () => {
  it("a name that is not DNS-1123 (exit 2)", async () => {
    await refused(() => run(["app", "create", "Hello_World", "--app", "./app", "-p", "team-a"]), 2,
      'app "Hello_World" is not a valid name: use at most 63 lowercase letters, digits and \'-\'');
  });

  it("a name already taken (exit 5)", async () => {
    await refused(() => run(["app", "create", "hello", "--app", "./app", "-p", "team-a", "--dest-namespace", "team-a-x"]), 5,
      "app hello already exists (components/team-a/hello.yaml, project team-a)");
    await refused(() => run(["project", "create", "team-a"]), 5, "project team-a already exists (projects/team-a.yaml)");
  });

  it("a project that apps still use, or that does not exist (exit 5, exit 3)", async () => {
    await refused(() => run(["project", "delete", "team-a"]), 5, "project team-a is used by hello (components/team-a/hello.yaml)");
    await refused(() => run(["project", "delete", "team-b"]), 3, "project team-b not found in projects/ (known: default, team-a)");
  });

  it("what the agent would refuse is refused before anything is committed (exit 2)", async () => {
    await refused(() => run(["app", "create", "leaky", "--app", "./leaky", "-p", "default"]), 2,
      /refused before committing, as the agent would refuse it \(PlaintextSecret\): components\/default\/leaky\/secret.yaml: Secret\/db is not SOPS-encrypted/);
    await refused(() => run(["app", "create", "admin", "--app", "./admin", "-p", "team-a", "--dest-namespace", "team-a-admin"]), 2,
      /\(PolicyViolation\): ClusterRole\/everything: cluster-scoped kind ClusterRole is not permitted.*team-a/);
    await refused(() => run(["app", "create", "broken", "--app", "./broken", "-p", "default"]), 2, /\(RenderFailed\): .*cm.yaml/);
  });

  it("an --app inside the clone that does not exist says so (exit 2)", async () => {
    await refused(() => inClone(["app", "create", "web", "--app", "./nonexistent", "-p", "default"]), 2, /--app .\/nonexistent: .*nonexistent does not exist/);
  });

  it("an unknown project (exit 3)", async () => {
    await refused(() => run(["app", "create", "web", "--app", "./app", "-p", "team-b"]), 3,
      "project team-b does not exist in projects/ (known: default, team-a); create it with `tether project create team-b`");
  });

  it("an --app that is nowhere (exit 2)", async () => {
    await refused(() => run(["app", "create", "web", "--app", "./nope", "-p", "default"]), 2, "--app ./nope: no such directory in the repository or on this machine");
    await refused(() => run(["app", "create", "web", "--app", `${repo.url}/nope?ref=main`, "-p", "default"]), 2, /--app: nope does not exist \(or is empty\) in .* at main/);
  });

  it("uncommitted changes in the user's clone where the command writes (exit 5)", async () => {
    await writeFile(path.join(repo.work, "components/team-a/hello/cm.yaml"), configMapYaml("hello", "edited"));
    try {
      const result = await refused(() => inClone(["app", "delete", "hello"]), 5, "has uncommitted changes where this command writes:\n   M components/team-a/hello/cm.yaml");
      expect(result.stderr).toContain("Commit or stash them first");
    } finally {
      await repo.git.checkout(["--", "."]);
    }
  });

  it("commits in the user's clone that were never pushed (exit 5)", async () => {
    await writeFile(path.join(repo.work, "NOTES.md"), "mine\n");
    await repo.git.add("NOTES.md").commit("mine");
    try {
      await refused(() => inClone(["app", "delete", "hello"]), 5, /main in .* has 1 commit\(s\) that are not on origin\/main; tether would push them along with its own/);
    } finally {
      await repo.git.reset(["--hard", "origin/main"]);
    }
  });

  it("a push the server refuses (exit 1)", async () => {
    const hook = path.join(bare, "hooks", "pre-receive");
    await writeFile(hook, "#!/bin/sh\necho 'main is protected: open a pull request' >&2\nexit 1\n");
    await chmod(hook, 0o755);
    try {
      await refused(() => run(["project", "create", "team-c"]), 1,
        /push .* failed: .*\nThe server said: main is protected: open a pull request\nThe server refused the push \(a hook or branch protection\): nothing was changed/);
    } finally {
      await rm(hook);
    }
  });

  it("a server that cannot be reached (exit 1)", async () => {
    const before = await snapshot(bare, repo.work);
    const result = await tetherIn(scratch, ["project", "create", "team-c", "--repo", "http://127.0.0.1:9/gitops.git"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/reading http:\/\/127\.0\.0\.1:9\/gitops\.git failed: .*\nCould not reach the server: check the URL and your network/);
    expect(await snapshot(bare, repo.work)).toBe(before);
  });

  it("--wait-timeout without a cluster to wait on, before anything is pushed (exit 2)", async () => {
    await refused(() => tetherIn(scratch, ["app", "create", "web", "--app", "./app", "-p", "default", "--wait-timeout", "1m", "--repo", repo.url, "--kubeconfig", "/nonexistent/kubeconfig"]), 2,
      "kubeconfig /nonexistent/kubeconfig does not exist");
  });

  it("repo init on a layout with problems lists them all and commits nothing (exit 1)", async () => {
    await repo.commit({ "components/team-a/ghost.yaml": applicationYaml({ name: "ghost", project: "nobody", source: { path: "nowhere" }, server: "https://kubernetes.default.svc", namespace: "x" }) });
    try {
      await refused(() => run(["repo", "init"]), 1, /the repository's layout has 2 problem\(s\); nothing was changed:\n {2}components\/team-a\/ghost\.yaml: Application ghost names project nobody.*\n {2}components\/team-a\/ghost\.yaml: Application ghost deploys nowhere/);
    } finally {
      await repo.commit({ "components/team-a/ghost.yaml": null });
    }
  });

  it("--dry-run prints the files and the diff and pushes nothing", async () => {
    const before = await snapshot(bare, repo.work);
    const result = await run(["app", "create", "web", "--app", "./app", "-p", "team-a", "--dest-namespace", "team-a-web", "--dry-run"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Would commit to main of ${bare}: "Add app web to project team-a"\n  would create components/team-a/web.yaml\n  would create components/team-a/web/cm.yaml\n`);
    expect(result.stdout).toContain("+++ b/components/team-a/web.yaml\n@@ -0,0 +1,15 @@\n+apiVersion: tether.dev/v1alpha1");
    expect(await snapshot(bare, repo.work)).toBe(before);
  });
});

describe("a branch that moved", () => {
  it("is fetched, the change re-applied on top once, and pushed", async () => {
    await repo.commit({ "NOTES.md": "someone else\n" }, "someone else's change");
    const pushedByOthers = (await simpleGit(bare).revparse(["main"])).trim();
    await repo.git.reset(["--hard", "HEAD~1"]);
    await repo.git.raw(["update-ref", "refs/remotes/origin/main", "HEAD"]);

    const result = await inClone(["project", "create", "team-d"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const log = (await simpleGit(bare).raw(["log", "-2", "--format=%H %s", "main"])).trim().split("\n");
    expect(log[0]).toMatch(/ Add project team-d$/);
    expect(log[1]).toBe(`${pushedByOthers} someone else's change`);
    expect((await repo.git.revparse(["HEAD"])).trim()).toBe((await simpleGit(bare).revparse(["main"])).trim());
    expect((await repo.git.status()).isClean()).toBe(true);
  });
});
