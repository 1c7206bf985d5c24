// The program under Pulumi's mocks: which resources each cluster mode declares and with what, and the
// configuration mistakes that stop it. The real engine runs it in test/bootstrap.
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { crds } from "../agent/api/crds.ts";
import { defaultProject, installManifests } from "../agent/api/install.ts";
import { FINALIZER, type Manifest } from "../agent/api/types.ts";
import bootstrap from "./index.ts";
import { DEFAULT_AGENT_IMAGE } from "./config.ts";
import { bootstrapManifests } from "./manifests.ts";

interface Declared {
  readonly type: string;
  readonly name: string;
  readonly inputs: any;
}

const LOCAL_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster: {server: https://127.0.0.1:40123}\n";
const K3S_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster: {server: https://127.0.0.1:6443}\n";

let declared: Declared[] = [];

beforeEach(async () => {
  declared = [];
  await pulumi.runtime.setMocks({
    newResource(args) {
      declared.push({ type: args.type, name: args.name, inputs: args.inputs });
      // The commands print a kubeconfig: the local control plane's, or the one k3s wrote.
      const stdout = args.type === "command:local:Command" ? LOCAL_KUBECONFIG
        : args.name === "k3s-kubeconfig" ? K3S_KUBECONFIG : undefined;
      return { id: `${args.name}-id`, state: { ...args.inputs, ...(stdout ? { stdout } : {}) } };
    },
    call: (args) => args.inputs as Record<string, unknown>,
  }, "tether", "test", false);
});

/** Runs the program with `tether:` config (secret keys listed), waits for every registration. */
async function run(config: Record<string, string>, secretKeys: string[] = []) {
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [`tether:${k}`, v])),
    secretKeys.map((k) => `tether:${k}`),
  );
  const outputs = bootstrap();
  const { kubeconfig, namespace, rootApplication } = outputs;
  const resolved = await new Promise<{ kubeconfig: string; namespace: string; rootApplication: string }>((resolve) => {
    pulumi.all([kubeconfig, namespace, rootApplication]).apply(([k, n, r]) => resolve({ kubeconfig: k, namespace: n, rootApplication: r }));
  });
  await pulumi.runtime.disconnect();
  return { ...resolved, kubeconfigIsSecret: await pulumi.isSecret(outputs.kubeconfig) };
}

/** How the mocks hand over a secret input: wrapped in Pulumi's secret signature. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const isSecretInput = (value: any): boolean => value?.[SECRET_SIG] !== undefined;
/** The input with every secret unwrapped. */
function reveal(value: any): any {
  if (isSecretInput(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map(reveal);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, reveal(v)]));
  return value;
}

const one = (type: string, name?: string): Declared => {
  const found = declared.filter((d) => d.type === type && (name === undefined || d.name === name));
  expect(found, `${type} ${name ?? ""}`).toHaveLength(1);
  return found[0]!;
};
const named = (type: string, objectName: string) => declared.find((d) => d.type === type && d.inputs.metadata?.name === objectName);

function kubeconfigFile(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tether-bootstrap-"));
  writeFileSync(path.join(dir, "kubeconfig"), LOCAL_KUBECONFIG);
  return path.join(dir, "kubeconfig");
}

const REPO = "https://git.example.com/platform/gitops.git";
const AGE_KEY = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";

