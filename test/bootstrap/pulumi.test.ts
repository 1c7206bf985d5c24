// `pulumi up` with the real engine: the Pulumi CLI, its Node.js language host and the Kubernetes
// provider built from Go modules (bash tools/build.sh pulumi), an offline file backend, and the
// bootstrap program against a control plane of its own. The Pulumi tools are built only on request
// (their cold build costs more than every other tool together), so without them this file is skipped.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CoreV1Api, CustomObjectsApi, KubeConfig, ApiextensionsV1Api, AppsV1Api } from "@kubernetes/client-node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP, VERSION, type Application } from "../../agent/api/types.ts";
import { DEFAULT_REPLICAS } from "../../bootstrap/manifests.ts";
import { startControlPlane, type ControlPlane } from "../harness/controlplane.ts";
import { pathWithTools, repoRoot, toolsBinDir } from "../harness/paths.ts";
import { startAgent, type AgentProcess } from "../support/agent.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually } from "../support/kube.ts";

const ENGINE = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes"];
const engineBuilt = ENGINE.every((bin) => existsSync(path.join(toolsBinDir, bin)));
const NS = "tether-system";

const HELLO = `apiVersion: v1
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
  text: deployed by the root Application
`;

describe.skipIf(!engineBuilt)("pulumi up with the real engine (bash tools/build.sh pulumi)", () => {
  let plane: ControlPlane;
  let repo: TestRepo;
  let work: string;
  let project: string;
  let agent: AgentProcess | undefined;
  let kc: KubeConfig;

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

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "tether-pulumi-e2e-"));
    // A control plane of its own: `pulumi destroy` deletes the cluster-scoped CRDs and binding,
    // which the other suites' Applications on the shared one would hold up.
    plane = await startControlPlane({ dir: path.join(work, "cluster"), ownerPid: process.pid });
    kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfigPath);
    repo = await createRepo();
    await repo.commit({ "components/hello.yaml": HELLO }, "hello");
    // The project file in a directory of its own under the ignored .tether/, so the stack file Pulumi
    // writes stays out of the work tree while node_modules is still found from it.
    await mkdir(path.join(repoRoot, ".tether"), { recursive: true });
    project = await mkdtemp(path.join(repoRoot, ".tether", "pulumi-e2e-"));
    const main = path.relative(project, path.join(repoRoot, "bootstrap", "main.mjs"));
    const pulumiYaml = await readFile(path.join(repoRoot, "Pulumi.yaml"), "utf8");
    await writeFile(path.join(project, "Pulumi.yaml"), pulumiYaml.replace(/^main: .*$/m, `main: ${main}`));
    await mkdir(path.join(work, "state"));
    await ok(["login", `file://${path.join(work, "state")}`]);
    await ok(["stack", "init", "e2e"]);
    await ok(["config", "set", "tether:cluster", "kubeconfig"]);
    await ok(["config", "set", "tether:kubeconfig", plane.kubeconfigPath]);
    await ok(["config", "set", "tether:repoURL", repo.url]);
    await ok(["config", "set", "--secret", "tether:ageKey"], { input: await readFile(path.join(repoRoot, "test/fixtures/demo.agekey"), "utf8") });
  }, 240_000);

  afterAll(async () => {
    await agent?.stop();
    await plane?.stop();
    await repo?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
    if (project) await rm(project, { recursive: true, force: true });
  });

  it("creates the namespace, CRDs, key Secret, agent and root Application", async () => {
    const up = await ok(["up", "--yes", "--skip-preview"]);
    expect(up.stdout).toMatch(/Resources:\s+\+ \d+ created/);
    const crds = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    expect(crds.items.map((c) => c.metadata?.name)).toEqual(expect.arrayContaining(["applications.tether.dev", "appprojects.tether.dev"]));
    const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: "tether-sops", namespace: NS });
    expect(Object.keys(secret.data ?? {})).toEqual(["identity.agekey"]);
    const deployment = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: "tether-agent", namespace: NS });
    // Two replicas by default (a standby that takes the Lease when the leader goes), both ready.
    expect(deployment.spec?.replicas).toBe(DEFAULT_REPLICAS);
    expect(deployment.status?.readyReplicas).toBe(DEFAULT_REPLICAS);
    const root = await rootApp();
    expect(root.spec.source).toMatchObject({ repoURL: repo.url, targetRevision: "main", path: "components" });
    expect(root.metadata?.finalizers).toEqual(["tether.dev/resources-finalizer"]);

    const outputs = JSON.parse((await ok(["stack", "output", "--json", "--show-secrets"])).stdout) as Record<string, string>;
    expect(outputs).toMatchObject({ namespace: NS, rootApplication: "root" });
    expect(outputs.kubeconfig).toBe(await readFile(plane.kubeconfigPath, "utf8"));
    const plain = JSON.parse((await ok(["stack", "output", "--json"])).stdout) as Record<string, string>;
    expect(plain.kubeconfig).toBe("[secret]");
  });

  it("hands over to the agent, which syncs the root Application from Git", async () => {
    // kwok runs no containers: the agent runs out of cluster, as `tether agent` against the same API server.
    agent = await startAgent({ kubeconfig: plane.kubeconfigPath, namespace: NS });
    const synced = await eventually("root Synced and Healthy", async () => {
      const app = await rootApp();
      return app.status?.sync?.status === "Synced" && app.status.health?.status === "Healthy" ? app : undefined;
    }, 120_000);
    expect(synced.status?.resources?.map((r) => `${r.kind}/${r.name}`).sort()).toEqual(["ConfigMap/greeting", "Namespace/hello-bootstrap"]);
    const greeting = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: "greeting", namespace: "hello-bootstrap" });
    expect(greeting.data?.text).toBe("deployed by the root Application");
  });

  it("has nothing to change on a second run, with the agent's status on the root Application", async () => {
    expect((await rootApp()).status?.sync?.status).toBe("Synced");
    await ok(["preview", "--expect-no-changes", "--diff"]);
    await ok(["up", "--yes", "--expect-no-changes", "--refresh"]);
    expect((await rootApp()).status?.sync?.status).toBe("Synced");
  });

  it("removes it all with pulumi destroy, cascading through the root Application", async () => {
    await ok(["destroy", "--yes", "--skip-preview"]);
    const core = kc.makeApiClient(CoreV1Api);
    // The finalizer: the agent deleted what the root Application deployed before the Application went.
    await eventually("hello-bootstrap gone", async () => {
      const list = await core.listNamespace();
      return list.items.some((n) => n.metadata?.name === "hello-bootstrap" && !n.metadata.deletionTimestamp) ? undefined : true;
    }, 60_000);
    const crds = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    expect(crds.items.filter((c) => c.spec.group === GROUP)).toEqual([]);
    const namespaces = await core.listNamespace();
    expect(namespaces.items.filter((n) => n.metadata?.name === NS && !n.metadata.deletionTimestamp)).toEqual([]);
  });
});
