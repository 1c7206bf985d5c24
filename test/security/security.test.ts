// The seven failures of issue 13 ("Security and resource bounds"), each as a user or an attacker would
// meet it, against the real control plane, the real agent process, git and kustomize.
import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathWithTools, repoRoot } from "../harness/paths.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, hasCondition, synced } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-security";
const { kubeconfigPath, kc, core, objects } = kube();
const reader = appReader(kc, NS);
const WEBHOOK_SECRET = "s3cret-for-hmac";
const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  VALUE: "1"\n`;
const conditionMessage = (type: string) => (a: { status?: { conditions?: { type: string; message?: string }[] } }) =>
  a.status?.conditions?.find((c) => c.type === type)?.message ?? "";

/** An HTTP server that asks for Basic auth and records every Authorization header a client sends. */
async function recordingGitServer(): Promise<{ port: number; authorizations: string[]; close(): void }> {
  const authorizations: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.headers.authorization) authorizations.push(Buffer.from(req.headers.authorization.replace(/^Basic /, ""), "base64").toString("utf8"));
    res.writeHead(401, { "www-authenticate": "Basic realm=\"git\"" });
    res.end();
  });
  // A five-digit port, so a credential for its first four digits is another server's.
  for (;;) {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    if ((server.address() as AddressInfo).port >= 10_000) break;
    await new Promise((resolve) => server.close(resolve));
  }
  return { port: (server.address() as AddressInfo).port, authorizations, close: () => server.close() };
}

/** A credential Secret; `label` is Tether's own (`repository`, as before this issue) or Argo CD's template label. */
async function credentialSecret(name: string, data: { url: string; password: string }, label: Record<string, string>): Promise<void> {
  await core.createNamespacedSecret({
    namespace: NS, body: { metadata: { name, labels: label }, stringData: { url: data.url, username: "robot", password: data.password } },
  });
}
const TETHER_REPOSITORY = { "tether.dev/secret-type": "repository" };
const ARGO_REPO_CREDS = { "argocd.argoproj.io/secret-type": "repo-creds" };

let repo: TestRepo;
let agent: AgentProcess;

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "tether-webhook" }, stringData: { "webhook.github.secret": WEBHOOK_SECRET } } });
  repo = await createRepo();
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "300s" });
});

afterAll(async () => {
  await agent?.stop();
  await repo?.cleanup();
});

describe("1. repository credentials", () => {
  it("are sent only to their own server and path, never to a port or path that merely starts the same", async () => {
    const server = await recordingGitServer();
    try {
      const base = `http://127.0.0.1:${server.port}`;
      await credentialSecret("creds-port-prefix", { url: `http://127.0.0.1:${String(server.port).slice(0, 4)}`, password: "wrong-port-pw" }, TETHER_REPOSITORY);
      await credentialSecret("creds-path-prefix", { url: `${base}/team`, password: "wrong-path-pw" }, TETHER_REPOSITORY);
      await credentialSecret("creds-own", { url: `${base}/team-b`, password: "right-pw" }, ARGO_REPO_CREDS);
      for (const [name, repoPath] of [["cred-other", "team-c/app.git"], ["cred-own", "team-b/app.git"]] as const) {
        await applyApp(objects, application(name, { repoURL: `${base}/${repoPath}`, path: ".", destNamespace: "e2e-sec-creds", agentNamespace: NS }));
        await reader.until(name, "SourceFailed", hasCondition("SourceFailed"));
      }
      // The control: the matching credential does reach the server, so the test can see one.
      await eventually("the server to see the own credential", () => Promise.resolve(server.authorizations.includes("robot:right-pw") || undefined));
      expect(server.authorizations.filter((a) => a !== "robot:right-pw")).toEqual([]);
    } finally {
      server.close();
    }
  });
});

