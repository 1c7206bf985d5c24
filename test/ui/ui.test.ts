// The web UI in a real browser (Debian's Chromium driven by playwright-core) against the real agent
// on the local control plane: what a platform engineer sees and clicks. Screenshots go to
// $TETHER_SCREENSHOTS_DIR when set (the README's come from there), else to a temporary directory.
import { existsSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import http from "node:http";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { pathWithTools, repoRoot } from "../harness/paths.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, synced, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-ui";
const { kubeconfigPath, kc, core, objects } = kube();
const reader = appReader(kc, NS);
const shots = process.env.TETHER_SCREENSHOTS_DIR ?? path.join(os.tmpdir(), "tether-ui-screenshots");
const CHROMIUM = "/usr/bin/chromium";
/** The flags this machine's Chromium needs: no sandbox as root, and no calls home (the network is closed). */
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];

const namespaceYaml = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;
const configMap = (ns: string, message: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ${ns}
data:
  MESSAGE: "${message}"
`;
const deployment = (ns: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  annotations: {tether.dev/sync-wave: "1"}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
`;
const service = (ns: string) => `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`;

let repo: TestRepo;
let agent: AgentProcess;
let browser: Browser;
let base: string;
let adminToken: string;
let viewerToken: string;

/** A ServiceAccount bound to a Role on Applications with `verbs`, and a token for it (TokenRequest). */
async function serviceAccountToken(name: string, verbs: string[]): Promise<string> {
  await applyApp(objects, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: NS } } as never);
  await applyApp(objects, {
    apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace: NS },
    rules: [{ apiGroups: ["tether.dev"], resources: ["applications"], verbs }],
  } as never);
  await applyApp(objects, {
    apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name, namespace: NS },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name }, subjects: [{ kind: "ServiceAccount", name, namespace: NS }],
  } as never);
  const res = await core.createNamespacedServiceAccountToken({ name, namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  return res.status?.token ?? "";
}

/** A page signed in with `token` through the login form, as a person pastes it. */
async function signedIn(token: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(`${base}/ui/`);
  await page.getByLabel("Bearer token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Applications", exact: true }).waitFor();
  // Set once; a reload would clear it, so its presence at the end proves the page updated live.
  await page.evaluate("window.loadedOnce = true");
  return page;
}

const stillSamePage = async (page: Page) => (await page.evaluate("window.loadedOnce")) === true;
const row = (page: Page, app: string) => page.locator(`tr[data-app="${app}"]`);
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });

beforeAll(async () => {
  if (!existsSync(path.join(repoRoot, "dist", "ui", "index.html"))) await execa("npm", ["run", "-s", "build:ui"], { cwd: repoRoot });
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash tools/setup.sh\` as root, or apt-get install chromium`);
  mkdirSync(shots, { recursive: true });
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  repo = await createRepo();
  await repo.commit({
    "guestbook/ns.yaml": namespaceYaml("ui-guestbook"), "guestbook/deploy.yaml": deployment("ui-guestbook"),
    "guestbook/svc.yaml": service("ui-guestbook"), "guestbook/config.yaml": configMap("ui-guestbook", "hello"),
    "manual/ns.yaml": namespaceYaml("ui-manual"), "manual/config.yaml": configMap("ui-manual", "first"),
  });
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
  base = `http://127.0.0.1:${agent.port}`;
  adminToken = await serviceAccountToken("ui-operator", ["get", "list", "watch", "update", "patch", "delete", "sync"]);
  viewerToken = await serviceAccountToken("ui-viewer", ["get", "list", "watch"]);
  await applyApp(objects, application("guestbook", {
    repoURL: repo.url, path: "guestbook", destNamespace: "ui-guestbook", agentNamespace: NS, syncPolicy: { automated: { prune: true, selfHeal: true } },
  }));
  await applyApp(objects, application("manual", { repoURL: repo.url, path: "manual", destNamespace: "ui-manual", agentNamespace: NS }));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await agent?.stop();
  await repo?.cleanup();
});

