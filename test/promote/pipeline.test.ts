// Kargo's quickstart pipeline on the local control plane: the documents' Warehouse and test → uat → prod
// stages, written in Kargo's spelling (kargo.akuity.io) in a Git repository and deployed by an Application,
// a real registry on 127.0.0.1 with real image tags, a real git repository the promotions commit to, and
// the agent. Freight moves stage to stage, each stage taking only what the one before verified; the
// pipeline page shows it in Chromium and its Promote button promotes.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import type { Freight, Promotion, Stage, Warehouse } from "../../agent/api/promotion.ts";
import { repoRoot } from "../harness/paths.ts";
import { pushImage, startImageRegistry, type ImageRegistry } from "../images/registry.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-promote";
const PROJECT = "kargo-demo";
const { kubeconfigPath, kc, apps, core, objects } = kube();
const custom = kc.makeApiClient(CustomObjectsApi);
const reader = appReader(kc, NS);
const CHROMIUM = "/usr/bin/chromium";
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

let registry: ImageRegistry;
let gitops: TestRepo;
let agent: AgentProcess;
let image: string;

const list = async <T>(plural: string) =>
  (await custom.listNamespacedCustomObject({ group: "tether.dev", version: "v1alpha1", namespace: PROJECT, plural }) as { items: T[] }).items;
const stage = async (name: string) =>
  await custom.getNamespacedCustomObject({ group: "tether.dev", version: "v1alpha1", namespace: PROJECT, plural: "stages", name }) as Stage;
const freightByAlias = async (alias: string) => (await list<Freight>("freights")).find((f) => f.alias === alias);

async function stageUntil(name: string, what: string, check: (s: Stage) => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<Stage> {
  let last: Stage | undefined;
  try {
    return await eventually(`Stage ${name}: ${what}`, async () => {
      last = await stage(name);
      return await check(last) ? last : undefined;
    }, timeoutMs);
  } catch (err) {
    const app = await reader.get(`${PROJECT}-${name}`).catch(() => undefined);
    throw new Error(`${(err as Error).message}\nlast status: ${JSON.stringify(last?.status, null, 1)}\napp: ${JSON.stringify(app?.status?.conditions)} ${JSON.stringify(app?.status?.operationState?.message)}\nagent log:\n${agent.logs().split("\n").filter((l) => l.includes("promotion")).slice(-20).join("\n")}`);
  }
}

const verifiedWith = (alias: string) => async (s: Stage) => s.status?.currentFreight?.verifiedAt !== undefined
  && s.status.currentFreight.name === (await freightByAlias(alias))?.metadata?.name;

/** The image tag the stage's branch holds in its kustomization. */
async function branchTag(stageName: string): Promise<string> {
  await gitops.git.fetch("origin");
  const text = await gitops.git.show([`origin/stage/${stageName}:stages/${stageName}/kustomization.yaml`]);
  return /newTag:\s*"?([^"\s]+)/.exec(text)?.[1] ?? "(none)";
}

async function deployedImage(stageName: string): Promise<string> {
  const d = await apps.readNamespacedDeployment({ name: "web", namespace: `${PROJECT}-${stageName}` });
  return d.spec?.template.spec?.containers[0]?.image ?? "";
}