describe("2. the webhook", () => {
  const push = JSON.stringify({ ref: "refs/heads/main", repository: { clone_url: "https://example.com/none.git" } });
  const sign = (body: string, secret: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  const deliver = (signature?: string) => fetch(`http://127.0.0.1:${agent.port}/api/webhook`, {
    method: "POST", body: push,
    headers: { "content-type": "application/json", "x-github-event": "push", ...(signature ? { "x-hub-signature-256": signature } : {}) },
  });

  it("refuses a GitHub push with a wrong or missing signature when a secret is set, and takes a signed one", async () => {
    expect((await deliver(sign(push, "guessed"))).status).toBe(401);
    expect((await deliver()).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${agent.port}/api/webhook?token=${WEBHOOK_SECRET}`, { method: "POST", body: push })).status).toBe(401);
    expect((await deliver(sign(push, WEBHOOK_SECRET))).status).toBe(202);
  });
});

describe("3. least privilege", () => {
  it("tether install --cluster-role narrows the binding of an earlier install, never leaving the agent without one", async () => {
    const read = (name: string) => objects.read({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name } })
      .then((b) => (b as { roleRef?: { name?: string } }).roleRef?.name, () => undefined);
    const narrowed = await cli(["install", "--namespace", NS, "--cluster-role", "view"], { kubeconfig: kubeconfigPath });
    expect(narrowed.exitCode, narrowed.stderr).toBe(0);
    expect(await read("tether-agent-view")).toBe("view");
    expect(await read("tether-agent")).toBeUndefined();
    // The new binding was applied before the old one went.
    const out = narrowed.stdout + narrowed.stderr;
    expect(out.indexOf("ClusterRoleBinding/tether-agent-view created")).toBeGreaterThan(-1);
    expect(out.indexOf("ClusterRoleBinding/tether-agent deleted")).toBeGreaterThan(out.indexOf("ClusterRoleBinding/tether-agent-view created"));
    // Back to the default for the suites that follow.
    expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
    expect(await read("tether-agent")).toBe("cluster-admin");
    expect(await read("tether-agent-view")).toBeUndefined();
  });
});

describe("4. a 50 MB manifest", () => {
  it("renders under 512 MiB peak RSS", async () => {
    const bench = await execa(process.execPath, ["--import", "tsx", path.join(repoRoot, "test/bench/render-memory.ts"), "50"], { cwd: repoRoot, reject: false });
    expect(bench.exitCode, `${bench.stdout}\n${bench.stderr}`).toBe(0);
    expect(bench.stdout).toMatch(/peak RSS \d+ MiB/);
  }, 300_000);
});

describe("5 and 6. render refusals name their file", () => {
  it("a YAML alias bomb", async () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
    await repo.commit({ "bomb/bomb.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\nlol:\n  ${levels.join("\n  ")}\n` });
    await applyApp(objects, application("bomb", { repoURL: repo.url, path: "bomb", destNamespace: "e2e-sec-bomb", agentNamespace: NS }));
    const app = await reader.until("bomb", "RenderFailed", hasCondition("RenderFailed"));
    expect(conditionMessage("RenderFailed")(app)).toMatch(/bomb\/bomb\.yaml: too many YAML aliases/);
  });

  it("a kustomize exec KRM function, which is refused instead of dropped", async () => {
    await repo.commit({
      "krm/kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- fn.yaml\n",
      "krm/cm.yaml": configMap("krm"),
      "krm/fn.yaml": "apiVersion: example.com/v1\nkind: Labeller\nmetadata:\n  name: l\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./labeller.sh\n",
    });
    await applyApp(objects, application("krm", { repoURL: repo.url, path: "krm", destNamespace: "e2e-sec-krm", agentNamespace: NS, syncPolicy: { automated: {}, syncOptions: ["CreateNamespace=true"] } }));
    const app = await reader.until("krm", "RenderFailed", hasCondition("RenderFailed"));
    expect(conditionMessage("RenderFailed")(app)).toMatch(/krm\/fn\.yaml: an exec function .* is refused/);
    await expect(core.readNamespacedConfigMap({ name: "krm", namespace: "e2e-sec-krm" })).rejects.toThrow();
  });
});