describe("tether:cluster=kubeconfig", () => {
  it("installs through a provider on the kubeconfig file, and outputs it as a secret", async () => {
    const out = await run({ cluster: "kubeconfig", kubeconfig: kubeconfigFile(), context: "prod", repoURL: REPO });
    const provider = one("pulumi:providers:kubernetes");
    expect(isSecretInput(provider.inputs.kubeconfig)).toBe(true);
    expect(reveal(provider.inputs)).toMatchObject({ kubeconfig: LOCAL_KUBECONFIG, context: "prod", enableServerSideApply: "true" });
    expect(declared.filter((d) => d.type.startsWith("command:"))).toEqual([]);
    expect(out).toEqual({ kubeconfig: LOCAL_KUBECONFIG, kubeconfigIsSecret: true, namespace: "tether-system", rootApplication: "root" });
  });

  it("takes the kubeconfig itself when the config holds its content", async () => {
    await run({ kubeconfig: LOCAL_KUBECONFIG, repoURL: REPO }, ["kubeconfig"]);
    expect(reveal(one("pulumi:providers:kubernetes").inputs.kubeconfig)).toBe(LOCAL_KUBECONFIG);
  });

  it("declares the same CRDs, identity, RBAC and default AppProject as `tether install`", async () => {
    await run({ kubeconfig: kubeconfigFile(), repoURL: REPO });
    const byName = (a: { metadata: { name?: string } }, b: { metadata: { name?: string } }) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");
    expect(declared.filter((d) => d.type === "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition").map((d) => d.inputs as Manifest).sort(byName))
      .toEqual([...crds].sort(byName));
    expect(one("kubernetes:core/v1:Namespace").inputs.metadata.name).toBe("tether-system");
    expect(one("kubernetes:core/v1:ServiceAccount").inputs.metadata).toMatchObject({ name: "tether-agent", namespace: "tether-system" });
    expect(one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").inputs).toMatchObject({
      roleRef: { kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ kind: "ServiceAccount", name: "tether-agent", namespace: "tether-system" }],
    });
    expect(one("kubernetes:tether.dev/v1alpha1:AppProject").inputs).toEqual(defaultProject());
  });

  it("binds a narrower ClusterRole when one is configured", async () => {
    await run({ kubeconfig: kubeconfigFile(), repoURL: REPO, clusterRole: "tether-deployer" });
    const binding = one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding");
    expect(binding.inputs.roleRef.name).toBe("tether-deployer");
    // Another role is another binding (and another Pulumi resource): created before the old one is deleted.
    expect(binding.inputs.metadata.name).toBe("tether-agent-tether-deployer");
    expect(binding.name).toBe("clusterrolebinding-tether-agent-tether-deployer");
  });

  it("tether:namespaced declares no cluster-wide binding, and the RoleBindings of `tether install --namespaced`", async () => {
    await run({ kubeconfig: kubeconfigFile(), repoURL: REPO, namespaced: "true", deployNamespaces: "shop, web" });
    expect(declared.filter((d) => d.type === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")).toEqual([]);
    const rbac = (o: { kind: string }) => o.kind === "RoleBinding" || o.kind === "ClusterRole";
    const expected = (installManifests({ namespace: "tether-system", mode: "namespaced", namespaces: ["shop", "web"] }) as Manifest[]).filter(rbac);
    const got = declared.filter((d) => /rbac.authorization.k8s.io\/v1:(RoleBinding|ClusterRole)$/.test(d.type)).map((d) => d.inputs as Manifest);
    const key = (o: { kind: string; metadata?: { name?: string; namespace?: string } }) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
    expect(got.map(key).sort()).toEqual(expected.map(key).sort());
    for (const obj of expected) expect(got.find((g) => key(g) === key(obj)), key(obj)).toEqual(obj);
    // admin only in the namespaces it deploys to, never in another one.
    const admin = got.filter((g) => (g as { roleRef?: { name: string } }).roleRef?.name === "admin").map((g) => g.metadata.namespace).sort();
    expect(admin).toEqual(["shop", "web"]);
  });

  it("runs the agent non-root on a read-only root filesystem, over HTTPS from its own certificate, probed on /healthz and /readyz on every interface", async () => {
    await run({ kubeconfig: kubeconfigFile(), repoURL: REPO, agentImage: "registry.example.com/tether:1.2.3" });
    const deployment = one("kubernetes:apps/v1:Deployment").inputs;
    expect(deployment.metadata).toMatchObject({ name: "tether-agent", namespace: "tether-system" });
    const pod = deployment.spec.template.spec;
    expect(pod.serviceAccountName).toBe("tether-agent");
    const [container] = pod.containers;
    expect(container.image).toBe("registry.example.com/tether:1.2.3");
    const args = (container.args as string[]).join(" ");
    expect(args).toContain("--listen 0.0.0.0:8080");
    expect(args).toContain("--cache-dir /var/cache/tether");
    expect(args).toContain("--leader-elect");
    expect(args).toContain("--tls-cert-file /etc/tether/tls/tls.crt --tls-key-file /etc/tether/tls/tls.key");
    expect(args).not.toContain("--insecure-plain-http");
    expect(deployment.spec.replicas).toBe(2);
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "https", scheme: "HTTPS" });
    // Liveness starts once the agent answered: up to 2 minutes to start, not a restart loop.
    expect(container.startupProbe).toEqual({ httpGet: { path: "/healthz", port: "https", scheme: "HTTPS" }, periodSeconds: 2, failureThreshold: 60 });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "https", scheme: "HTTPS" });
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect((container.volumeMounts as { mountPath: string }[]).map((m) => m.mountPath).sort()).toEqual(["/etc/tether/tls", "/tmp", "/var/cache/tether"]);
    expect(pod.volumes).toEqual([{ name: "cache", emptyDir: {} }, { name: "tmp", emptyDir: {} },
      { name: "tls", secret: { secretName: "tether-agent-tls", defaultMode: 0o440 } }]);
    expect(one("kubernetes:core/v1:Service").inputs.spec.ports).toEqual([{ name: "https", port: 8080, targetPort: "https" }]);
    // The serving certificate's Secret, made once: its data is not compared again.
    const tls = declared.find((d) => d.type === "kubernetes:core/v1:Secret" && (d.inputs as Manifest).metadata.name === "tether-agent-tls");
    expect((tls?.inputs as { type?: string } | undefined)?.type).toBe("kubernetes.io/tls");
  });

  it("uses the image the Dockerfile builds when none is configured", async () => {
    await run({ kubeconfig: kubeconfigFile(), repoURL: REPO });
    expect(one("kubernetes:apps/v1:Deployment").inputs.spec.template.spec.containers[0].image).toBe(DEFAULT_AGENT_IMAGE);
  });

  it("creates the root Application with automated prune and selfHeal, cascading on delete", async () => {
    await run({ kubeconfig: kubeconfigFile(), repoURL: REPO, revision: "release", path: "clusters/prod" });
    const root = one("kubernetes:tether.dev/v1alpha1:Application").inputs;
    expect(root.metadata).toMatchObject({ name: "root", namespace: "tether-system", finalizers: [FINALIZER] });
    expect(root.spec).toEqual({
      project: "default",
      source: { repoURL: REPO, targetRevision: "release", path: "clusters/prod", directory: { recurse: true, exclude: "*/*/*" } },
      destination: { server: "https://kubernetes.default.svc", namespace: "tether-system" },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    });
  });

  it("defaults the root Application to main and components/", async () => {
    await run({ kubeconfig: kubeconfigFile(), repoURL: REPO });
    expect(one("kubernetes:tether.dev/v1alpha1:Application").inputs.spec.source).toMatchObject({ targetRevision: "main", path: "components" });
  });

  it("leaves out the finalizer when deletion must not cascade", async () => {
    await run({ kubeconfig: kubeconfigFile(), repoURL: REPO, cascade: "false" });
    expect(one("kubernetes:tether.dev/v1alpha1:Application").inputs.metadata.finalizers).toBeUndefined();
  });

  it("stores the age key as Secret tether-sops, entry identity.agekey", async () => {
    await run({ kubeconfig: kubeconfigFile(), repoURL: REPO, ageKey: AGE_KEY }, ["ageKey"]);
    const secret = named("kubernetes:core/v1:Secret", "tether-sops");
    expect(secret?.inputs.metadata.namespace).toBe("tether-system");
    // The provider marks a Secret's data secret as a whole.
    expect(isSecretInput(secret?.inputs.data)).toBe(true);
    expect(Buffer.from((reveal(secret?.inputs.data) as Record<string, string>)["identity.agekey"]!, "base64").toString()).toBe(`${AGE_KEY}\n`);
  });

  it("creates no key Secret without tether:ageKey", async () => {
    await run({ kubeconfig: kubeconfigFile(), repoURL: REPO });
    expect(named("kubernetes:core/v1:Secret", "tether-sops")).toBeUndefined();
  });

  it("stores repository credentials in a Secret labelled for the agent to find", async () => {
    await run({ kubeconfig: kubeconfigFile(), repoURL: REPO, repoUsername: "git", repoPassword: "token-123" }, ["repoPassword"]);
    const secret = named("kubernetes:core/v1:Secret", "tether-repository");
    expect(secret?.inputs.metadata.labels["tether.dev/secret-type"]).toBe("repository");
    expect(isSecretInput(secret?.inputs.data)).toBe(true);
    const data = Object.fromEntries(Object.entries(reveal(secret?.inputs.data) as Record<string, string>)
      .map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));
    expect(data).toEqual({ url: REPO, username: "git", password: "token-123" });
  });
});

