// Image Updater's annotations through the real agent, with the project's registry on 127.0.0.1 and a Git
// repository: the newest tag inside the constraint becomes a commit and then a deployment, a later tag
// too, never one outside the constraint; a Helm app's update lands in .argocd-source-<app>.yaml; a
// registry that is down is a condition on the Application and writes nothing.
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";
import { freePort } from "../sources/chart-repos.ts";
import { pushImage, startImageRegistry, type ImageRegistry } from "./registry.ts";

const NS = "tether-e2e-images";
const { kubeconfigPath, kc, apps, objects } = kube();
const reader = appReader(kc, NS);
const automated = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };
const IU = "argocd-image-updater.argoproj.io";

let repo: TestRepo;
let registry: ImageRegistry;
let agent: AgentProcess;

/** The repository's file on main, as the server holds it. */
function onMain(path: string): string {
  return execFileSync("git", ["--git-dir", repo.url.slice("file://".length), "show", `main:${path}`], { encoding: "utf8" });
}

/** Commits on top of what the image updater pushed meanwhile. */
async function commit(files: Record<string, string>, message: string): Promise<string> {
  await repo.git.fetch("origin");
  await repo.git.rebase(["origin/main"]);
  return await repo.commit(files, message);
}

function mainLog(): string[] {
  return execFileSync("git", ["--git-dir", repo.url.slice("file://".length), "log", "--format=%an|%s", "main"], { encoding: "utf8" }).trim().split("\n");
}

async function deployedImage(namespace: string, name: string): Promise<string | undefined> {
  const d = await apps.readNamespacedDeployment({ namespace, name }).catch(() => undefined);
  return d?.spec?.template.spec?.containers[0]?.image;
}

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

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  registry = await startImageRegistry();
  repo = await createRepo();
  await repo.commit({ "README.md": "image updates\n" }, "first");
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
});

afterAll(async () => {
  await agent?.stop();
  if (process.env.TETHER_TEST_AGENT_LOG) await writeFile(process.env.TETHER_TEST_AGENT_LOG, agent?.logs() ?? "");
  await registry?.cleanup();
  await repo?.cleanup();
});

describe("image updates written back to Git", () => {
  it("commits the newest tag inside the constraint to the kustomization, deploys it, then a later one, never one outside", async () => {
    const image = `${registry.host}/team/web`;
    for (const tag of ["1.0.0", "1.1.0", "2.0.0", "1.2.0-rc.1"]) await pushImage(registry.host, { repository: "team/web", tag });
    await commit({
      "apps/web/kustomization.yaml": `resources:\n  - deployment.yaml\nimages:\n  - name: ${image}\n    newTag: 1.0.0\n`,
      "apps/web/deployment.yaml": deployment("web", `${image}:1.0.0`),
    }, "web app");
    await applyApp(objects, application("web", {
      repoURL: repo.url, path: "apps/web", destNamespace: "images-web", agentNamespace: NS, syncPolicy: automated,
      annotations: { [`${IU}/image-list`]: `web=${image}:^1.0`, [`${IU}/write-back-method`]: "git", [`${IU}/write-back-target`]: "kustomization" },
    }));

    await eventually("1.1.0 committed", () => Promise.resolve(onMain("apps/web/kustomization.yaml").includes("newTag: 1.1.0") ? true : undefined), 90_000);
    expect(mainLog()[0]).toBe("Tether Image Updater|build: automatic update of web");
    await eventually("1.1.0 deployed", async () => ((await deployedImage("images-web", "web")) === `${image}:1.1.0` ? true : undefined), 90_000);

    await pushImage(registry.host, { repository: "team/web", tag: "1.2.0" });
    await pushImage(registry.host, { repository: "team/web", tag: "3.0.0" });
    await eventually("1.2.0 deployed", async () => ((await deployedImage("images-web", "web")) === `${image}:1.2.0` ? true : undefined), 90_000);
    const kustomization = onMain("apps/web/kustomization.yaml");
    expect(kustomization).toContain("newTag: 1.2.0");
    expect(kustomization).not.toMatch(/newTag: [23]\.|-rc\./);
    expect(mainLog().filter((l) => l.startsWith("Tether Image Updater")).length).toBe(2);
  }, 300_000);

  it("writes a Helm app's new tag as parameters in .argocd-source-<app>.yaml, which the render reads", async () => {
    const image = `${registry.host}/team/api`;
    for (const tag of ["0.1.0", "0.2.0"]) await pushImage(registry.host, { repository: "team/api", tag });
    await commit({
      "apps/api/Chart.yaml": "apiVersion: v2\nname: api\nversion: 0.1.0\n",
      "apps/api/values.yaml": `image:\n  name: ${image}\n  tag: 0.1.0\n`,
      "apps/api/templates/deployment.yaml": deployment("api", "{{ .Values.image.name }}:{{ .Values.image.tag }}"),
    }, "api chart");
    await applyApp(objects, application("api", {
      repoURL: repo.url, path: "apps/api", destNamespace: "images-api", agentNamespace: NS, syncPolicy: automated,
      annotations: { [`${IU}/image-list`]: `api=${image}:0.x`, [`${IU}/write-back-method`]: "git" },
    }));
    await eventually("0.2.0 deployed", async () => ((await deployedImage("images-api", "api")) === `${image}:0.2.0` ? true : undefined), 90_000);
    expect(onMain("apps/api/.argocd-source-api.yaml")).toBe(
      `helm:\n  parameters:\n    - name: image.name\n      value: ${image}\n      forcestring: true\n    - name: image.tag\n      value: 0.2.0\n      forcestring: true\n`);
    expect(onMain("apps/api/values.yaml")).toContain("tag: 0.1.0");
  }, 200_000);
});