describe("local repositories and links", () => {
  it("refuses a directory symlink that leaves the repository, naming it", async () => {
    await repo.commit({ "linked/cm.yaml": configMap("linked") });
    await symlink("/etc", path.join(repo.work, "linked", "etc"));
    await repo.commit({});
    await applyApp(objects, application("linked", { repoURL: repo.url, path: "linked", destNamespace: "e2e-sec-link", agentNamespace: NS }));
    const app = await reader.until("linked", "RenderFailed", hasCondition("RenderFailed"));
    expect(conditionMessage("RenderFailed")(app)).toMatch(/'linked\/etc'.*points outside the repository/);
  });

  it("refuses a file:// repository unless the agent allows local repositories", async () => {
    const strictNs = `${NS}-strict`;
    expect((await cli(["install", "--namespace", strictNs], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
    const strict = await startAgent({ kubeconfig: kubeconfigPath, namespace: strictNs, pollInterval: "300s", allowLocalRepos: false });
    try {
      await applyApp(objects, application("local", { repoURL: repo.url, path: "linked", destNamespace: "e2e-sec-local", agentNamespace: strictNs }));
      const app = await appReader(kc, strictNs).until("local", "SourceFailed", hasCondition("SourceFailed"));
      expect(conditionMessage("SourceFailed")(app)).toContain("--allow-local-repos");
    } finally {
      await strict.stop();
    }
  });
});

describe("the agent process", () => {
  const tetherBin = path.join(repoRoot, "bin", "tether.mjs");

  it("refuses to start on a busy listen address with a message naming it and the flag", async () => {
    const busy = http.createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const result = await cli(["agent", "--namespace", NS, "--listen", `127.0.0.1:${port}`], { kubeconfig: kubeconfigPath });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the address is already in use`);
      expect(result.stderr).toContain("--listen HOST:PORT");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      busy.close();
    }
  });

  it("removes its temporary cache directory when it stops", async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), "tether-agent-tmpdir-"));
    try {
      const child = execa(process.execPath, [tetherBin, "agent", "--kubeconfig", kubeconfigPath, "--namespace", NS, "--listen", "127.0.0.1:0", "--poll-interval", "300s"],
        { env: { TMPDIR: tmp, PATH: pathWithTools() }, extendEnv: false, reject: false });
      let output = "";
      child.stdout?.on("data", (d: Buffer) => { output += d.toString(); });
      await eventually("the agent to be ready", () => Promise.resolve(/metrics on http/.test(output) || undefined));
      expect((await readdir(tmp)).filter((f) => f.startsWith("tether-agent-"))).toHaveLength(1);
      child.kill("SIGTERM");
      await child;
      expect((await readdir(tmp)).filter((f) => f.startsWith("tether-agent-"))).toEqual([]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe("7. the plaintext-Secret opt-out", () => {
  // The guard runs after every cache lookup (issue 9), so a removed opt-out is checked at once.
  it("is checked again when the annotation is removed", async () => {
    const plaintext = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\nstringData:\n  token: not-secret\n";
    const rev = await repo.commit({ "plain/secret.yaml": plaintext });
    const optedOut = application("plain", {
      repoURL: repo.url, path: "plain", destNamespace: "e2e-sec-plain", agentNamespace: NS,
      annotations: { "tether.dev/allow-plaintext-secrets": "true" }, syncPolicy: { automated: {}, syncOptions: ["CreateNamespace=true"] },
    });
    await applyApp(objects, optedOut);
    await reader.until("plain", "Synced", synced(rev));
    await applyApp(objects, { ...optedOut, metadata: { ...optedOut.metadata, annotations: {} } });
    await reader.until("plain", "PlaintextSecret", hasCondition("PlaintextSecret"));
  });
});
