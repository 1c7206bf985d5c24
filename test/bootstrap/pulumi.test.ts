// `pulumi up` with the real engine, as a user runs it: the Pulumi CLI, its Node.js language host and the
// Kubernetes provider built from Go modules (bash tools/build.sh pulumi), an offline file backend, and the
// bootstrap program against a control plane of its own with a real node (kubelet and containerd,
// test/harness/node.ts), so the agent Pulumi declares runs as a pod from the image tools/image builds.
// The Pulumi tools are built only on request (their cold build costs more than every other tool
// together), so without them this file is skipped.
//
// The one change to the program is a stack transformation in the test's own entry point that puts the
// agent's Deployment on the real node (test/harness/node.ts#onRealNode: its toleration, the host's network
// and the API server's address, as this cluster has no pod network or kube-proxy); everything else is
// bootstrap/index.ts as Pulumi.yaml runs it.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  ApiextensionsV1Api, AppsV1Api, AuthorizationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, RbacAuthorizationV1Api, Watch,
  type V1ClusterRoleBinding,
} from "@kubernetes/client-node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP, VERSION, type Application } from "../../agent/api/types.ts";
import { buildImage } from "../../tools/image/build.ts";
import { startControlPlane, type ControlPlane } from "../harness/controlplane.ts";
import { freePorts, realNodeUnavailable, serveGit, startNode, type GitServer, type RealNode } from "../harness/node.ts";
import { pathWithTools, repoRoot, toolsBinDir } from "../harness/paths.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually } from "../support/kube.ts";

const ENGINE = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes"];
const engineBuilt = ENGINE.every((bin) => existsSync(path.join(toolsBinDir, bin)));
const NS = "tether-system";
const AGENT_SA = `system:serviceaccount:${NS}:tether-agent`;
const AGENT_LABELS = "app.kubernetes.io/name=tether,app.kubernetes.io/component=agent";

const hello = (text: string) => `apiVersion: v1
kind: Namespace
metadata:
  name: hello-bootstrap
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: greeting
  namespace: hello-bootstrap
data:
  text: ${text}
`;

/** The test's entry point: the stack transformation that places the agent, then Pulumi.yaml's program. */
const entryPoint = (project: string) => `import * as pulumi from "@pulumi/pulumi";
import { register } from "tsx/esm/api";

register();
const { onRealNode } = await import(${JSON.stringify(path.relative(project, path.join(repoRoot, "test/harness/node.ts")))});
const placement = JSON.parse(process.env.TETHER_E2E_PLACEMENT);
pulumi.runtime.registerStackTransformation(({ type, props, opts }) =>
  type === "kubernetes:apps/v1:Deployment" ? { props: onRealNode(props, placement), opts } : undefined);
const { default: bootstrap } = await import(${JSON.stringify(path.relative(project, path.join(repoRoot, "bootstrap/index.ts")))});
export default bootstrap;
`;