const deployment = (img: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: ${img}:1.0.0
`;

beforeAll(async () => {
  if (!existsSync(`${repoRoot}/dist/ui/index.html`)) await execa("npm", ["run", "-s", "build:ui"], { cwd: repoRoot });
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  registry = await startImageRegistry();
  image = `${registry.host}/nginx`;
  for (const tag of ["1.23.4", "1.24.0", "1.25.3", "2.0.0"]) await pushImage(registry.host, { repository: "nginx", tag });
  gitops = await createRepo();
  const stages = ["test", "uat", "prod"];
  const files: Record<string, string> = { "base/deployment.yaml": deployment(image), "base/kustomization.yaml": "resources:\n- deployment.yaml\n" };
  for (const s of stages) files[`stages/${s}/kustomization.yaml`] = "resources:\n- ../../base\n";
  const pipeline = readFileSync(`${repoRoot}/agent/promote/testdata/kargo-demo.yaml`, "utf8")
    .replaceAll("${GITOPS_REPO_URL}", gitops.url).replaceAll("${IMAGE}", image);
  files["kargo/pipeline.yaml"] = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${PROJECT}\n---\n${pipeline}`;
  await gitops.commit(files, "the stages and the Kargo pipeline");
  for (const s of stages) await gitops.git.push("origin", `main:stage/${s}`);
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "2s" });
  for (const s of stages) {
    await applyApp(objects, application(`${PROJECT}-${s}`, {
      repoURL: gitops.url, path: `stages/${s}`, targetRevision: `stage/${s}`, destNamespace: `${PROJECT}-${s}`, agentNamespace: NS,
      syncPolicy: { syncOptions: ["CreateNamespace=true"] },
    }));
  }
  // The pipeline itself comes from Git in Kargo's spelling, deployed like any other app.
  await applyApp(objects, application("kargo-pipeline", {
    repoURL: gitops.url, path: "kargo", destNamespace: PROJECT, agentNamespace: NS, syncPolicy: { automated: { prune: true } },
  }));
  await reader.until("kargo-pipeline", "Synced and Healthy", syncedAndHealthy(), 90_000);
});

afterAll(async () => {
  await agent?.stop();
  writeFileSync(path.join(os.tmpdir(), `${NS}-agent.log`), agent?.logs() ?? "");
  await registry?.cleanup();
  await gitops?.cleanup();
});

