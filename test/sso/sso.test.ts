// Single sign-on and Argo CD's RBAC against the real agent on the local control plane: a real OpenID
// provider (oidc-provider) on 127.0.0.1, a person logging in through Chromium, the group mapping of an
// `argocd-rbac-cm`-style policy carried over unchanged, and project role tokens for CI.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathWithTools, repoRoot } from "../harness/paths.ts";
import { startOidcProvider, type RunningProvider } from "../harness/oidc.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-sso";
const { kubeconfigPath, objects, core } = kube();
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

// Argo CD's documented rbac-cm, with its project names: carried over as it is.
const RBAC_CM = {
  "policy.csv": [
    "p, my-org:team-alpha, applications, sync, team-a/*, allow",
    "p, my-org:team-alpha, applications, get, team-a/*, allow",
    "g, my-org:team-beta, role:admin",
  ].join("\n"),
  "policy.default": "",
  scopes: "[groups, email]",
};

let repo: TestRepo;
let agent: AgentProcess;
let provider: RunningProvider;
let browser: Browser;
let base: string;

const configMap = (name: string, data: Record<string, string>) =>
  applyApp(objects, { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: NS }, data } as never);

const project = (name: string, roles: unknown[] = []) => applyApp(objects, {
  apiVersion: "tether.dev/v1alpha1", kind: "AppProject", metadata: { name, namespace: NS },
  spec: { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "*" }], roles },
} as never);

const api = (token: string, method: string, p: string) => fetch(`${base}/api/v1/${p}`, { method, headers: { authorization: `Bearer ${token}` } });

