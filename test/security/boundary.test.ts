// Issue 22's boundary findings, each as a tenant would try it: Applications and commits only, against
// the real control plane, the real agent process, git and sops.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ageKey, encrypt } from "../../agent/decrypt/testdata/keys.ts";
import type { AppProject } from "../../agent/api/types.ts";
import { generateCa } from "../../bootstrap/certificate.ts";
import { cli, httpsGet, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, hasCondition } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { kube } from "../support/kube.ts";

const NS = "tether-e2e-boundary";
const { kubeconfigPath, kc, core, objects } = kube();
const reader = appReader(kc, NS);
const IN_CLUSTER = "https://kubernetes.default.svc";
const conditionOf = (name: string, type: string) => async () =>
  (await reader.get(name)).status?.conditions?.find((c) => c.type === type)?.message ?? "";
const configMap = (name: string, namespace?: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ""}data:\n  VALUE: "1"\n`;

let repo: TestRepo;
let agent: AgentProcess;

async function project(name: string, spec: AppProject["spec"]): Promise<void> {
  await objects.create({ apiVersion: "tether.dev/v1alpha1", kind: "AppProject", metadata: { name, namespace: NS }, spec });
}

async function configMapExists(name: string, namespace: string): Promise<boolean> {
  return core.readNamespacedConfigMap({ name, namespace }).then(() => true, () => false);
}

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  repo = await createRepo();
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "300s" });
});

afterAll(async () => {
  await agent?.stop();
  await repo?.cleanup();
});

describe("the project boundary (issue 22)", () => {
  it("refuses a destination with both name and server, as Argo CD does (finding 5)", async () => {
    await repo.commit({ "both/cm.yaml": configMap("both") });
    const app = application("dest-both", { repoURL: repo.url, path: "both", destNamespace: "e2e-bnd-both", agentNamespace: NS });
    await applyApp(objects, { ...app, spec: { ...app.spec, destination: { name: "in-cluster", server: IN_CLUSTER, namespace: "e2e-bnd-both" } } });
    await reader.until("dest-both", "InvalidSpecError", hasCondition("InvalidSpecError"));
    expect(await conditionOf("dest-both", "InvalidSpecError")()).toContain("application destination can't have both name and server defined: in-cluster");
    expect(await configMapExists("both", "e2e-bnd-both")).toBe(false);
  });

  it("checks each object's namespace against the destinations of the app's own cluster (finding 8)", async () => {
    await project("pairs", {
      sourceRepos: ["*"], clusterResourceWhitelist: [{ group: "", kind: "Namespace" }],
      destinations: [{ server: IN_CLUSTER, namespace: "e2e-bnd-team-a" }, { server: "https://other-cluster.example:6443", namespace: "*" }],
    });
    await repo.commit({ "pairs/cm.yaml": configMap("escaped", "kube-system") });
    await applyApp(objects, application("pairs", { repoURL: repo.url, path: "pairs", destNamespace: "e2e-bnd-team-a", agentNamespace: NS, project: "pairs" }));
    await reader.until("pairs", "PolicyViolation", hasCondition("PolicyViolation"));
    expect(await conditionOf("pairs", "PolicyViolation")()).toContain(`namespace "kube-system" on cluster ${IN_CLUSTER} is not a permitted destination`);
    expect(await configMapExists("escaped", "kube-system")).toBe(false);
  });

  it("matches sourceRepos against the URL that is fetched, so '..' does not reach another team's repository (finding 9)", async () => {
    const teamA = repo.url.replace(/\/origin\.git$/, "");
    // team-b exists on disk, so without the normalisation git would follow `..` to the repository.
    await mkdir(`${teamA.slice("file://".length)}/team-b`, { recursive: true });
    // The project allows only a sibling directory; `..` in the URL would lead git to the real repository.
    await project("team-b", { sourceRepos: [`${teamA}/team-b/**`], destinations: [{ server: "*", namespace: "*" }] });
    const sneaky = `${teamA}/team-b/../origin.git`;
    await applyApp(objects, application("dotdot", { repoURL: sneaky, path: "both", destNamespace: "e2e-bnd-dotdot", agentNamespace: NS, project: "team-b" }));
    await reader.until("dotdot", "PolicyViolation", hasCondition("PolicyViolation"));
    expect(await conditionOf("dotdot", "PolicyViolation")()).toContain(`repository ${sneaky} is not permitted in project team-b`);
    expect(await configMapExists("both", "e2e-bnd-dotdot")).toBe(false);
  });

  it("does not let tenant B's app decrypt with tenant A's key Secret (finding 7)", async () => {
    const keyA = await ageKey();
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "team-a-sops" }, stringData: { "a.agekey": keyA.identity } } });
    const secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a-token\nstringData:\n  token: team-a-only\n";
    await repo.commit({ "team-a/secret.yaml": await encrypt(secret, { recipient: keyA.recipient, format: "yaml", encryptedRegex: "^(data|stringData)$" }) });
    await project("tenant-a", { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "e2e-bnd-a" }], decryptionKeys: ["team-a-*"] });
    await project("tenant-b", { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "e2e-bnd-b" }], decryptionKeys: ["team-b-*"] });
    for (const ns of ["e2e-bnd-a", "e2e-bnd-b"]) await core.createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
    const withKey = (name: string, ns: string, projectName: string) => {
      const app = application(name, { repoURL: repo.url, path: "team-a", destNamespace: ns, agentNamespace: NS, project: projectName, syncPolicy: { automated: { prune: true } } });
      return { ...app, spec: { ...app.spec, source: { ...app.spec.source, decryption: { secretRef: { name: "team-a-sops" } } } } };
    };
    await applyApp(objects, withKey("tenant-b-steals", "e2e-bnd-b", "tenant-b"));
    await reader.until("tenant-b-steals", "PolicyViolation", hasCondition("PolicyViolation"));
    expect(await conditionOf("tenant-b-steals", "PolicyViolation")())
      .toContain("decryption key Secret team-a-sops is not permitted in project tenant-b; add it to the project's spec.decryptionKeys");
    expect(await core.readNamespacedSecret({ name: "a-token", namespace: "e2e-bnd-b" }).then(() => true, () => false)).toBe(false);
    // The control: tenant A's own app decrypts with it.
    await applyApp(objects, withKey("tenant-a-own", "e2e-bnd-a", "tenant-a"));
    await reader.until("tenant-a-own", "Synced", (a) => a.status?.sync?.status === "Synced", 90_000);
    const own = await core.readNamespacedSecret({ name: "a-token", namespace: "e2e-bnd-a" });
    expect(Buffer.from(own.data?.token ?? "", "base64").toString()).toBe("team-a-only");
  });
});

describe("decrypted values in every view of live objects (finding 7)", () => {
  const SECRET_VALUE = "cm-s3cret-value";
  const get = async (token: string, url: string) => {
    const res = await fetch(`http://127.0.0.1:${agent.port}${url}`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.text();
    expect(res.status, body).toBe(200);
    return body;
  };

  it("never shows a ConfigMap's SOPS-decrypted data in the UI's manifest view, the UI's prune diff or `tether app diff`", async () => {
    const key = await ageKey();
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "masking-sops" }, stringData: { "m.agekey": key.identity } } });
    await core.createNamespace({ body: { metadata: { name: "e2e-bnd-mask" } } }).catch(() => undefined);
    await project("masking", { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "e2e-bnd-mask" }], decryptionKeys: ["masking-sops"] });
    const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vault-cm\ndata:\n  DB_PASSWORD: ${SECRET_VALUE}\n`;
    await repo.commit({ "masking/cm.yaml": await encrypt(cm, { recipient: key.recipient, format: "yaml", encryptedRegex: "^data$" }),
      "masking/plain.yaml": configMap("plain") });
    const app = application("masking", { repoURL: repo.url, path: "masking", destNamespace: "e2e-bnd-mask", agentNamespace: NS, project: "masking",
      syncPolicy: { automated: { prune: false } } });
    await applyApp(objects, { ...app, spec: { ...app.spec, source: { ...app.spec.source, decryption: { secretRef: { name: "masking-sops" } } } } });
    await reader.until("masking", "Synced", (a) => a.status?.sync?.status === "Synced", 90_000);
    const live = await core.readNamespacedConfigMap({ name: "vault-cm", namespace: "e2e-bnd-mask" });
    expect(live.data?.DB_PASSWORD).toBe(SECRET_VALUE);
    expect(live.metadata?.annotations?.["tether.dev/decrypted-paths"]).toBe("/data");

    const token = await readerToken();
    const view = JSON.parse(await get(token, "/api/v1/applications/masking/resource?key=/v1/ConfigMap/e2e-bnd-mask/vault-cm")) as { yaml: string };
    expect(view.yaml).toContain("DB_PASSWORD: ++++++++");
    expect(view.yaml).not.toContain(SECRET_VALUE);
    const plain = JSON.parse(await get(token, "/api/v1/applications/masking/resource?key=/v1/ConfigMap/e2e-bnd-mask/plain")) as { yaml: string };
    expect(plain.yaml).toContain('VALUE: "1"');

    // The encrypted file leaves Git; without prune the ConfigMap stays, and every diff shows it to be pruned.
    const removed = await repo.commit({ "masking/cm.yaml": null });
    expect((await cli(["app", "refresh", "masking", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
    await reader.until("masking", "OutOfSync at the new revision", (a) => a.status?.sync?.revision === removed && a.status.sync.status === "OutOfSync", 60_000);
    const diff = await get(token, "/api/v1/applications/masking/diff");
    expect(diff).toContain("ConfigMap/e2e-bnd-mask/vault-cm");
    expect(diff).toContain('"change":"prune"');
    expect(diff).not.toContain(SECRET_VALUE);
    const cliDiff = await cli(["app", "diff", "masking", "--namespace", NS, "--allow-local-repos"], { kubeconfig: kubeconfigPath });
    expect(cliDiff.stdout).toContain("vault-cm");
    expect(cliDiff.stdout + cliDiff.stderr).not.toContain(SECRET_VALUE);
  });
});

describe("the agent's serving certificate (finding 14)", () => {
  it("is made once by `tether install`, kept when it runs again, and served by the agent on every interface over HTTPS", async () => {
    const tls = async () => (await core.readNamespacedSecret({ name: "tether-agent-tls", namespace: NS })).data ?? {};
    const first = await tls();
    const again = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Secret tether-e2e-boundary\/tether-agent-tls kept: .*SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    expect(again.stdout).toContain("get secret tether-agent-tls -o jsonpath='{.data.ca\\.crt}' | base64 -d > tether-agent-ca.crt");
    expect(await tls()).toEqual(first);
    const decoded = (key: string) => Buffer.from(first[key] ?? "", "base64").toString();
    const dir = await mkdtemp(path.join(os.tmpdir(), "tether-tls-"));
    await writeFile(path.join(dir, "tls.crt"), decoded("tls.crt"));
    await writeFile(path.join(dir, "tls.key"), decoded("tls.key"));
    const served = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "300s",
      extraArgs: ["--listen", "0.0.0.0:0", "--tls-cert-file", path.join(dir, "tls.crt"), "--tls-key-file", path.join(dir, "tls.key")] });
    try {
      expect(served.logs()).toMatch(/metrics on https:\/\/0\.0\.0\.0:\d+/);
      const healthz = await httpsGet(`https://127.0.0.1:${served.port}/healthz`, decoded("ca.crt"));
      expect(healthz.status).toBe(200);
      // A client that trusts another CA is refused the handshake.
      await expect(httpsGet(`https://127.0.0.1:${served.port}/healthz`, generateCa("someone-else").cert)).rejects.toThrow(/certificate/i);
    } finally {
      await served.stop();
      await rm(dir, { recursive: true, force: true });
    }
    // Without a certificate, plain HTTP off loopback is refused unless asked for.
    await expect(startAgent({ kubeconfig: kubeconfigPath, namespace: NS, extraArgs: ["--listen", "0.0.0.0:0"] })).rejects.toThrow(/plain HTTP/);
  });
});

/** A person allowed to read Applications in the agent's namespace, and nothing else: a token for the UI's API. */
async function readerToken(): Promise<string> {
  const RBAC = "rbac.authorization.k8s.io/v1";
  await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: "e2e-ui-reader" } } }).catch(() => undefined);
  for (const obj of [
    { apiVersion: RBAC, kind: "Role", metadata: { name: "e2e-ui-reader", namespace: NS }, rules: [{ apiGroups: ["tether.dev"], resources: ["applications"], verbs: ["get", "list"] }] },
    { apiVersion: RBAC, kind: "RoleBinding", metadata: { name: "e2e-ui-reader", namespace: NS },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "e2e-ui-reader" }, subjects: [{ kind: "ServiceAccount", name: "e2e-ui-reader", namespace: NS }] },
  ]) await applyApp(objects, obj as never);
  const body = { spec: { audiences: [], expirationSeconds: 3600 } };
  return (await core.createNamespacedServiceAccountToken({ name: "e2e-ui-reader", namespace: NS, body })).status?.token ?? "";
}