describe("promotion through test → uat → prod (Kargo's quickstart)", () => {
  it("adopts the Kargo manifests from Git as Tether's Warehouse and Stages", async () => {
    expect((await list<Stage>("stages")).map((s) => s.metadata?.name).sort()).toEqual(["prod", "test", "uat"]);
    expect((await list<Warehouse>("warehouses")).map((w) => w.spec.subscriptions[0]?.image?.semverConstraint)).toEqual(["^1.24.0"]);
  });

  it("makes Freight of the newest tag inside the constraint, named by its content", async () => {
    const freight = await eventually("Freight 1.25.3", () => freightByAlias("1.25.3"));
    expect(freight.metadata?.name).toMatch(/^[0-9a-f]{40}$/);
    expect(freight.images).toEqual([{ repoURL: image, tag: "1.25.3", digest: expect.stringMatching(/^sha256:/) as unknown }]);
    expect(await freightByAlias("2.0.0")).toBeUndefined();
    // Immutable: the API server refuses a change to its artifacts.
    const changed = custom.patchNamespacedCustomObject({
      group: "tether.dev", version: "v1alpha1", namespace: PROJECT, plural: "freights", name: freight.metadata?.name ?? "",
      body: { images: [{ repoURL: image, tag: "2.0.0" }] },
    }, mergePatch).catch((err: unknown) => err);
    expect(String(await changed)).toContain("Freight is immutable");
  });

  it("auto-promotes it to test (the Project allows it), deploys it, and verifies it there", async () => {
    await stageUntil("test", "1.25.3 verified", (s) => s.status?.currentFreight?.verifiedAt !== undefined && s.status.currentFreight.images?.[0]?.tag === "1.25.3");
    expect(await branchTag("test")).toBe("1.25.3");
    expect(await deployedImage("test")).toBe(`${image}:1.25.3`);
    expect(Object.keys((await freightByAlias("1.25.3"))?.status?.verifiedIn ?? {})).toEqual(["test"]);
    expect(await branchTag("uat")).toBe("(none)");
  });

  it("refuses Freight for prod that uat has not verified, writing nothing", async () => {
    const refused = await cli(["promote", PROJECT, "prod", "--freight", "1.25.3"], { kubeconfig: kubeconfigPath });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("is not verified in upstream Stage uat (it is verified in test only)");
    // The same request as a Promotion object: the agent refuses it and names why.
    const freight = await freightByAlias("1.25.3");
    const promotion: Promotion = {
      apiVersion: "tether.dev/v1alpha1", kind: "Promotion", metadata: { name: "prod-too-early", namespace: PROJECT },
      spec: { stage: "prod", freight: freight?.metadata?.name ?? "" },
    };
    await objects.patch(promotion, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
    const failed = await eventually("Promotion prod-too-early failed", async () => {
      const p = await custom.getNamespacedCustomObject({ group: "tether.dev", version: "v1alpha1", namespace: PROJECT, plural: "promotions", name: "prod-too-early" }) as Promotion;
      return p.status?.phase === "Failed" ? p : undefined;
    });
    expect(failed.status?.message).toContain("is not verified in upstream Stage uat");
    expect(await branchTag("prod")).toBe("(none)");
    expect((await stage("prod")).status?.currentFreight).toBeUndefined();
  });

  it("tether promote takes verified Freight to uat, then prod", async () => {
    for (const s of ["uat", "prod"]) {
      const promoted = await cli(["promote", PROJECT, s, "--timeout", "90s"], { kubeconfig: kubeconfigPath });
      expect(promoted.exitCode, promoted.stderr + promoted.stdout).toBe(0);
      expect(promoted.stdout).toContain("Succeeded");
      await stageUntil(s, "1.25.3 verified", verifiedWith("1.25.3"));
      expect(await branchTag(s)).toBe("1.25.3");
      expect(await deployedImage(s)).toBe(`${image}:1.25.3`);
    }
    expect(Object.keys((await freightByAlias("1.25.3"))?.status?.verifiedIn ?? {}).sort()).toEqual(["prod", "test", "uat"]);
  });

  it("a new tag reaches test on its own and waits there for a promotion to uat", async () => {
    await pushImage(registry.host, { repository: "nginx", tag: "1.26.0" });
    await custom.patchNamespacedCustomObject({
      group: "tether.dev", version: "v1alpha1", namespace: PROJECT, plural: "warehouses", name: PROJECT, body: { spec: { interval: "2s" } },
    }, mergePatch);
    await stageUntil("test", "1.26.0 verified", verifiedWith("1.26.0"));
    const status = await cli(["promote", "status", PROJECT], { kubeconfig: kubeconfigPath });
    expect(status.exitCode, status.stderr).toBe(0);
    const rows = status.stdout.split("\n");
    expect(rows[0]).toMatch(/^STAGE\s+FROM\s+PROMOTION\s+FREIGHT\s+VERIFIED/);
    expect(rows[1]).toMatch(/^test\s+warehouse kargo-demo\s+auto\s+1\.26\.0 \([0-9a-f]{7}\)\s+yes\s+Healthy\s+Steady\s+1\.25\.3/);
    expect(rows[2]).toMatch(/^uat\s+after test\s+manual\s+1\.25\.3 \([0-9a-f]{7}\)\s+yes\s+Healthy\s+Steady\s+1\.26\.0/);
    expect(rows[3]).toMatch(/^prod\s+after uat\s+manual\s+1\.25\.3 \([0-9a-f]{7}\)\s+yes\s+Healthy\s+Steady\s+-/);
    const json = JSON.parse((await cli(["promote", "status", PROJECT, "-o", "json"], { kubeconfig: kubeconfigPath })).stdout) as { stages: { name: string; history: unknown[] }[] };
    expect(json.stages.map((s) => [s.name, s.history.length])).toEqual([["test", 2], ["uat", 1], ["prod", 1]]);
  });
});

describe("the pipeline page", () => {
  let browser: Browser;
  afterAll(async () => { await browser?.close(); });

  it("shows the stages left to right with their Freight, and its Promote button promotes", async () => {
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: "promoter" } } });
    await applyApp(objects, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "tether-e2e-promoter" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" }, subjects: [{ kind: "ServiceAccount", name: "promoter", namespace: NS }] } as never);
    const token = (await core.createNamespacedServiceAccountToken({ name: "promoter", namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } })).status?.token ?? "";
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`http://127.0.0.1:${agent.port}/ui/#/pipelines/${PROJECT}`);
    await page.getByLabel("Bearer token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.goto(`http://127.0.0.1:${agent.port}/ui/#/pipelines/${PROJECT}`);
    const stages = page.getByRole("list", { name: "Stages" }).getByRole("listitem").filter({ has: page.getByRole("heading") });
    await page.getByRole("heading", { name: "Pipeline kargo-demo" }).waitFor();
    await page.locator('[data-stage="test"] [data-testid="current-freight"]').getByText("1.26.0").waitFor({ timeout: 15_000 });
    expect(await page.locator("li.stage h2").allTextContents()).toEqual(["test", "uat", "prod"]);
    expect(await page.locator('[data-testid="current-freight"]').allTextContents()).toEqual(["1.26.0", "1.25.3", "1.25.3"]);
    expect(await stages.count()).toBe(3);
    // prod may take nothing new (uat has verified nothing newer); uat may take 1.26.0.
    expect(await page.getByRole("button", { name: "Promote 1.26.0 to prod" }).count()).toBe(0);
    await page.screenshot({ path: `${repoRoot}/docs/screenshots/pipeline.png` });
    await page.getByRole("button", { name: "Promote 1.26.0 to uat" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Promote" }).click();
    await page.getByRole("status").getByText(/Promotion uat\..* requested/).waitFor();
    await stageUntil("uat", "1.26.0 verified", verifiedWith("1.26.0"));
    await page.locator('[data-stage="uat"] [data-testid="current-freight"]').getByText("1.26.0").waitFor({ timeout: 15_000 });
    expect(await branchTag("uat")).toBe("1.26.0");
    expect(await branchTag("prod")).toBe("1.25.3");
  });

  it("refuses the Promote button to a user who may read the pipeline but not promote", async () => {
    const name = "pipeline-viewer";
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name } } });
    const rbac = "rbac.authorization.k8s.io";
    await applyApp(objects, { apiVersion: `${rbac}/v1`, kind: "Role", metadata: { name, namespace: PROJECT },
      rules: [{ apiGroups: ["tether.dev"], resources: ["stages", "freights", "promotions"], verbs: ["get", "list"] }] } as never);
    await applyApp(objects, { apiVersion: `${rbac}/v1`, kind: "RoleBinding", metadata: { name, namespace: PROJECT },
      roleRef: { apiGroup: rbac, kind: "Role", name }, subjects: [{ kind: "ServiceAccount", name, namespace: NS }] } as never);
    const token = (await core.createNamespacedServiceAccountToken({ name, namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } })).status?.token ?? "";
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`http://127.0.0.1:${agent.port}/ui/`);
    await page.getByLabel("Bearer token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.goto(`http://127.0.0.1:${agent.port}/ui/#/pipelines/${PROJECT}`);
    await page.getByRole("button", { name: "Promote 1.26.0 to prod" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Promote" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Not allowed: .*promote.*stages/);
    expect(await branchTag("prod")).toBe("1.25.3");
    expect((await list<Promotion>("promotions")).filter((p) => p.spec.stage === "prod" && p.status?.phase === "Succeeded")).toHaveLength(1);
  });
});