/**
 * The objects without the agent's TLS Secrets, which each path generates (a new key each run): `tether
 * bootstrap` creates them once through cli/install/tls.ts, Pulumi declares them with their data kept.
 */
function generatedApart(objects: Manifest[]): Manifest[] {
  const tls = ["tether-agent-tls", "tether-agent-ca"];
  expect(objects.filter((o) => o.kind === "Secret" && tls.includes(o.metadata.name ?? "")).map((o) => o.metadata.name).sort()).toEqual([...tls].sort());
  return objects.filter((o) => !(o.kind === "Secret" && tls.includes(o.metadata.name ?? "")));
}

describe("one source with `tether bootstrap`", () => {
  it("declares exactly the objects `tether bootstrap` applies, field for field", async () => {
    await run({ kubeconfig: kubeconfigFile(), repoURL: REPO, ageKey: AGE_KEY, repoUsername: "git", repoPassword: "token-123",
      revision: "release", path: "clusters/prod", pollInterval: "30s" }, ["ageKey", "repoPassword"]);
    const key = (o: { kind: string; metadata: { name?: string } }) => `${o.kind}/${o.metadata.name ?? ""}`;
    const pulumiObjects = generatedApart(declared.filter((d) => d.type.startsWith("kubernetes:")).map((d) => reveal(d.inputs) as Manifest));
    const cliObjects = bootstrapManifests({
      agent: { namespace: "tether-system", image: DEFAULT_AGENT_IMAGE, pollInterval: "30s", replicas: 2 },
      root: { namespace: "tether-system", name: "root", repoURL: REPO, revision: "release", path: "clusters/prod", cascade: true },
      clusterRole: "cluster-admin", ageKey: AGE_KEY, credentials: { username: "git", password: "token-123" },
    });
    expect(pulumiObjects.map(key).sort()).toEqual(cliObjects.map(key).sort());
    const byKey = new Map(pulumiObjects.map((o) => [key(o), o]));
    for (const obj of cliObjects) expect(byKey.get(key(obj)), key(obj)).toEqual(obj);
  });

  it("in namespaced mode too", async () => {
    await run({ kubeconfig: kubeconfigFile(), repoURL: REPO, namespaced: "true", deployNamespaces: "shop" });
    const key = (o: { kind: string; metadata: { name?: string; namespace?: string } }) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;
    const pulumiObjects = generatedApart(declared.filter((d) => d.type.startsWith("kubernetes:")).map((d) => reveal(d.inputs) as Manifest));
    const cliObjects = bootstrapManifests({
      agent: { namespace: "tether-system", image: DEFAULT_AGENT_IMAGE, pollInterval: "60s", replicas: 2 },
      root: { namespace: "tether-system", name: "root", repoURL: REPO, revision: "main", path: "components", cascade: true },
      clusterRole: "cluster-admin", namespaced: true, deployNamespaces: ["shop"],
    });
    expect(pulumiObjects.map(key).sort()).toEqual(cliObjects.map(key).sort());
    const byKey = new Map(pulumiObjects.map((o) => [key(o), o]));
    for (const obj of cliObjects) expect(byKey.get(key(obj)), key(obj)).toEqual(obj);
  });
});

