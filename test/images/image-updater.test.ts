// Image Updater's annotations through the real agent, with the project's registry on 127.0.0.1 and real
// Git repositories (one served over smart HTTP with a password, pushed to with the repository's Secret):
// the newest tag inside the constraint becomes a commit (Tether's author, Image Updater's message, the
// kustomization's images) and then a deployment, a later tag too, never one outside the constraint; a Helm
// app's update lands in .argocd-source-<app>.yaml; write-back-method argocd keeps the tag on the
// Application with a warning; a registry that is down, a constraint nothing matches and a push the server
// refuses are conditions on the Application, with nothing written.
import { execFileSync } from "node:child_process";
import { chmod, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application } from "../../agent/api/types.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { startGitHttpServer, type GitHttpServer } from "../support/git-servers.ts";
import { eventually, kube } from "../support/kube.ts";
import { freePort } from "../sources/chart-repos.ts";
import { pushImage, startImageRegistry, type ImageRegistry } from "./registry.ts";

const NS = "tether-e2e-images";
const PASSWORD = "pw-images-5d1e";
const { kubeconfigPath, kc, core, apps, objects } = kube();
const reader = appReader(kc, NS);
const automated = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };
const IU = "argocd-image-updater.argoproj.io";
const AUTHOR = "Tether Image Updater <noreply@tether.dev>";

let repo: TestRepo;
let http: GitHttpServer;
let registry: ImageRegistry;
let agent: AgentProcess;

const bareOf = (r: TestRepo): string => r.url.slice("file://".length);
const git = (r: TestRepo, ...args: string[]): string => execFileSync("git", ["--git-dir", bareOf(r), ...args], { encoding: "utf8" });
/** The repository's file on main, as the server holds it. */
const onMain = (file: string, r: TestRepo = repo): string => git(r, "show", `main:${file}`);
const head = (r: TestRepo = repo): string => git(r, "rev-parse", "main").trim();
/** Commits by the image updater on main, newest first: `author <email>|message`. */
const updaterCommits = (r: TestRepo = repo): string[] =>
  git(r, "log", "--format=%an <%ae>|%B%x00", "main").split("\0").map((c) => c.trim()).filter((c) => c.startsWith("Tether Image Updater"));

/** Commits on top of what the image updater pushed meanwhile. */
async function commit(files: Record<string, string>, message: string, r: TestRepo = repo): Promise<string> {
  await r.git.fetch("origin");
  await r.git.rebase(["origin/main"]);
  return await r.commit(files, message);
}

async function deployedImage(namespace: string, name: string): Promise<string | undefined> {
  const d = await apps.readNamespacedDeployment({ namespace, name }).catch(() => undefined);
  return d?.spec?.template.spec?.containers[0]?.image;
}

const deploys = (namespace: string, name: string, image: string) => async () =>
  ((await deployedImage(namespace, name)) === image ? true : undefined);

const condition = (a: Application, type: string): string | undefined => a.status?.conditions?.find((c) => c.type === type)?.message;

