// Scaffolding end to end: `tether repo init`, `project create`, `app create` and `app delete` commit
// and push to a bare repository that a root Application reads, and the real agent deploys the result.
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FINALIZER, type Application } from "../../agent/api/types.ts";
import { repoRoot } from "../harness/paths.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { applyApp, appReader, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";
import { configMapYaml, snapshot, tetherIn, writeTree } from "./support.ts";

const NS = "tether-e2e-scaffold";
const { kubeconfigPath, kc, core, apps, objects } = kube();
const reader = appReader(kc, NS);

let repo: TestRepo;
let bare: string;
let agent: AgentProcess;
let scratch: string;

/** `tether ARGS --repo <the bare repository>`, run from the scratch directory. */
const run = (args: readonly string[]) => tetherIn(scratch, [...args, "--repo", repo.url, "-n", NS], { kubeconfig: kubeconfigPath });
const output = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;
const configMapIn = async (namespace: string, name: string) =>
  (await core.listNamespacedConfigMap({ namespace, fieldSelector: `metadata.name=${name}` }).catch(() => ({ items: [] }))).items[0];

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  repo = await createRepo();
  bare = repo.url.slice("file://".length);
  scratch = await mkdtemp(path.join(os.tmpdir(), "tether-scaffold-"));
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
});

