// Kustomize, Helm and SOPS sources through the real agent: what KSOPS and Flux users expect, and the
// plaintext guard neither of them has.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toolPath } from "../harness/paths.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, hasCondition, synced } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { kube } from "../support/kube.ts";

const NS = "tether-e2e-sources";
const { kubeconfigPath, kc, core, apps, objects } = kube();
const reader = appReader(kc, NS);
const automated = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };
const TOKEN = "tk-7f3a9c1e5b2d8046-do-not-leak";

let repo: TestRepo;
let agent: AgentProcess;
let cacheDir: string;
let identity: string;
let recipient: string;

async function encrypt(text: string, file: string, opts: { recipient?: string; regex?: boolean } = {}): Promise<string> {
  const args = ["encrypt", "--age", opts.recipient ?? recipient, "--filename-override", file];
  if (opts.regex !== false) args.push("--encrypted-regex", "^(data|stringData)$");
  // Outside the checkout: sops would otherwise apply the repository's own (demo) .sops.yaml rules.
  return (await execa(toolPath("sops"), args, { input: text, cwd: os.tmpdir() })).stdout;
}

async function newIdentity(): Promise<{ identity: string; recipient: string }> {
  const { stdout } = await execa(toolPath("age-keygen"));
  return { identity: stdout, recipient: /public key: (age1\w+)/.exec(stdout)![1]! };
}