describe("tether:cluster=k3s", () => {
  it("installs k3s over SSH, reads its kubeconfig back and points it at the host", async () => {
    const out = await run({ cluster: "k3s", host: "203.0.113.10", user: "ubuntu", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----", repoURL: REPO }, ["privateKey"]);
    const install = one("command:remote:Command", "k3s-install").inputs;
    expect(isSecretInput(install.connection)).toBe(true);
    expect(reveal(install.connection)).toMatchObject({ host: "203.0.113.10", user: "ubuntu", port: 22, privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----" });
    expect(install.create).toContain("--tls-san 203.0.113.10");
    expect(one("command:remote:Command", "k3s-kubeconfig").inputs.create).toBe("sudo cat /etc/rancher/k3s/k3s.yaml");
    const kubeconfig = reveal(one("pulumi:providers:kubernetes").inputs.kubeconfig) as string;
    expect(kubeconfig).toContain("server: https://203.0.113.10:6443");
    expect(out.kubeconfig).toBe(kubeconfig);
    expect(out.kubeconfigIsSecret).toBe(true);
    expect(one("kubernetes:tether.dev/v1alpha1:Application").inputs.metadata.name).toBe("root");
  });

  it("runs the configured install command as root without sudo", async () => {
    await run({ cluster: "k3s", host: "k3s.example.com", k3sInstallCommand: "sh /opt/k3s-install.sh", repoURL: REPO });
    expect(one("command:remote:Command", "k3s-install").inputs.create).toBe("sh /opt/k3s-install.sh");
    expect(one("command:remote:Command", "k3s-kubeconfig").inputs.create).toBe("cat /etc/rancher/k3s/k3s.yaml");
  });
});

describe("tether:cluster=local", () => {
  it("starts this checkout's control plane and installs into it", async () => {
    const out = await run({ cluster: "local", repoURL: "file:///work/gitops" });
    const plane = one("command:local:Command").inputs;
    expect(plane.create).toContain("npm run -s cluster:up");
    expect(plane.delete).toBe("npm run -s cluster:down");
    expect(plane.dir).toBe(path.resolve(import.meta.dirname, ".."));
    expect(reveal(one("pulumi:providers:kubernetes").inputs)).toMatchObject({ kubeconfig: LOCAL_KUBECONFIG, deleteUnreachable: "true" });
    expect(out).toMatchObject({ kubeconfig: LOCAL_KUBECONFIG, kubeconfigIsSecret: true, namespace: "tether-system" });
  });
});

describe("configuration mistakes", () => {
  it.each([
    ["a missing repoURL", { kubeconfig: "kubeconfig" }, /tether:repoURL is not set.*pulumi config set tether:repoURL/],
    ["an unknown cluster mode", { cluster: "eks", repoURL: REPO }, /tether:cluster is "eks", which is not a cluster mode; use one of kubeconfig, k3s, local/],
    ["k3s without a host", { cluster: "k3s", repoURL: REPO }, /tether:host is not set.*pulumi config set tether:host/],
    ["kubeconfig mode without a kubeconfig", { repoURL: REPO }, /tether:kubeconfig is not set/],
    ["a username without a password", { kubeconfig: "kubeconfig", repoURL: REPO, repoUsername: "git" }, /both tether:repoUsername and tether:repoPassword/],
    ["a ClusterRole for a namespaced agent", { kubeconfig: "kubeconfig", repoURL: REPO, namespaced: "true", clusterRole: "x" }, /tether:clusterRole \(x\) and tether:namespaced are exclusive.*pulumi config rm tether:clusterRole/],
    ["deploy namespaces without namespaced mode", { kubeconfig: "kubeconfig", repoURL: REPO, deployNamespaces: "shop" }, /tether:deployNamespaces needs tether:namespaced.*pulumi config set tether:namespaced true/],
  ])("stops on %s with the command that fixes it", async (_what, config, message) => {
    await expect(run(config)).rejects.toThrow(message);
    expect(declared).toEqual([]);
  });
});
