// The web UI's ApplicationSets in a real browser (Debian's Chromium through playwright-core) against
// the real agent: a set is listed under the applications, up to date, with a link to each Application
// it generated that opens the Application's page.
import { existsSync } from "node:fs";
import { PatchStrategy } from "@kubernetes/client-node";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import type { ApplicationSet } from "../../agent/api/types.ts";
import { repoRoot } from "../harness/paths.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { applyApp, appReader, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { kube } from "../support/kube.ts";

const NS = "tether-e2e-ui-appsets";
const { kubeconfigPath, kc, core, objects } = kube();
const reader = appReader(kc, NS);
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];

let repo: TestRepo;
let agent: AgentProcess;
let browser: Browser;
let token: string;

/** A ServiceAccount that may read Applications and ApplicationSets, and a token for it. */
async function viewerToken(): Promise<string> {
  const name = "appset-viewer";
  await applyApp(objects, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: NS } } as never);
  await applyApp(objects, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace: NS },
    rules: [{ apiGroups: ["tether.dev"], resources: ["applications", "applicationsets"], verbs: ["get", "list", "watch"] }] } as never);
  await applyApp(objects, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name, namespace: NS },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name }, subjects: [{ kind: "ServiceAccount", name, namespace: NS }] } as never);
  const res = await core.createNamespacedServiceAccountToken({ name, namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  return res.status?.token ?? "";
}

beforeAll(async () => {
  if (!existsSync(`${repoRoot}/dist/ui/index.html`)) await execa("npm", ["run", "-s", "build:ui"], { cwd: repoRoot });
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  repo = await createRepo();
  await repo.commit({ "web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  k: v\n" });
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
  token = await viewerToken();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await agent?.stop();
  await repo?.cleanup();
});

describe("the web UI's ApplicationSets", () => {
  it("lists a set with a link to each Application it generated", async () => {
    const set: ApplicationSet = {
      apiVersion: "tether.dev/v1alpha1", kind: "ApplicationSet", metadata: { name: "web", namespace: NS },
      spec: {
        goTemplate: true, generators: [{ list: { elements: [{ stage: "test" }, { stage: "prod" }] } }],
        template: { metadata: { name: "web-{{.stage}}" }, spec: {
          project: "default", source: { repoURL: repo.url, targetRevision: "main", path: "web" },
          destination: { server: "https://kubernetes.default.svc", namespace: "ui-appset-{{.stage}}" },
          syncPolicy: { automated: { prune: true }, syncOptions: ["CreateNamespace=true"] } } },
      },
    };
    await objects.patch(set, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
    for (const app of ["web-test", "web-prod"]) await reader.until(app, "Synced and Healthy", syncedAndHealthy(), 90_000);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`http://127.0.0.1:${agent.port}/ui/`);
    await page.getByLabel("Bearer token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    const row = page.locator('tr[data-appset="web"]');
    await row.getByRole("link", { name: "web-prod" }).waitFor();
    await row.getByText("True", { exact: true }).waitFor({ timeout: 30_000 });
    expect(await row.getByRole("link").allTextContents()).toEqual(["web-prod", "web-test"]);
    await row.getByRole("link", { name: "web-test" }).click();
    await page.getByRole("heading", { name: "web-test" }).waitFor();
    expect(page.url()).toContain("#/apps/web-test");
    await page.close();
  });
});