describe("a promotion that cannot write its branch", () => {
  it("fails naming the repository and branch, keeps the stage's Freight and syncs nothing", async () => {
    const hotfix: Stage = {
      apiVersion: "tether.dev/v1alpha1", kind: "Stage", metadata: { name: "hotfix", namespace: PROJECT },
      spec: {
        subscriptions: { warehouse: PROJECT },
        promotionMechanisms: {
          gitRepoUpdates: [{ repoURL: "file:///nonexistent/gitops.git", writeBranch: "stage/hotfix", kustomize: { images: [{ image, path: "stages/test" }] } }],
          argoCDAppUpdates: [{ appName: `${PROJECT}-test`, appNamespace: "argocd" }],
        },
      },
    };
    await objects.patch(hotfix, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
    const before = (await reader.get(`${PROJECT}-test`)).status?.operationState?.startedAt;
    const failed = await cli(["promote", PROJECT, "hotfix", "--freight", "1.26.0", "--timeout", "60s"], { kubeconfig: kubeconfigPath });
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toMatch(/Failed: writing branch stage\/hotfix of file:\/\/\/nonexistent\/gitops\.git failed: /);
    const s = await stage("hotfix");
    expect(s.status?.currentFreight).toBeUndefined();
    expect(s.status?.conditions?.find((c) => c.type === "Promoted")).toMatchObject({ status: "False", reason: "PromotionFailed" });
    expect(s.status?.conditions?.find((c) => c.type === "Promoted")?.message).toContain("stage/hotfix of file:///nonexistent/gitops.git");
    expect((await reader.get(`${PROJECT}-test`)).status?.operationState?.startedAt).toBe(before);
  });
});