describe("the web UI served by the agent", () => {
  it("refuses the API without a token the cluster accepts", async () => {
    expect((await fetch(`${base}/api/v1/applications`)).status).toBe(401);
    const bad = await fetch(`${base}/api/v1/applications`, { headers: { authorization: "Bearer not-a-token" } });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { message: string }).message).toContain("did not accept this token");
  });

  it("signs no one in from a crafted #token= link (someone else's session), and cleans the address bar", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${base}/ui/#token=${encodeURIComponent(adminToken)}`);
    await page.getByLabel("Bearer token").waitFor();
    expect(await page.getByRole("heading", { name: "Applications", exact: true }).count()).toBe(0);
    expect(page.url()).not.toContain("token=");
    await page.close();
  });

  it("lists the applications with their sync and health, Synced and Healthy once deployed", async () => {
    await reader.until("guestbook", "Synced and Healthy", syncedAndHealthy());
    const page = await signedIn(adminToken);
    await row(page, "guestbook").getByText("Synced", { exact: true }).waitFor();
    await row(page, "guestbook").getByText("Healthy", { exact: true }).waitFor();
    expect(await row(page, "guestbook").textContent()).toContain("ui-guestbook");
    await shot(page, "app-list");
    await page.close();
  });

  it("shows the tree from the Deployment down to its ReplicaSet and Pods, the Service's Endpoints, and the sync wave", async () => {
    const page = await signedIn(adminToken);
    await page.getByRole("link", { name: "guestbook" }).click();
    const tree = page.getByRole("tree", { name: "Resource tree" });
    await tree.getByRole("link", { name: /^Pod web-/ }).first().waitFor();
    const deployment = tree.getByRole("treeitem").filter({ has: page.getByRole("link", { name: "Deployment web" }) });
    expect(await deployment.getByRole("link", { name: /^ReplicaSet web-/ }).count()).toBe(1);
    expect(await deployment.getByRole("link", { name: /^Pod web-/ }).count()).toBe(2);
    expect(await deployment.first().textContent()).toContain("wave 1");
    await tree.getByRole("link", { name: "Endpoints web" }).waitFor();
    await shot(page, "app-tree");
    await page.close();
  });

  it("shows a commit as OutOfSync and, after Sync from the button, Synced, without reloading", async () => {
    const page = await signedIn(adminToken);
    await row(page, "manual").getByText("OutOfSync", { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole("link", { name: "manual" }).click();
    await page.getByRole("button", { name: "Sync manual" }).click();
    await page.getByRole("dialog").getByText(/Applies Git at main to all \d+ objects in namespace ui-manual/).waitFor();
    await page.getByRole("button", { name: "Synchronize" }).click();
    await page.getByText("Sync: requested").waitFor();
    const first = (await repo.git.revparse(["HEAD"])).trim();
    await reader.until("manual", "Synced at the first commit", synced(first));
    await page.locator(".page-head").getByText("Synced", { exact: true }).waitFor();

    const second = await repo.commit({ "manual/config.yaml": configMap("ui-manual", "second") });
    await page.getByRole("link", { name: "Applications" }).click();
    await row(page, "manual").getByText("OutOfSync", { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole("link", { name: "manual" }).click();
    await page.getByRole("button", { name: "Sync manual" }).click();
    await page.getByRole("button", { name: "Synchronize" }).click();
    await page.locator(".page-head").getByText("Synced", { exact: true }).waitFor({ timeout: 30_000 });
    await reader.until("manual", "Synced at the second commit", synced(second));
    await page.getByRole("link", { name: "Applications" }).click();
    await row(page, "manual").getByText(second.slice(0, 7)).waitFor();
    expect(await stillSamePage(page)).toBe(true);
    await page.close();
  });

  it("shows drift in the diff view, Secret-free and from live to Git", async () => {
    await core.patchNamespacedConfigMap({ name: "settings", namespace: "ui-manual", body: { data: { MESSAGE: "edited by hand" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    await reader.until("manual", "OutOfSync after the manual edit", (a) => a.status?.sync?.status === "OutOfSync");
    const page = await signedIn(adminToken);
    await page.goto(`${base}/ui/#/apps/manual`);
    await page.getByRole("link", { name: "ConfigMap settings" }).click();
    await page.locator("pre.code").filter({ hasText: "MESSAGE: edited by hand" }).waitFor();
    await page.getByRole("tab", { name: "Diff" }).click();
    const diff = page.getByRole("region", { name: "Diff of ConfigMap/ui-manual/settings" });
    await diff.waitFor({ timeout: 30_000 });
    expect(await diff.textContent()).toContain("-  MESSAGE: edited by hand");
    expect(await diff.textContent()).toContain("+  MESSAGE: second");
    await shot(page, "diff");
    await page.close();
  });

  it("refuses Sync to a token that may only read, and says which permission is missing", async () => {
    const page = await signedIn(viewerToken);
    await row(page, "manual").waitFor();
    await page.getByRole("link", { name: "manual" }).click();
    await page.getByRole("button", { name: "Sync manual" }).click();
    await page.getByRole("button", { name: "Synchronize" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toContain(`system:serviceaccount:${NS}:ui-viewer may not sync applications.tether.dev/manual`);
    expect((await reader.get("manual")).operation).toBeUndefined();
    await shot(page, "refused");
    await page.close();
  });

  it("refuses an action without the session's CSRF token", async () => {
    const res = await fetch(`${base}/api/v1/applications/manual/refresh`, {
      method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: "{}",
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain("CSRF");
  });

  it("is usable on a phone: the list as cards with every field named", async () => {
    const page = await signedIn(adminToken, { width: 390, height: 844 });
    await row(page, "guestbook").getByText("Healthy", { exact: true }).waitFor();
    const width = Number(await page.evaluate("document.documentElement.scrollWidth"));
    expect(width).toBeLessThanOrEqual(390);
    await shot(page, "phone-list");
    await page.close();
  });

  // Enable once the agent honours operation.sync.revision (the lead's rollback work): the UI writes it
  // (agent/ui/actions.ts, unit-tested), but today's agent syncs the branch head instead.
  it("rolls back to a history entry from the button, with automated sync turned off", async () => {
    const page = await signedIn(adminToken);
    await page.goto(`${base}/ui/#/apps/manual`);
    await page.getByRole("tab", { name: "History" }).click();
    // The entry before the current one: the first commit.
    await page.getByRole("button", { name: /^Roll back to history entry/ }).and(page.locator(":enabled")).first().click();
    await page.getByRole("dialog").getByText("Objects added after that revision are kept").waitFor();
    await page.getByRole("button", { name: "Roll back", exact: true }).click();
    await eventually("the ConfigMap back at the first commit", async () => {
      const cm = await core.readNamespacedConfigMap({ name: "settings", namespace: "ui-manual" });
      return cm.data?.MESSAGE === "first" ? cm : undefined;
    }, 60_000);
    await page.close();
  });
});

describe("tether ui on localhost", () => {
  it("serves the same UI with the kubeconfig's credentials behind a per-session token", async () => {
    const child = spawn(process.execPath, [path.join(repoRoot, "dist", "tether.mjs"), "ui", "--kubeconfig", kubeconfigPath, "-n", NS, "--port", "0"],
      { env: { ...process.env, PATH: pathWithTools() }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => { output += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { output += d.toString(); });
    try {
      const url = await eventually(`tether ui to print its URL:\n${output}`, () => Promise.resolve(/Tether UI: (\S+)/.exec(output)?.[1]), 30_000);
      const origin = new URL(url).origin;
      expect((await fetch(`${origin}/api/v1/applications`, { headers: { authorization: "Bearer guessed" } })).status).toBe(401);
      // A page on another name that resolves to 127.0.0.1 (DNS rebinding) sends its own Host.
      const rebound = await new Promise<number>((resolve, reject) => {
        http.get(`${origin}/api/v1/applications`, { headers: { host: "evil.example" } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); })
          .on("error", reject);
      });
      expect(rebound).toBe(403);

      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(url);
      await row(page, "guestbook").getByText("Synced", { exact: true }).waitFor();
      expect(page.url()).not.toContain("token=");
      await page.close();
    } finally {
      child.kill("SIGTERM");
    }
  });
});
