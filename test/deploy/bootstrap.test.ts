// `tether bootstrap` against the real control plane: from a namespace that does not exist to an agent
// Deployment, its Secrets and the root Application; a second run changes nothing; and an agent (run
// here as a process, as the pod would run it) deploys the repository the root Application names.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "../../agent/version/version.ts";
import { repoRoot } from "../harness/paths.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { appReader, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-bootstrap";
const KEY_FILE = path.join(repoRoot, "test", "fixtures", "demo.agekey");
const { kubeconfigPath, kc, core, apps } = kube();
const reader = appReader(kc, NS);

let repo: TestRepo;
let agent: AgentProcess | undefined;
let head: string;

const bootstrap = (extra: readonly string[] = []) => cli(["bootstrap", "--repo", repo.url, "--path", "components", "--revision", "main",
  "--age-key-file", KEY_FILE, "-n", NS, "--replicas", "2", "--timeout", "90s", ...extra], { kubeconfig: kubeconfigPath });

beforeAll(async () => {
  repo = await createRepo();
  head = await repo.commit({
    "components/hello.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello-from-git\ndata:\n  greeting: hello\n",
  });
});

afterAll(async () => {
  await agent?.stop();
  await repo?.cleanup();
});

describe("tether bootstrap", () => {
  it("prints the manifests for --dry-run without a cluster and without the key", async () => {
    const dry = await cli(["bootstrap", "--repo", repo.url, "--age-key-file", KEY_FILE, "--dry-run", "-n", NS], { kubeconfig: "/nonexistent" });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("kind: Deployment");
    expect(dry.stdout).toContain("identity.agekey: <masked>");
    const key = (await readFile(KEY_FILE, "utf8")).split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1"))!;
    expect(dry.stdout).not.toContain(key);
    expect(dry.stdout).not.toContain(Buffer.from(key).toString("base64").slice(0, 24));
    expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).not.toContain(NS);
  });

  it("installs the agent, its key and the root Application into an empty namespace and waits for the agent", async () => {
    const first = await bootstrap();
    expect(first.exitCode, `${first.stdout}\n${first.stderr}`).toBe(0);
    expect(first.stdout).toContain(`Namespace/${NS} created`);
    expect(first.stdout).toContain(`Deployment/${NS}/tether-agent created`);
    expect(first.stdout).toContain(`Application/${NS}/root created`);

    const deployment = await apps.readNamespacedDeployment({ name: "tether-agent", namespace: NS });
    expect(deployment.spec?.replicas).toBe(2);
    expect(deployment.status?.availableReplicas).toBe(2);
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe(`tether:${VERSION}`);
    const secret = await core.readNamespacedSecret({ name: "tether-sops", namespace: NS });
    const stored = Buffer.from(secret.data?.["identity.agekey"] ?? "", "base64").toString();
    expect(stored).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]+\n$/);
    expect(await readFile(KEY_FILE, "utf8")).toContain(stored.trim());
    const root = await reader.get("root");
    expect(root.spec.source).toMatchObject({ repoURL: repo.url, targetRevision: "main", path: "components" });
  });

  it("changes nothing when run again", async () => {
    const again = await bootstrap();
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain("Nothing changed");
    expect(again.stdout).not.toMatch(/ (created|configured)$/m);
  });

  it("hands the cluster to Git: the agent deploys what the root Application names", async () => {
    agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
    await eventually("root Synced and Healthy at the repository's head", async () => {
      const a = await reader.get("root");
      return a && syncedAndHealthy(head)(a) ? a : undefined;
    }, 90_000);
    const cm = await core.readNamespacedConfigMap({ name: "hello-from-git", namespace: NS });
    expect(cm.data).toEqual({ greeting: "hello" });
  });

  it("reports the agent's version next to the client's", async () => {
    const version = await cli(["version", "--agent-url", `http://127.0.0.1:${agent!.port}`, "-o", "json"], { kubeconfig: kubeconfigPath });
    expect(version.exitCode, version.stderr).toBe(0);
    const parsed = JSON.parse(version.stdout) as { client: { version: string; commit: string }; agent: { version: string } };
    expect(parsed.client.version).toBe(VERSION);
    expect(parsed.agent.version).toBe(VERSION);
    // The suites run the bundle, which records its commit; the sources through tsx would say "source".
    expect(parsed.client.commit).not.toBe("source");
  });

  it("refuses a key file without an identity and changes nothing", async () => {
    const before = (await core.readNamespacedSecret({ name: "tether-sops", namespace: NS })).metadata?.resourceVersion;
    const bad = await bootstrap(["--age-key-file", path.join(repoRoot, "package.json")]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("package.json: no age identity");
    expect((await core.readNamespacedSecret({ name: "tether-sops", namespace: NS })).metadata?.resourceVersion).toBe(before);
  });
});