describe("what goes wrong is said on the Application", () => {
  it("a registry that is down: a condition naming it, nothing written", async () => {
    const down = `127.0.0.1:${await freePort()}`;
    await commit({
      "apps/down/kustomization.yaml": `resources:\n  - deployment.yaml\n`,
      "apps/down/deployment.yaml": deployment("down", `${down}/team/down:1.0.0`),
    }, "down app");
    const head = execFileSync("git", ["--git-dir", repo.url.slice("file://".length), "rev-parse", "main"], { encoding: "utf8" }).trim();
    await applyApp(objects, application("down", {
      repoURL: repo.url, path: "apps/down", destNamespace: "images-down", agentNamespace: NS, syncPolicy: automated,
      annotations: { [`${IU}/image-list`]: `${down}/team/down:~1.0`, [`${IU}/write-back-method`]: "git", [`${IU}/write-back-target`]: "kustomization" },
    }));
    const app = await reader.until("down", "ImageUpdateError", (a) => (a.status?.conditions ?? []).some((c) => c.type === "ImageUpdateError"), 60_000);
    const message = app.status?.conditions?.find((c) => c.type === "ImageUpdateError")?.message ?? "";
    expect(message).toContain(`image ${down}/team/down:~1.0: cannot reach the registry ${down} (ECONNREFUSED); retrying; nothing written for it`);
    expect(execFileSync("git", ["--git-dir", repo.url.slice("file://".length), "rev-parse", "main"], { encoding: "utf8" }).trim()).toBe(head);
  });

  it("a constraint nothing matches: a condition naming the constraint and the highest version", async () => {
    await pushImage(registry.host, { repository: "team/old", tag: "1.0.0" });
    await commit({ "apps/old/kustomization.yaml": "resources: []\n" }, "old app");
    await applyApp(objects, application("old", {
      repoURL: repo.url, path: "apps/old", destNamespace: "images-old", agentNamespace: NS,
      annotations: { [`${IU}/image-list`]: `old=${registry.host}/team/old:>=2.0`, [`${IU}/write-back-method`]: "git" },
    }));
    const app = await reader.until("old", "ImageUpdateError", (a) => (a.status?.conditions ?? []).some((c) => c.type === "ImageUpdateError"), 60_000);
    expect(app.status?.conditions?.find((c) => c.type === "ImageUpdateError")?.message).toBe(
      `image ${registry.host}/team/old:>=2.0 (semver) in registry ${registry.host}: no tag matches the constraint '>=2.0' (highest version: 1.0.0); nothing written for it`);
  });
});