/** A POST as the UI makes it: the session's CSRF token first. */
async function post(token: string, p: string): Promise<number> {
  const session = await api(token, "GET", "session");
  if (session.status !== 200) return session.status;
  const { csrf } = (await session.json()) as { csrf: string };
  const res = await fetch(`${base}/api/v1/${p}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "x-tether-csrf": csrf, "content-type": "application/json" }, body: "{}" });
  return res.status;
}

const names = async (token: string) => ((await (await api(token, "GET", "applications")).json()) as { items: { name: string }[] }).items.map((a) => a.name).sort();

beforeAll(async () => {
  if (!existsSync(path.join(repoRoot, "dist", "ui", "index.html"))) await execa("npm", ["run", "-s", "build:ui"], { cwd: repoRoot });
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  repo = await createRepo();
  await repo.commit({ "web/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n" });
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
  base = `http://127.0.0.1:${agent.port}`;
  provider = await startOidcProvider({
    clients: [{ client_id: "tether", client_secret: "s3cret", redirect_uris: [`${base}/auth/callback`] }],
    accounts: { alice: { email: "alice@example.org", groups: ["my-org:team-alpha"] }, bob: { groups: ["my-org:team-beta"] } },
  });
  await applyApp(objects, { apiVersion: "v1", kind: "Secret", metadata: { name: "tether-secret", namespace: NS }, stringData: { "oidc.clientSecret": "s3cret" } } as never);
  await configMap("tether-cm", {
    url: base,
    "oidc.config": `name: Example IdP\nissuer: ${provider.issuer}\nclientID: tether\nclientSecret: $oidc.clientSecret\nrequestedScopes: [openid, profile, email, groups]\n`,
  });
  await configMap("tether-rbac-cm", RBAC_CM);
  await project("team-a", [{ name: "ci", policies: ["p, proj:team-a:ci, applications, sync, team-a/*, allow", "p, proj:team-a:ci, applications, get, team-a/*, allow"] }]);
  await project("team-b");
  for (const [name, proj] of [["a-web", "team-a"], ["a-api", "team-a"], ["b-web", "team-b"]] as const) {
    await applyApp(objects, application(name, { repoURL: repo.url, path: "web", destNamespace: `sso-${name}`, agentNamespace: NS, project: proj }));
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash tools/setup.sh\` as root`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await agent?.stop();
  await provider?.close();
  await repo?.cleanup();
});

/** Logs `login` in through the UI's "Log in via" button and the provider's pages; returns the tab's session token. */
async function logIn(login: string): Promise<{ token: string; visible: string[] }> {
  const page = await browser.newPage();
  await page.goto(`${base}/ui/`);
  await page.getByRole("button", { name: "Log in via Example IdP" }).click();
  await page.locator("input[name=login]").fill(login);
  await page.locator("input[name=password]").fill("any");
  await page.locator("button[type=submit]").click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Applications", exact: true }).waitFor();
  await page.locator("tr[data-app]").first().waitFor();
  const visible: string[] = [];
  for (const row of await page.locator("tr[data-app]").all()) visible.push((await row.getAttribute("data-app")) ?? "");
  visible.sort();
  const token = String(await page.evaluate("sessionStorage.getItem('tether.token')"));
  expect(page.url()).not.toContain("token=");
  await page.close();
  return { token, visible };
}

describe("single sign-on with Argo CD's RBAC", () => {
  it("a user logs in through the provider and sees only the apps policy.csv gives their group", async () => {
    const alice = await logIn("alice");
    expect(alice.visible).toEqual(["a-api", "a-web"]);
    expect(await names(alice.token)).toEqual(["a-api", "a-web"]);
    expect(await post(alice.token, "applications/a-web/sync")).toBe(202);
    // Audited: an Event on the Application names who asked, and how they signed in.
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: "involvedObject.name=a-web,reason=ActionByUser" });
    expect(events.items.map((e) => e.message)).toContain("alice (SSO) requested sync through the API");
    // Outside team-a: refused as Argo CD refuses, and a hidden app answers like a missing one.
    expect(await post(alice.token, "applications/b-web/sync")).toBe(403);
    expect((await api(alice.token, "GET", "applications/b-web")).status).toBe(403);
    expect((await api(alice.token, "GET", "applications/no-such-app")).status).toBe(403);
    // The group gives sync and get, not delete.
    const del = await fetch(`${base}/api/v1/applications/a-web`, { method: "DELETE", headers: { authorization: `Bearer ${alice.token}`, "x-tether-csrf": "x" } });
    expect(del.status).toBe(403);
  });

  it("a group mapped to role:admin sees and syncs everything", async () => {
    const bob = await logIn("bob");
    expect(bob.visible).toEqual(["a-api", "a-web", "b-web"]);
    expect(await post(bob.token, "applications/b-web/sync")).toBe(202);
  });

  it("a logged-out session is refused", async () => {
    const { token } = await logIn("alice");
    expect((await fetch(`${base}/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await api(token, "GET", "applications")).status).toBe(401);
  });
});

describe("tether login --sso: the CLI without a kubeconfig", () => {
  /** The CLI with its own config file and no kubeconfig at all: only the login can reach the apps. */
  const asUser = (config: string, args: readonly string[]) => execa(process.execPath, [path.join(repoRoot, "dist", "tether.mjs"), ...args],
    { reject: false, env: { TETHER_CONFIG: config, PATH: pathWithTools(), KUBECONFIG: "/nonexistent/kubeconfig" } });

  it("logs in through the browser, keeps the session 0600, and every app command uses it within the policy", async () => {
    const config = path.join(await mkdtemp(path.join(os.tmpdir(), "tether-login-")), "config");
    const login = asUser(config, ["login", base, "--sso"]);
    let stderr = "";
    login.stderr?.on("data", (d: Buffer) => { stderr += d.toString(); });
    const url = await eventually("the login URL printed", () => Promise.resolve(/(http:\/\/\S+\/auth\/login\?\S+)/.exec(stderr)?.[1]), 15_000);
    const page = await browser.newPage();
    await page.goto(url);
    await page.locator("input[name=login]").fill("alice");
    await page.locator("input[name=password]").fill("any");
    await page.locator("button[type=submit]").click();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByText("Logged in. You can close this tab").waitFor();
    // The session went to the CLI's loopback listener as a one-time code, never into the browser.
    expect(page.url()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth\/callback\?code=/);
    expect(page.url()).not.toContain("eyJ");
    await page.close();
    const done = await login;
    expect(done.exitCode, `${done.stderr}`).toBe(0);
    expect(done.stdout).toContain(`Logged in to ${base} as alice`);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    const token = /auth-token: (\S+)/.exec(await readFile(config, "utf8"))?.[1] ?? "";

    const list = await asUser(config, ["app", "list", "-o", "name"]);
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout.split("\n").filter(Boolean).sort()).toEqual(["a-api", "a-web"]);
    const get = await asUser(config, ["app", "get", "a-web", "-o", "json"]);
    expect(get.exitCode, get.stderr).toBe(0);
    expect((JSON.parse(get.stdout) as { spec: { project: string } }).spec.project).toBe("team-a");
    await core.createNamespace({ body: { metadata: { name: "sso-a-web" } } }).catch(() => undefined);
    const sync = await asUser(config, ["app", "sync", "a-web", "--timeout", "90s"]);
    expect(sync.exitCode, sync.stderr).toBe(0);
    expect(sync.stdout).toContain("a-web: Succeeded");
    const refused = await asUser(config, ["app", "sync", "b-web"]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("permission denied: applications, get, team-b/b-web, sub: alice");
    const suspend = await asUser(config, ["app", "suspend", "a-web"]);
    expect(suspend.exitCode).toBe(2);
    expect(suspend.stderr).toContain("needs a kubeconfig");

    const out = await asUser(config, ["logout"]);
    expect(out.exitCode, out.stderr).toBe(0);
    expect(await readFile(config, "utf8")).not.toContain(token);
    expect((await api(token, "GET", "applications")).status).toBe(401);
  });

  it("a project token is taken without the browser's CSRF token; an SSO browser session is not", async () => {
    const r = await cli(["proj", "role", "create-token", "team-a", "ci", "--namespace", NS, "--id", "no-csrf", "-t"], { kubeconfig: kubeconfigPath });
    expect(r.exitCode, r.stderr).toBe(0);
    const bare = (token: string) => fetch(`${base}/api/v1/applications/a-api/refresh`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    expect((await bare(r.stdout.trim())).status).toBe(202);
    const { token } = await logIn("alice");
    expect((await bare(token)).status).toBe(403);
  });
});

describe("project role tokens for CI", () => {
  const createToken = async (...extra: string[]) => {
    const r = await cli(["proj", "role", "create-token", "team-a", "ci", "--namespace", NS, "-t", ...extra], { kubeconfig: kubeconfigPath });
    expect(r.exitCode, r.stderr).toBe(0);
    return r.stdout.trim();
  };

  it("syncs its project's apps and nothing else, and is refused after delete-token", async () => {
    const token = await createToken("--id", "ci-1");
    expect(await names(token)).toEqual(["a-api", "a-web"]);
    expect(await post(token, "applications/a-api/sync")).toBe(202);
    expect(await post(token, "applications/b-web/sync")).toBe(403);
    const list = await cli(["proj", "role", "list-tokens", "team-a", "ci", "--namespace", NS], { kubeconfig: kubeconfigPath });
    expect(list.stdout).toContain("ci-1");
    const del = await cli(["proj", "role", "delete-token", "team-a", "ci", "ci-1", "--namespace", NS], { kubeconfig: kubeconfigPath });
    expect(del.exitCode, del.stderr).toBe(0);
    const after = await api(token, "GET", "applications");
    expect(after.status).toBe(401);
    expect(((await after.json()) as { message: string }).message).toContain("was deleted from role ci of project team-a");
  });

  it("is refused once expired, and a forged signature is refused", async () => {
    const short = await createToken("--id", "short", "--expires-in", "2s");
    expect((await api(short, "GET", "applications")).status).toBe(200);
    await eventually("the expired token refused", async () => ((await api(short, "GET", "applications")).status === 401 ? true : undefined), 10_000);
    const good = await createToken("--id", "forged-base");
    const [h, p] = good.split(".");
    const forged = `${h}.${p}.${Buffer.from("not the agent's signature").toString("base64url")}`;
    expect((await api(forged, "GET", "applications")).status).toBe(401);
    const escalated = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p ?? "", "base64url").toString()), sub: "proj:team-b:ci" })).toString("base64url")}.${good.split(".")[2]}`;
    expect((await api(escalated, "GET", "applications")).status).toBe(401);
  });

  it("says what is wrong with a role that does not exist", async () => {
    const r = await cli(["proj", "role", "create-token", "team-a", "deployer", "--namespace", NS], { kubeconfig: kubeconfigPath });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain("project team-a has no role deployer (it has ci)");
  });
});