const deployment = (name: string, image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: main
          image: ${image}
`;

const kustomization = (image: string, tag: string) => `resources:\n  - deployment.yaml\nimages:\n  - name: ${image}\n    newTag: ${tag}\n`;

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  registry = await startImageRegistry();
  repo = await createRepo();
  await repo.commit({ "README.md": "image updates\n" }, "first");
  // The same bare repository over smart HTTP with a password: the image updater pushes with its Secret.
  http = await startGitHttpServer(path.dirname(bareOf(repo)), PASSWORD);
  const added = await cli(["repo", "add", `${http.base}/origin.git`, "--username", "robot", "--password-stdin", "--namespace", NS],
    { kubeconfig: kubeconfigPath, input: PASSWORD });
  expect(added.exitCode, added.stderr).toBe(0);
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
});

afterAll(async () => {
  await agent?.stop();
  if (process.env.TETHER_TEST_AGENT_LOG) await writeFile(process.env.TETHER_TEST_AGENT_LOG, agent?.logs() ?? "");
  await http?.close();
  await registry?.cleanup();
  await repo?.cleanup();
});

describe("image updates written back to Git", () => {
  it("commits the newest tag inside ~1.2 to the kustomization and deploys it, then a later one, never one outside", async () => {
    const image = `${registry.host}/team/web`;
    for (const tag of ["1.2.0", "1.2.1", "1.3.0", "2.0.0", "1.2.2-rc.1"]) await pushImage(registry.host, { repository: "team/web", tag });
    await commit({ "apps/web/kustomization.yaml": kustomization(image, "1.2.0"), "apps/web/deployment.yaml": deployment("web", `${image}:1.2.0`) }, "web app");
    // As in Image Updater's documents: an alias, a semver constraint, write-back-method git.
    await applyApp(objects, application("web", {
      repoURL: `${http.base}/origin.git`, path: "apps/web", destNamespace: "images-web", agentNamespace: NS, syncPolicy: automated,
      annotations: { [`${IU}/image-list`]: `web=${image}:~1.2`, [`${IU}/write-back-method`]: "git", [`${IU}/write-back-target`]: "kustomization" },
    }));

    await eventually("1.2.1 deployed", deploys("images-web", "web", `${image}:1.2.1`), 90_000);
    expect(updaterCommits()).toEqual([`${AUTHOR}|build: automatic update of web\n\nupdates image ${image} tag '1.2.0' to '1.2.1'`]);
    expect(onMain("apps/web/kustomization.yaml")).toBe(kustomization(image, "1.2.1"));
    expect(http.users).toContain("robot");

    // Outside the constraint first, so the pass that takes 1.2.5 has seen them too.
    for (const tag of ["1.3.1", "2.0.1", "1.2.5"]) await pushImage(registry.host, { repository: "team/web", tag });
    await eventually("1.2.5 deployed", deploys("images-web", "web", `${image}:1.2.5`), 90_000);
    expect(onMain("apps/web/kustomization.yaml")).toBe(kustomization(image, "1.2.5"));
    expect(updaterCommits()[0]).toBe(`${AUTHOR}|build: automatic update of web\n\nupdates image ${image} tag '1.2.1' to '1.2.5'`);
    expect(updaterCommits()).toHaveLength(2);
    const app = await reader.get("web");
    expect(condition(app, "ImageUpdateError")).toBeUndefined();
    expect(condition(app, "ImageUpdateWarning")).toBeUndefined();
  }, 150_000);

  it("writes a Helm app's new tag as parameters in .argocd-source-<app>.yaml, which the render reads", async () => {
    const image = `${registry.host}/team/api`;
    for (const tag of ["0.1.0", "0.2.0", "1.0.0"]) await pushImage(registry.host, { repository: "team/api", tag });
    await commit({
      "apps/api/Chart.yaml": "apiVersion: v2\nname: api\nversion: 0.1.0\n",
      "apps/api/values.yaml": `image:\n  name: ${image}\n  tag: 0.1.0\n`,
      "apps/api/templates/deployment.yaml": deployment("api", "{{ .Values.image.name }}:{{ .Values.image.tag }}"),
    }, "api chart");
    await applyApp(objects, application("api", {
      repoURL: repo.url, path: "apps/api", destNamespace: "images-api", agentNamespace: NS, syncPolicy: automated,
      annotations: { [`${IU}/image-list`]: `api=${image}:0.x`, [`${IU}/write-back-method`]: "git" },
    }));
    await eventually("0.2.0 deployed", deploys("images-api", "api", `${image}:0.2.0`), 90_000);
    expect(onMain("apps/api/.argocd-source-api.yaml")).toBe(
      `helm:\n  parameters:\n    - name: image.name\n      value: ${image}\n      forcestring: true\n    - name: image.tag\n      value: 0.2.0\n      forcestring: true\n`);
    expect(onMain("apps/api/values.yaml")).toContain("tag: 0.1.0");
    expect(updaterCommits()[0]).toBe(`${AUTHOR}|build: automatic update of api\n\nupdates image ${image} tag '0.1.0' to '0.2.0'`);
  }, 120_000);

  it("write-back-method argocd sets the tag on the Application only, with a warning that it is not GitOps", async () => {
    const image = `${registry.host}/team/cache`;
    for (const tag of ["1.0.0", "1.1.0", "2.0.0"]) await pushImage(registry.host, { repository: "team/cache", tag });
    await commit({ "apps/cache/kustomization.yaml": kustomization(image, "1.0.0"), "apps/cache/deployment.yaml": deployment("cache", `${image}:1.0.0`) }, "cache app");
    const before = head();
    await applyApp(objects, application("cache", {
      repoURL: repo.url, path: "apps/cache", destNamespace: "images-cache", agentNamespace: NS, syncPolicy: automated,
      annotations: { [`${IU}/image-list`]: `cache=${image}:1.x`, [`${IU}/write-back-method`]: "argocd" },
    }));
    await eventually("1.1.0 deployed", deploys("images-cache", "cache", `${image}:1.1.0`), 90_000);
    const app = await reader.until("cache", "ImageUpdateWarning", (a) => condition(a, "ImageUpdateWarning") !== undefined);
    expect(app.spec.source?.kustomize?.images).toEqual([`${image}:1.1.0`]);
    expect(condition(app, "ImageUpdateWarning")).toMatch(/only in this Application's spec, not in Git \(not GitOps\).*use write-back-method: git/);
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: "involvedObject.name=cache" });
    expect(events.items.find((e) => e.reason === "ImageUpdatedInCluster")).toMatchObject({ type: "Warning" });
    expect(head()).toBe(before);
  }, 120_000);
});

describe("what goes wrong is said on the Application, with nothing written", () => {
  it("a registry that is down: a condition naming it", async () => {
    const down = `127.0.0.1:${await freePort()}`;
    await commit({ "apps/down/kustomization.yaml": "resources:\n  - deployment.yaml\n", "apps/down/deployment.yaml": deployment("down", `${down}/team/down:1.0.0`) }, "down app");
    const before = head();
    await applyApp(objects, application("down", {
      repoURL: repo.url, path: "apps/down", destNamespace: "images-down", agentNamespace: NS, syncPolicy: automated,
      annotations: { [`${IU}/image-list`]: `${down}/team/down:~1.0`, [`${IU}/write-back-method`]: "git", [`${IU}/write-back-target`]: "kustomization" },
    }));
    const app = await reader.until("down", "ImageUpdateError", (a) => condition(a, "ImageUpdateError") !== undefined);
    expect(condition(app, "ImageUpdateError")).toContain(`image ${down}/team/down:~1.0: cannot reach the registry ${down} (ECONNREFUSED); retrying; nothing written for it`);
    expect(head()).toBe(before);
  });

  it("a constraint nothing matches: a condition naming the constraint and the highest version", async () => {
    await pushImage(registry.host, { repository: "team/old", tag: "1.0.0" });
    await commit({ "apps/old/kustomization.yaml": "resources: []\n" }, "old app");
    const before = head();
    // A constraint with '=' takes an alias, as in Image Updater (it splits the entry at the first '=').
    await applyApp(objects, application("old", {
      repoURL: repo.url, path: "apps/old", destNamespace: "images-old", agentNamespace: NS,
      annotations: { [`${IU}/image-list`]: `old=${registry.host}/team/old:>=2.0`, [`${IU}/write-back-method`]: "git" },
    }));
    const app = await reader.until("old", "ImageUpdateError", (a) => condition(a, "ImageUpdateError") !== undefined);
    expect(condition(app, "ImageUpdateError")).toBe(
      `image ${registry.host}/team/old:>=2.0 (semver) in registry ${registry.host}: no tag matches the constraint '>=2.0' (highest version: 1.0.0); nothing written for it`);
    expect(head()).toBe(before);
  });

  it("a push the Git server refuses (a pre-receive hook): a condition naming the repository, the tag not deployed", async () => {
    const guarded = await createRepo();
    try {
      const image = `${registry.host}/team/guarded`;
      for (const tag of ["1.0.0", "1.0.1"]) await pushImage(registry.host, { repository: "team/guarded", tag });
      await guarded.commit({ "app/kustomization.yaml": kustomization(image, "1.0.0"), "app/deployment.yaml": deployment("guarded", `${image}:1.0.0`) }, "guarded app");
      const hook = path.join(bareOf(guarded), "hooks", "pre-receive");
      await writeFile(hook, "#!/bin/sh\necho 'main is protected: changes go through review' >&2\nexit 1\n");
      await chmod(hook, 0o755);
      const before = head(guarded);
      await applyApp(objects, application("guarded", {
        repoURL: guarded.url, path: "app", destNamespace: "images-guarded", agentNamespace: NS, syncPolicy: automated,
        annotations: { [`${IU}/image-list`]: `guarded=${image}:~1.0`, [`${IU}/write-back-method`]: "git", [`${IU}/write-back-target`]: "kustomization" },
      }));
      const app = await reader.until("guarded", "ImageUpdateError", (a) => condition(a, "ImageUpdateError") !== undefined);
      expect(condition(app, "ImageUpdateError")).toBe(`cannot push to ${guarded.url}: pre-receive hook declined: main is protected: changes go through review; `
        + "the server refused the push: give the repository credential write access, or allow pushes to this branch");
      expect(head(guarded)).toBe(before);
      await eventually("1.0.0 deployed", deploys("images-guarded", "guarded", `${image}:1.0.0`), 60_000);
    } finally {
      await guarded.cleanup();
    }
  });
});

describe("a registry's notification", () => {
  it("starts a pass over the apps following the pushed repository at once, though the poll is 5 minutes away", async () => {
    const secret = "registry-hook-secret-3c9e";
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "tether-webhook" }, stringData: { "webhook.registry.secret": secret } } });
    await agent.stop();
    agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "300s" });
    const notifying = await startImageRegistry({
      notify: `http://127.0.0.1:${agent.port}/api/webhook`, notifyHeaders: { Authorization: [`Bearer ${secret}`] },
    });
    try {
      const image = `${notifying.host}/team/hook`;
      await pushImage(notifying.host, { repository: "team/hook", tag: "1.0.0" });
      await commit({ "apps/hook/kustomization.yaml": kustomization(image, "1.0.0"), "apps/hook/deployment.yaml": deployment("hook", `${image}:1.0.0`) }, "hook app");
      await applyApp(objects, application("hook", {
        repoURL: repo.url, path: "apps/hook", destNamespace: "images-hook", agentNamespace: NS, syncPolicy: automated,
        annotations: { [`${IU}/image-list`]: `hook=${image}:~1.0`, [`${IU}/write-back-method`]: "git", [`${IU}/write-back-target`]: "kustomization" },
      }));
      // The first sync comes from the Application's creation; the agent's pass at its start found no such app.
      await eventually("1.0.0 deployed", deploys("images-hook", "hook", `${image}:1.0.0`), 60_000);
      await pushImage(notifying.host, { repository: "team/hook", tag: "1.0.1" });
      await eventually("1.0.1 deployed", deploys("images-hook", "hook", `${image}:1.0.1`), 45_000);
      expect(onMain("apps/hook/kustomization.yaml")).toBe(kustomization(image, "1.0.1"));
    } finally {
      await notifying.cleanup();
    }
  }, 120_000);
});