describe.skipIf(!engineBuilt)("pulumi up with the real engine (bash tools/build.sh pulumi)", () => {
  let plane: ControlPlane;
  let node: RealNode | undefined;
  let git: GitServer | undefined;
  let repo: TestRepo;
  let repoURL: string;
  let head: string;
  let work: string;
  let project: string;
  let kc: KubeConfig;
  let placement: string;
  /** What the cluster held before the first `pulumi up`: `pulumi destroy` must leave exactly this. */
  let before: Snapshot;

  /** The CLI as a user runs it, in the project directory, offline. */
  const pulumi = async (args: readonly string[], opts: { input?: string } = {}) => {
    const result = await execa(path.join(toolsBinDir, "pulumi"), [...args, "--non-interactive"], {
      cwd: project, reject: false, timeout: 600_000, ...(opts.input === undefined ? {} : { input: opts.input }),
      env: {
        PATH: pathWithTools(),
        PULUMI_HOME: path.join(work, "pulumi-home"),
        PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "bootstrap-e2e",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        NO_COLOR: "1",
        TETHER_E2E_PLACEMENT: placement,
      },
    });
    return { ...result, output: `$ pulumi ${args.join(" ")}\n${result.stdout}\n${result.stderr}` };
  };
  const ok = async (args: readonly string[], opts: { input?: string } = {}) => {
    const result = await pulumi(args, opts);
    expect(result.exitCode, result.output).toBe(0);
    return result;
  };

  const rootApp = () => kc.makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: "applications", name: "root" }) as Promise<Application>;
  /** The root Application Synced and Healthy at `revision`, from the agent pod. */
  const rootSyncedAt = (revision: string, what: string) => eventually(what, async () => {
    const app = await rootApp().catch(() => undefined);
    return app?.status?.sync?.status === "Synced" && app.status.sync.revision === revision && app.status.health?.status === "Healthy" ? app : undefined;
  }, 180_000).catch(async (err: Error) => { throw new Error(`${err.message}\n${await diagnostics()}`); });

  const agentBindings = async () => (await kc.makeApiClient(RbacAuthorizationV1Api).listClusterRoleBinding({ labelSelector: AGENT_LABELS })).items;
  /** Whether the agent's ServiceAccount may do this, as the API server decides it. */
  const agentMay = async (attributes: { verb: string; resource: string; group?: string; namespace?: string }) => {
    const review = await kc.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: { spec: { user: AGENT_SA, groups: ["system:serviceaccounts", `system:serviceaccounts:${NS}`], resourceAttributes: attributes } },
    });
    return review.status?.allowed ?? false;
  };

  async function agentPod() {
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS, labelSelector: AGENT_LABELS });
    return pods.items.find((p) => !p.metadata?.deletionTimestamp);
  }

  /** The agent's pod and the node's logs, for a failure's message. */
  async function diagnostics(): Promise<string> {
    const pod = await agentPod().catch(() => undefined);
    const tail = async (f: string) => node ? (await readFile(path.join(node.dir, f), "utf8").catch(() => "")).split("\n").slice(-20).join("\n") : "";
    return `agent pod: ${JSON.stringify({ node: pod?.spec?.nodeName, status: pod?.status?.containerStatuses }).slice(0, 2000)}\n`
      + `root: ${JSON.stringify((await rootApp().catch(() => undefined))?.status ?? {}).slice(0, 2000)}\nkubelet.log:\n${await tail("kubelet.log")}`;
  }

  beforeAll(async () => {
    const unavailable = realNodeUnavailable();
    if (unavailable) throw new Error(`the real node cannot start here: ${unavailable}`);
    work = await mkdtemp(path.join(os.tmpdir(), "tether-pulumi-e2e-"));
    // A control plane of its own: `pulumi destroy` deletes the cluster-scoped CRDs and binding,
    // which the other suites' Applications on the shared one would hold up.
    plane = await startControlPlane({ dir: path.join(work, "cluster"), ownerPid: process.pid });
    kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfigPath);
    const server = kc.getCurrentCluster()!.server;
    const image = await buildImage({ log: (l) => console.error(`[image] ${l}`) });
    node = await startNode({ planeDir: path.join(work, "cluster"), server, kubeconfigPath: plane.kubeconfigPath, ownerPid: process.pid });
    await node.importImage(image.layout);
    const [port] = await freePorts(1) as [number];
    placement = JSON.stringify({ node: node.name, server, port });

    repo = await createRepo();
    head = await repo.commit({ "components/hello.yaml": hello("deployed by the root Application") }, "hello");
    const bare = repo.url.replace(/^file:\/\//, "");
    git = await serveGit(path.dirname(bare), { ownerPid: process.pid });
    repoURL = `${git.url}${path.basename(bare)}`;

    // The project file in a directory of its own under the ignored .tether/, so the stack file Pulumi
    // writes stays out of the work tree while node_modules is still found from it.
    await mkdir(path.join(repoRoot, ".tether"), { recursive: true });
    project = await mkdtemp(path.join(repoRoot, ".tether", "pulumi-e2e-"));
    await writeFile(path.join(project, "main.mjs"), entryPoint(project));
    const pulumiYaml = await readFile(path.join(repoRoot, "Pulumi.yaml"), "utf8");
    await writeFile(path.join(project, "Pulumi.yaml"), pulumiYaml.replace(/^main: .*$/m, "main: main.mjs"));
    await mkdir(path.join(work, "state"));
    await ok(["login", `file://${path.join(work, "state")}`]);
    before = await snapshot(kc);
  }, 900_000);

  afterAll(async () => {
    await node?.stop();
    await plane?.stop();
    git?.stop();
    await repo?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
    if (project) await rm(project, { recursive: true, force: true });
  }, 120_000);

  it.each([
    ["no repository", [], /tether:repoURL is not set; it is the Git repository the agent deploys: pulumi config set tether:repoURL /],
    ["a cluster mode that does not exist", [["tether:repoURL", "https://git.example.com/gitops.git"], ["tether:cluster", "kind"]],
      /tether:cluster is "kind", which is not a cluster mode; use one of kubeconfig, k3s, local: pulumi config set tether:cluster kubeconfig/],
  ])("stops a stack configured with %s before it creates anything, with the command that fixes it", async (_, settings, message) => {
    const stack = `bad-${Math.random().toString(36).slice(2, 8)}`;
    await ok(["stack", "init", stack]);
    await ok(["config", "set", "tether:kubeconfig", plane.kubeconfigPath]);
    for (const [key, value] of settings) await ok(["config", "set", key!, value!]);
    const up = await pulumi(["up", "--yes", "--skip-preview"]);
    expect(up.exitCode, up.output).not.toBe(0);
    expect(up.output).toMatch(message);
    // The message alone, no stack trace of the program.
    expect(up.output).not.toMatch(/^\s+at .*\.(ts|js|mjs):\d+/m);
    const state = JSON.parse((await ok(["stack", "export"])).stdout) as { deployment?: { resources?: { type: string }[] } };
    expect((state.deployment?.resources ?? []).filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
    expect(await snapshot(kc)).toEqual(before);
    await ok(["stack", "rm", "--yes", "--force", stack]);
  });

  it("previews the install in resource names a platform engineer reads, before anything exists", async () => {
    await ok(["stack", "init", "e2e"]);
    await ok(["config", "set", "tether:cluster", "kubeconfig"]);
    await ok(["config", "set", "tether:kubeconfig", plane.kubeconfigPath]);
    await ok(["config", "set", "tether:repoURL", repoURL]);
    // One real node and the host's network: two agent pods would want one port.
    await ok(["config", "set", "tether:replicas", "1"]);
    await ok(["config", "set", "tether:pollInterval", "3s"]);
    await ok(["config", "set", "--secret", "tether:ageKey"], { input: await readFile(path.join(repoRoot, "test/fixtures/demo.agekey"), "utf8") });
    const preview = await ok(["preview"]);
    const created = preview.stdout.split("\n").filter((l) => /\bcreate\s*$/.test(l));
    const names = created.map((l) => /(\S+)\s+create\s*$/.exec(l)?.[1]);
    expect(names).toEqual(expect.arrayContaining([
      "customresourcedefinition-applications.tether.dev", "namespace-tether-system", "serviceaccount-tether-agent",
      "clusterrolebinding-tether-agent", "appproject-default", "secret-sops-key", "agent", "root-application",
    ]));
    // Names, never a generated suffix (Pulumi's auto-naming): what the cluster will hold is what the preview says.
    for (const name of names) expect(name, preview.stdout).not.toMatch(/-[0-9a-f]{7,}$/);
    expect(preview.stdout).toMatch(/\+ \d+ to create/);
    expect(await snapshot(kc)).toEqual(before);
  });

  it("creates everything and the agent runs as a pod on the real node, which syncs the root Application", async () => {
    const up = await ok(["up", "--yes", "--skip-preview"]);
    expect(up.stdout).toMatch(/Resources:\s+\+ \d+ created/);
    const crds = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    expect(crds.items.map((c) => c.metadata?.name)).toEqual(expect.arrayContaining(["applications.tether.dev", "appprojects.tether.dev"]));
    const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: "tether-sops", namespace: NS });
    expect(Object.keys(secret.data ?? {})).toEqual(["identity.agekey"]);
    // pulumi up waited for the rollout: the pod is Running and Ready on the real node.
    const deployment = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: "tether-agent", namespace: NS });
    expect(deployment.status?.readyReplicas).toBe(1);
    const pod = (await agentPod())!;
    expect(pod.spec?.nodeName).toBe(node!.name);
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
    const root = await rootSyncedAt(head, "root Synced and Healthy from the agent pod");
    expect(root.spec.source).toMatchObject({ repoURL, targetRevision: "main", path: "components" });
    expect(root.metadata?.finalizers).toEqual(["tether.dev/resources-finalizer"]);
    expect(root.status?.resources?.map((r) => `${r.kind}/${r.name}`).sort()).toEqual(["ConfigMap/greeting", "Namespace/hello-bootstrap"]);
    const greeting = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: "greeting", namespace: "hello-bootstrap" });
    expect(greeting.data?.text).toBe("deployed by the root Application");

    const outputs = JSON.parse((await ok(["stack", "output", "--json", "--show-secrets"])).stdout) as Record<string, string>;
    expect(outputs).toMatchObject({ namespace: NS, rootApplication: "root" });
    expect(outputs.kubeconfig).toBe(await readFile(plane.kubeconfigPath, "utf8"));
    const plain = JSON.parse((await ok(["stack", "output", "--json"])).stdout) as Record<string, string>;
    expect(plain.kubeconfig).toBe("[secret]");
  });

  it("has nothing to change on a second run, with the agent's status on the root Application", async () => {
    await ok(["preview", "--expect-no-changes", "--diff"]);
    await ok(["up", "--yes", "--expect-no-changes", "--refresh"]);
    expect((await rootApp()).status?.sync?.status).toBe("Synced");
  });

  it("replaces the binding when tether:clusterRole changes, with no moment without one", async () => {
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    // A role as wide as cluster-admin under another name, so the agent keeps deploying what Git holds.
    await rbac.createClusterRole({ body: { metadata: { name: "tether-e2e-deployer" }, rules: [
      { apiGroups: ["*"], resources: ["*"], verbs: ["*"] }, { nonResourceURLs: ["*"], verbs: ["*"] },
    ] } });
    await ok(["config", "set", "tether:clusterRole", "tether-e2e-deployer"]);
    const preview = await ok(["preview", "--diff"]);
    const change = (sign: string, verb: string, name: string) =>
      new RegExp(`\\${sign} kubernetes:rbac\\.authorization\\.k8s\\.io/v1:ClusterRoleBinding: \\(${verb}\\)\\n\\s+(\\[id=[^\\]]+\\]\\n\\s+)?\\[urn=[^\\]]*::${name}\\]`);
    expect(preview.stdout).toMatch(change("+", "create", "clusterrolebinding-tether-agent-tether-e2e-deployer"));
    expect(preview.stdout).toMatch(change("-", "delete", "clusterrolebinding-tether-agent"));
    expect(preview.stdout).toMatch(/\+ 1 to create\n\s+- 1 to delete/);

    // Every change to the agent's bindings while pulumi up runs, from a watch (which misses none).
    const bound = new Set((await agentBindings()).map((b) => b.metadata!.name!));
    const counts: number[] = [bound.size];
    const events: string[] = [];
    const watch = await new Watch(kc).watch("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", { labelSelector: AGENT_LABELS },
      (type: string, b: V1ClusterRoleBinding) => {
        events.push(`${type} ${b.metadata?.name}`);
        if (type === "DELETED") bound.delete(b.metadata!.name!);
        else bound.add(b.metadata!.name!);
        counts.push(bound.size);
      }, () => undefined);
    try {
      await ok(["up", "--yes", "--skip-preview"]);
      await eventually("the old binding's deletion seen", () => Promise.resolve(bound.has("tether-agent") ? undefined : true), 10_000);
    } finally {
      watch.abort();
    }
    expect(events).toEqual(expect.arrayContaining(["ADDED tether-agent-tether-e2e-deployer", "DELETED tether-agent"]));
    expect(events.indexOf("ADDED tether-agent-tether-e2e-deployer")).toBeLessThan(events.indexOf("DELETED tether-agent"));
    expect(Math.min(...counts), events.join(", ")).toBeGreaterThanOrEqual(1);
    expect((await agentBindings()).map((b) => `${b.metadata?.name}:${b.roleRef.name}`)).toEqual(["tether-agent-tether-e2e-deployer:tether-e2e-deployer"]);
    // The agent deploys on under the new binding.
    const next = await repo.commit({ "components/hello.yaml": hello("under tether-e2e-deployer") }, "under the new role");
    await rootSyncedAt(next, "the next commit synced under the new binding");
    await ok(["config", "rm", "tether:clusterRole"]);
    await ok(["up", "--yes", "--skip-preview"]);
    await rbac.deleteClusterRole({ name: "tether-e2e-deployer" });
  });

  it("switches tether:namespaced on (no cluster-wide rights) and off again (the agent deploys cluster-wide again)", async () => {
    await ok(["config", "set", "tether:namespaced", "true"]);
    await ok(["up", "--yes", "--skip-preview"]);
    expect(await agentBindings()).toEqual([]);
    const roleBindings = await kc.makeApiClient(RbacAuthorizationV1Api).listNamespacedRoleBinding({ namespace: NS, labelSelector: AGENT_LABELS });
    expect(roleBindings.items.map((b) => `${b.metadata?.name}:${b.roleRef.name}`).sort())
      .toEqual(["tether-agent-impersonate:tether-agent-impersonate", "tether-agent-namespaced:tether-agent-namespaced", "tether-agent:admin"]);
    expect(await agentMay({ verb: "create", resource: "configmaps", namespace: NS })).toBe(true);
    expect(await agentMay({ verb: "create", resource: "namespaces" })).toBe(false);
    expect(await agentMay({ verb: "list", resource: "configmaps", namespace: "hello-bootstrap" })).toBe(false);
    expect((await agentPod())?.status?.containerStatuses?.[0]?.ready).toBe(true);

    await ok(["config", "rm", "tether:namespaced"]);
    await ok(["up", "--yes", "--skip-preview"]);
    expect((await agentBindings()).map((b) => `${b.metadata?.name}:${b.roleRef.name}`)).toEqual(["tether-agent:cluster-admin"]);
    expect((await kc.makeApiClient(RbacAuthorizationV1Api).listNamespacedRoleBinding({ namespace: NS, labelSelector: AGENT_LABELS })).items).toEqual([]);
    expect(await agentMay({ verb: "create", resource: "namespaces" })).toBe(true);
    const next = await repo.commit({ "components/hello.yaml": hello("cluster-wide again") }, "cluster-wide again");
    await rootSyncedAt(next, "the next commit synced after namespaced mode");
    const greeting = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: "greeting", namespace: "hello-bootstrap" });
    expect(greeting.data?.text).toBe("cluster-wide again");
  });

  it("leaves the cluster as it was with pulumi destroy: no finalizer stuck, no orphan namespace", async () => {
    await ok(["destroy", "--yes", "--skip-preview"]);
    // Everything, including what the root Application deployed (its finalizer cascaded through the agent pod),
    // is gone, not merely terminating.
    await eventually("the cluster as before pulumi up", async () => {
      const now = await snapshot(kc);
      return JSON.stringify(now) === JSON.stringify(before) ? now : undefined;
    }, 120_000).catch(async (err: Error) => { throw new Error(`${err.message}\nnow: ${JSON.stringify(await snapshot(kc))}\nbefore: ${JSON.stringify(before)}`); });
    const state = JSON.parse((await ok(["stack", "export"])).stdout) as { deployment?: { resources?: unknown[] } };
    expect(state.deployment?.resources ?? []).toEqual([]);
  });
});

/** The cluster-scoped objects an install touches, by name (namespaces whether or not terminating). */
interface Snapshot {
  readonly namespaces: string[];
  readonly crds: string[];
  readonly clusterRoles: string[];
  readonly clusterRoleBindings: string[];
}

async function snapshot(kc: KubeConfig): Promise<Snapshot> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const names = (list: { items: { metadata?: { name?: string } }[] }) => list.items.map((o) => o.metadata?.name ?? "").sort();
  return {
    namespaces: names(await kc.makeApiClient(CoreV1Api).listNamespace()),
    crds: names(await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition()),
    clusterRoles: names(await rbac.listClusterRole()).filter((n) => n !== "tether-e2e-deployer"),
    clusterRoleBindings: names(await rbac.listClusterRoleBinding()),
  };
}