const secretYaml = (name: string, value: string) =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\ntype: Opaque\nstringData:\n  TOKEN: ${value}\n`;

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  ({ identity, recipient } = await newIdentity());
  await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "tether-sops" }, stringData: { "test.agekey": identity } } });
  repo = await createRepo();
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "tether-sources-cache-"));
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, cacheDir });
});

afterAll(async () => {
  await agent?.stop();
  await repo?.cleanup();
});

describe("Kustomize and Helm sources", () => {
  it("builds a Kustomize overlay with the app's namePrefix and images", async () => {
    const rev = await repo.commit({
      "kustomize/base/kustomization.yaml": "resources: [deployment.yaml]\n",
      "kustomize/base/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n"
        + "  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - {name: web, image: nginx:1.27}\n",
      "kustomize/overlay/kustomization.yaml": "resources: [../base]\ncommonLabels: {env: staging}\n",
    });
    const app = application("kustomized", { repoURL: repo.url, path: "kustomize/overlay", destNamespace: "e2e-kustomize", agentNamespace: NS, syncPolicy: automated });
    await applyApp(objects, { ...app, spec: { ...app.spec, source: { ...app.spec.source, kustomize: { namePrefix: "staging-", images: ["nginx:1.27.3"] } } } });
    await reader.until("kustomized", "Synced", synced(rev), 90_000);
    const d = await apps.readNamespacedDeployment({ name: "staging-web", namespace: "e2e-kustomize" });
    expect(d.spec?.template.spec?.containers[0]?.image).toBe("nginx:1.27.3");
    expect(d.metadata?.labels?.env).toBe("staging");
  });

  it("templates a Helm chart with value files and valuesObject", async () => {
    const chart = "helm/chart";
    const rev = await repo.commit({
      [`${chart}/Chart.yaml`]: "apiVersion: v2\nname: hello\nversion: 0.1.0\n",
      [`${chart}/values.yaml`]: "replicas: 1\nmessage: default\n",
      [`${chart}/values-prod.yaml`]: "replicas: 2\nmessage: from-file\n",
      [`${chart}/templates/cm.yaml`]: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\ndata:\n"
        + "  message: {{ .Values.message | quote }}\n  replicas: {{ .Values.replicas | quote }}\n  namespace: {{ .Release.Namespace }}\n",
      [`${chart}/templates/test.yaml`]: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-test\n  annotations: {helm.sh/hook: test}\n"
        + "spec:\n  containers: [{name: t, image: busybox}]\n",
    });
    const app = application("charted", { repoURL: repo.url, path: chart, destNamespace: "e2e-helm", agentNamespace: NS, syncPolicy: automated });
    await applyApp(objects, { ...app, spec: { ...app.spec, source: { ...app.spec.source, helm: { valueFiles: ["values-prod.yaml"], valuesObject: { message: "from-object" } } } } });
    const synced_ = await reader.until("charted", "Synced", synced(rev), 90_000);
    const cm = await core.readNamespacedConfigMap({ name: "charted-config", namespace: "e2e-helm" });
    expect(cm.data).toEqual({ message: "from-object", replicas: "2", namespace: "e2e-helm" });
    expect(synced_.status?.resources?.map((r) => r.kind)).toEqual(["ConfigMap"]);
  });
});

describe("Jsonnet in a directory source", () => {
  it("evaluates *.jsonnet with the app's extVars and tlas", async () => {
    const rev = await repo.commit({
      "jsonnet/main.jsonnet": "function(greeting) {\n  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-jsonnet' },\n"
        + "  data: { greeting: greeting, env: std.extVar('env') },\n}\n",
    });
    const app = application("jsonnet", { repoURL: repo.url, path: "jsonnet", destNamespace: "e2e-jsonnet", agentNamespace: NS, syncPolicy: automated });
    const directory = { jsonnet: { tlas: [{ name: "greeting", value: "hello" }], extVars: [{ name: "env", value: "prod" }] } };
    await applyApp(objects, { ...app, spec: { ...app.spec, source: { ...app.spec.source, directory } } });
    await reader.until("jsonnet", "Synced", synced(rev), 90_000);
    expect((await core.readNamespacedConfigMap({ name: "from-jsonnet", namespace: "e2e-jsonnet" })).data).toEqual({ greeting: "hello", env: "prod" });
  });

  it("names the file and line of a broken Jsonnet file, and leaves what runs as it was", async () => {
    const rev = await repo.commit({ "jsonnet/main.jsonnet": "function(greeting) {\n  a: 1,\n  b: ,\n}\n" });
    const failed = await reader.until("jsonnet", "RenderFailed", (a) => hasCondition("RenderFailed")(a) && a.status?.sync?.revision === rev, 90_000);
    expect(failed.status?.conditions?.find((c) => c.type === "RenderFailed")?.message).toMatch(/^jsonnet\/main\.jsonnet:3: /);
    expect((await core.readNamespacedConfigMap({ name: "from-jsonnet", namespace: "e2e-jsonnet" })).data).toEqual({ greeting: "hello", env: "prod" });
  });
});

describe("SOPS-encrypted secrets", () => {
  it("decrypts YAML (with encrypted_regex) and JSON (whole file) Secrets and applies them", async () => {
    const json = JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "json-token" }, stringData: { TOKEN } });
    const rev = await repo.commit({
      "sops/token.yaml": await encrypt(secretYaml("yaml-token", TOKEN), "token.yaml"),
      "sops/token.json": await encrypt(json, "token.json", { regex: false }),
    });
    await applyApp(objects, application("sops", { repoURL: repo.url, path: "sops", destNamespace: "e2e-sops", agentNamespace: NS, syncPolicy: automated }));
    await reader.until("sops", "Synced", synced(rev), 90_000);
    for (const name of ["yaml-token", "json-token"]) {
      const s = await core.readNamespacedSecret({ name, namespace: "e2e-sops" });
      expect(Buffer.from(s.data?.TOKEN ?? "", "base64").toString()).toBe(TOKEN);
    }
  });

  it("renders a KSOPS generator (files: and secretFrom:) inside a Kustomize source", async () => {
    const rev = await repo.commit({
      "ksops/kustomization.yaml": "generators: [secret-generator.yaml]\n",
      "ksops/secret-generator.yaml": "apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: gen\n  annotations:\n"
        + "    config.kubernetes.io/function: |\n      exec:\n        path: ksops\nfiles:\n  - ./secret.enc.yaml\nsecretFrom:\n"
        + "  - metadata:\n      name: from-env\n    envs:\n      - ./app.enc.env\n",
      "ksops/secret.enc.yaml": await encrypt(secretYaml("ksops-token", TOKEN), "secret.enc.yaml"),
      // encrypted_regex names YAML keys; a dotenv file is encrypted whole.
      "ksops/app.enc.env": await encrypt(`API_KEY=${TOKEN}\n`, "app.enc.env", { regex: false }),
    });
    await applyApp(objects, application("ksops", { repoURL: repo.url, path: "ksops", destNamespace: "e2e-ksops", agentNamespace: NS, syncPolicy: automated }));
    await reader.until("ksops", "Synced", synced(rev), 90_000);
    const fromFile = await core.readNamespacedSecret({ name: "ksops-token", namespace: "e2e-ksops" });
    expect(Buffer.from(fromFile.data?.TOKEN ?? "", "base64").toString()).toBe(TOKEN);
    const fromEnv = await core.readNamespacedSecret({ name: "from-env", namespace: "e2e-ksops" });
    expect(Buffer.from(fromEnv.data?.API_KEY ?? "", "base64").toString()).toBe(TOKEN);
  });

  it("renders KSOPS' KRM form (viaduct.ai/v2, files: and secretFrom:) inside a Kustomize source", async () => {
    const rev = await repo.commit({
      "ksops-v2/kustomization.yaml": "generators: [secret-generator.yaml]\n",
      "ksops-v2/secret-generator.yaml": "apiVersion: viaduct.ai/v2\nkind: ksops\nmetadata:\n  name: gen\n  annotations:\n"
        + "    config.kubernetes.io/function: |\n      exec:\n        path: ksops\nfiles:\n  - ./secret.enc.yaml\nsecretFrom:\n"
        + "  - metadata:\n      name: v2-from-env\n    type: Opaque\n    envs:\n      - ./app.enc.env\n",
      "ksops-v2/secret.enc.yaml": await encrypt(secretYaml("v2-token", TOKEN), "secret.enc.yaml"),
      "ksops-v2/app.enc.env": await encrypt(`API_KEY=${TOKEN}\n`, "app.enc.env", { regex: false }),
    });
    await applyApp(objects, application("ksops-v2", { repoURL: repo.url, path: "ksops-v2", destNamespace: "e2e-ksops", agentNamespace: NS, syncPolicy: automated }));
    await reader.until("ksops-v2", "Synced", synced(rev), 90_000);
    expect(Buffer.from((await core.readNamespacedSecret({ name: "v2-token", namespace: "e2e-ksops" })).data?.TOKEN ?? "", "base64").toString()).toBe(TOKEN);
    expect(Buffer.from((await core.readNamespacedSecret({ name: "v2-from-env", namespace: "e2e-ksops" })).data?.API_KEY ?? "", "base64").toString()).toBe(TOKEN);
  });

  it("masks Secret values in `tether app diff`", async () => {
    const rev = await repo.commit({ "masked/token.yaml": await encrypt(secretYaml("masked", TOKEN), "token.yaml") });
    await applyApp(objects, application("masked", { repoURL: repo.url, path: "masked", destNamespace: "e2e-sops", agentNamespace: NS }));
    await reader.until("masked", "compared", (a) => a.status?.sync?.revision === rev);
    expect((await cli(["app", "sync", "masked", "-n", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
    await core.patchNamespacedSecret({ name: "masked", namespace: "e2e-sops", body: [{ op: "replace", path: "/data/TOKEN", value: Buffer.from("drifted-value").toString("base64") }] });
    const diff = await cli(["app", "diff", "masked", "-n", NS, "--allow-local-repos"], { kubeconfig: kubeconfigPath });
    expect(diff.exitCode, diff.stderr).toBe(1);
    expect(diff.stdout).toMatch(/^-\s+TOKEN: \+{8,}$/m);
    expect(diff.stdout).toMatch(/^\+\s+TOKEN: \+{8,}$/m);
    for (const plain of [TOKEN, "drifted-value", Buffer.from(TOKEN).toString("base64"), Buffer.from("drifted-value").toString("base64")]) {
      expect(diff.stdout + diff.stderr).not.toContain(plain);
    }
  });

  it.each([
    ["a wrong key", async () => encrypt(secretYaml("yaml-token", "rotated"), "token.yaml", { recipient: (await newIdentity()).recipient }), /none of the 1 configured age key can decrypt it; it is encrypted for age1\w+/],
    ["a tampered file", async () => (await encrypt(secretYaml("yaml-token", "rotated"), "token.yaml")).replace(/TOKEN: ENC\[AES256_GCM,data:[A-Za-z0-9+/=]{4}/, "TOKEN: ENC[AES256_GCM,data:AAAA"), /MAC|modified|tamper|decrypt/i],
  ])("refuses %s with DecryptionFailed naming the file, and leaves the running Secret as it was", async (_what, content, message) => {
    const rev = await repo.commit({ "sops/token.yaml": await content() });
    const app = await reader.until("sops", "DecryptionFailed", (a) => hasCondition("DecryptionFailed")(a) && a.status?.sync?.revision === rev);
    const condition = app.status?.conditions?.find((c) => c.type === "DecryptionFailed")?.message ?? "";
    expect(condition).toContain("sops/token.yaml");
    expect(condition).toMatch(message);
    const s = await core.readNamespacedSecret({ name: "yaml-token", namespace: "e2e-sops" });
    expect(Buffer.from(s.data?.TOKEN ?? "", "base64").toString()).toBe(TOKEN);
    expect((await core.readNamespacedSecret({ name: "json-token", namespace: "e2e-sops" })).metadata?.deletionTimestamp).toBeUndefined();
  });

  it("refuses a file when the app's key Secret holds no key, naming the file and its recipients", async () => {
    const rev = await repo.commit({ "nokey/token.yaml": await encrypt(secretYaml("nokey", TOKEN), "token.yaml") });
    // A project that lets its apps use that key Secret (issue 22: key Secrets are scoped to projects).
    await objects.create({ apiVersion: "tether.dev/v1alpha1", kind: "AppProject", metadata: { name: "nokeys", namespace: NS },
      spec: { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "*" }], decryptionKeys: ["no-such-keys"] } });
    const app = application("nokey", { repoURL: repo.url, path: "nokey", destNamespace: "e2e-sops", agentNamespace: NS, syncPolicy: automated, project: "nokeys" });
    await applyApp(objects, { ...app, spec: { ...app.spec, source: { ...app.spec.source, decryption: { secretRef: { name: "no-such-keys" } } } } });
    const failed = await reader.until("nokey", "DecryptionFailed", (a) => hasCondition("DecryptionFailed")(a) && a.status?.sync?.revision === rev);
    expect(failed.status?.conditions?.find((c) => c.type === "DecryptionFailed")?.message).toContain(`nokey/token.yaml: is SOPS-encrypted for ${recipient}`);
    expect((await core.listNamespacedSecret({ namespace: "e2e-sops" })).items.map((s) => s.metadata?.name)).not.toContain("nokey");
  });

  it("refuses a plaintext Secret with PlaintextSecret, and applies it when the app opts out", async () => {
    const rev = await repo.commit({ "plain/secret.yaml": secretYaml("plain", "not-so-secret") });
    const base = application("plain", { repoURL: repo.url, path: "plain", destNamespace: "e2e-plain", agentNamespace: NS, syncPolicy: automated });
    await applyApp(objects, base);
    const refused = await reader.until("plain", "PlaintextSecret", hasCondition("PlaintextSecret"));
    expect(refused.status?.conditions?.find((c) => c.type === "PlaintextSecret")?.message).toContain("plain/secret.yaml: Secret/plain is not SOPS-encrypted");
    expect((await core.listNamespacedSecret({ namespace: "e2e-plain" }).catch(() => ({ items: [] }))).items.filter((s) => s.metadata?.name === "plain")).toEqual([]);

    await applyApp(objects, { ...base, metadata: { ...base.metadata, annotations: { "tether.dev/allow-plaintext-secrets": "true" } } });
    await reader.until("plain", "Synced", (a) => synced(rev)(a) && !hasCondition("PlaintextSecret")(a));
    expect((await core.readNamespacedSecret({ name: "plain", namespace: "e2e-plain" })).data?.TOKEN).toBeDefined();
  });

  it("never writes the plaintext to its logs or its working directories", () => {
    expect(agent.logs()).not.toContain(TOKEN);
    const files: string[] = [];
    // The agent keeps working meanwhile: a tree it removes while this walks is skipped.
    const walk = (dir: string) => {
      for (const entry of (() => { try { return readdirSync(dir); } catch { return []; } })()) {
        const full = path.join(dir, entry);
        const stat = statSync(full, { throwIfNoEntry: false });
        if (stat?.isDirectory()) walk(full);
        else if (stat) files.push(full);
      }
    };
    walk(cacheDir);
    expect(files.length).toBeGreaterThan(0);
    const read = (f: string) => { try { return readFileSync(f); } catch { return Buffer.alloc(0); } };
    const leaking = files.filter((f) => read(f).includes(TOKEN) || read(f).includes(Buffer.from(TOKEN).toString("base64")));
    expect(leaking).toEqual([]);
  });

});