afterAll(async () => {
  await agent?.stop();
  await repo?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("tether repo init", () => {
  it("lays out an empty repository that a root Application then deploys", async () => {
    const init = await run(["repo", "init"]);
    expect(init.exitCode, output(init)).toBe(0);
    expect(init.stdout).toContain("created components/projects.yaml");
    expect(init.stdout).toContain("created projects/default.yaml");
    const files = (await simpleGit(bare).raw(["ls-tree", "-r", "--name-only", "main"])).trim().split("\n");
    expect(files).toEqual([".sops.yaml", "components/README.md", "components/projects.yaml", "projects/default.yaml"]);

    const root: Application = {
      apiVersion: "tether.dev/v1alpha1", kind: "Application",
      metadata: { name: "root", namespace: NS, finalizers: [FINALIZER] },
      spec: {
        project: "default",
        source: { repoURL: repo.url, targetRevision: "main", path: "components", directory: { recurse: true, exclude: "*/*/*" } },
        destination: { server: "https://kubernetes.default.svc", namespace: NS },
        syncPolicy: { automated: { prune: true, selfHeal: true } },
      },
    };
    await applyApp(objects, root);
    await reader.until("projects", "the projects app Synced and Healthy", syncedAndHealthy(), 90_000);
  });

  it("changes nothing when run again", async () => {
    const before = await snapshot(bare);
    const again = await run(["repo", "init"]);
    expect(again.exitCode, output(again)).toBe(0);
    expect(again.stdout).toMatch(/^Nothing to commit/);
    expect(await snapshot(bare)).toBe(before);
  });
});

describe("tether app create", () => {
  it("copies a local directory, pushes, and --wait-timeout returns once the agent deployed it", async () => {
    await writeTree(scratch, { "hello/configmap.yaml": configMapYaml("hello", "from a directory") });
    const created = await run(["app", "create", "hello-dir", "--app", "./hello", "-p", "default", "--dest-namespace", "scaffold-dir", "--wait-timeout", "90s"]);
    expect(created.exitCode, output(created)).toBe(0);
    expect(created.stdout).toContain("created components/default/hello-dir.yaml\ncreated components/default/hello-dir/configmap.yaml\n");
    expect(created.stdout).toMatch(/hello-dir: sync=Synced health=Healthy$/);
    expect(created.stderr).toContain("waiting for the agent: refreshed root");
    expect((await configMapIn("scaffold-dir", "hello"))?.data?.MESSAGE).toBe("from a directory");
    const log = await simpleGit(bare).raw(["log", "-1", "--format=%B", "main"]);
    expect(log).toContain("Add app hello-dir to project default\n\nSource: components/default/hello-dir (copied from ./hello)\nType: dir\n");
  });

  it("writes a kustomization for --type kustomize, and the agent builds it", async () => {
    await writeTree(scratch, { "web/cm.yaml": configMapYaml("web", "kustomized"), "web/README.md": "not a manifest\n" });
    const created = await run(["app", "create", "hello-kustomize", "--app", "./web", "-p", "default", "--type", "kustomize", "--dest-namespace", "scaffold-kustomize", "--wait-timeout", "90s"]);
    expect(created.exitCode, output(created)).toBe(0);
    expect(created.stdout).toContain("created components/default/hello-kustomize/kustomization.yaml");
    expect((await configMapIn("scaffold-kustomize", "web"))?.data?.MESSAGE).toBe("kustomized");
    const app = await reader.get("hello-kustomize");
    expect(app.spec.source).toMatchObject({ path: "components/default/hello-kustomize", kustomize: {} });
  });

  it("copies a Helm chart, and the agent renders it with the app's name as the release", async () => {
    await cp(path.join(repoRoot, "test/fixtures/helm/hello"), path.join(scratch, "chart"), { recursive: true });
    const created = await run(["app", "create", "hello-helm", "--app", "./chart", "-p", "default", "--dest-namespace", "scaffold-helm", "--wait-timeout", "90s"]);
    expect(created.exitCode, output(created)).toBe(0);
    expect(created.stdout).toContain("created components/default/hello-helm/templates/deployment.yaml");
    const deployment = await apps.readNamespacedDeployment({ name: "hello-helm-hello", namespace: "scaffold-helm" });
    expect(deployment.status?.readyReplicas).toBe(1);
  });

  it("points at another repository's directory at its ref, and the agent deploys that revision", async () => {
    const catalog = await createRepo();
    try {
      await catalog.commit({ "apps/hello/cm.yaml": configMapYaml("remote", "v1") }, "v1");
      await catalog.git.addTag("v1.0.0");
      await catalog.git.pushTags("origin");
      await catalog.commit({ "apps/hello/cm.yaml": configMapYaml("remote", "after v1") }, "later");
      const created = await run(["app", "create", "hello-remote", "--app", `${catalog.url}/apps/hello?ref=v1.0.0`, "-p", "default", "--dest-namespace", "scaffold-remote", "--wait-timeout", "90s"]);
      expect(created.exitCode, output(created)).toBe(0);
      expect(created.stdout).toContain("created components/default/hello-remote.yaml\nCommitted");
      expect((await configMapIn("scaffold-remote", "remote"))?.data?.MESSAGE).toBe("v1");
      expect((await reader.get("hello-remote")).spec.source).toEqual({ repoURL: catalog.url, targetRevision: "v1.0.0", path: "apps/hello" });
    } finally {
      await catalog.cleanup();
    }
  });

  it("builds an overlay of the app's own on a kustomize base committed in the repository, from the user's clone", async () => {
    await repo.git.pull("origin", "main");
    await repo.git.branch(["--set-upstream-to=origin/main", "main"]);
    await repo.commit({ "bases/web/kustomization.yaml": "resources: [cm.yaml]\n", "bases/web/cm.yaml": configMapYaml("based", "from the base") });
    const created = await tetherIn(path.join(repo.work, "bases"), ["app", "create", "hello-base", "--app", "web", "-p", "default",
      "--dest-namespace", "scaffold-base", "--wait-timeout", "90s", "-n", NS], { kubeconfig: kubeconfigPath });
    expect(created.exitCode, output(created)).toBe(0);
    expect(created.stdout).toContain("created components/default/hello-base/kustomization.yaml");
    expect(created.stdout).toContain(`main in ${repo.work} is now at`);
    expect((await simpleGit(repo.work).status()).isClean()).toBe(true);
    expect((await configMapIn("scaffold-base", "based"))?.data?.MESSAGE).toBe("from the base");
  });

  it("exits 4 at --wait-timeout and prints the app's conditions when the agent cannot deploy it", async () => {
    await writeTree(scratch, { "broken/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  COUNT: [1, 2]\n" });
    const created = await run(["app", "create", "hello-broken", "--app", "./broken", "-p", "default", "--dest-namespace", "scaffold-broken", "--wait-timeout", "20s"]);
    expect(created.exitCode, output(created)).toBe(4);
    expect(created.stdout).toContain("Committed");
    expect(created.stderr).toMatch(/timed out after 20s waiting for hello-broken: .*\n\s+SyncError: /);
  });
});

describe("tether project create", () => {
  it("adds a project the agent applies, and an app in it deploys within its destinations", async () => {
    const project = await run(["project", "create", "team-a", "--dest-namespace", "scaffold-team-a-*", "--description", "Team A"]);
    expect(project.exitCode, output(project)).toBe(0);
    expect(project.stdout).toContain("created projects/team-a.yaml");
    expect((await simpleGit(bare).raw(["log", "-1", "--format=%s", "main"])).trim()).toBe("Add project team-a");

    await writeTree(scratch, { "team/cm.yaml": configMapYaml("team", "a") });
    const refused = await run(["app", "create", "team-web", "--app", "./team", "-p", "team-a"]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("project team-a does not allow namespace team-web");

    const created = await run(["app", "create", "team-web", "--app", "./team", "-p", "team-a", "--dest-namespace", "scaffold-team-a-web", "--wait-timeout", "90s"]);
    expect(created.exitCode, output(created)).toBe(0);
    expect((await reader.get("team-web")).spec.project).toBe("team-a");
    expect((await configMapIn("scaffold-team-a-web", "team"))?.data?.MESSAGE).toBe("a");
  });
});

describe("tether app delete", () => {
  it("removes the app's files and the agent deletes what it deployed, through the finalizer", async () => {
    const deleted = await run(["app", "delete", "hello-dir", "--wait-timeout", "60s"]);
    expect(deleted.exitCode, output(deleted)).toBe(0);
    expect(deleted.stdout).toContain("deleted components/default/hello-dir.yaml\ndeleted components/default/hello-dir/configmap.yaml\n");
    expect(deleted.stdout).toMatch(/hello-dir: deleted$/);
    await eventually("the ConfigMap pruned", async () => ((await configMapIn("scaffold-dir", "hello")) ? undefined : true), 30_000);
    const files = await simpleGit(bare).raw(["ls-tree", "-r", "--name-only", "main", "components/default"]);
    expect(files).not.toContain("hello-dir");
  });

  it("says so when the app is not in the repository, and changes nothing", async () => {
    const before = await snapshot(bare);
    const missing = await run(["app", "delete", "hello-dir"]);
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toContain("app hello-dir not found in components/");
    expect(await snapshot(bare)).toBe(before);
  });
});
