// The agent image as it ships, built without a Docker engine (tools/image: the Dockerfile's recipe,
// packed as an OCI layout) and run by runc as the Deployment runs it: uid 10001, read-only root
// filesystem, no capabilities, emptyDirs for /tmp and the cache. It talks to the API server the way a
// pod does, with nothing but in-cluster configuration: a TokenRequest token of the agent's
// ServiceAccount, the cluster CA and namespace mounted at /var/run/secrets/kubernetes.io/serviceaccount,
// and KUBERNETES_SERVICE_HOST/PORT. So this proves the image, in-cluster config and the RBAC that
// `tether bootstrap` grants (the apply, and the leader Lease).
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "../../agent/version/version.ts";
import { generateCa, issueServing } from "../../bootstrap/certificate.ts";
import { agentArgs, CACHE_DIR, TLS_DIR } from "../../bootstrap/manifests.ts";
import { buildImage, finalStageConfig, stageRuns, unpackRootfs, type BuiltImage } from "../../tools/image/build.ts";
import { repoRoot } from "../harness/paths.ts";
import { runContainer, type Container } from "../harness/runc.ts";
import { cli, httpsGet } from "../support/agent.ts";
import { appReader, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const run = promisify(execFile);
const NS = "tether-e2e-image";
const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const { kubeconfigPath, kc, core } = kube();
const leases = kc.makeApiClient(CoordinationV1Api);
const reader = appReader(kc, NS);

/** The CA of the agent's serving certificate, as `tether install` makes one. */
const ca = generateCa("tether-agent-ca.test");
let image: BuiltImage;
let rootfs: string;
let repo: TestRepo;
let head: string;
let secrets: string;
let container: Container | undefined;
let port: number;

const freePort = () => new Promise<number>((resolve, reject) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const address = server.address();
    server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
  });
});

beforeAll(async () => {
  // `npm test` builds it just before (tools/image/build.ts); here it is the cached image, checked and reused.
  image = await buildImage({ log: (l) => console.error(`[image] ${l}`) });
  rootfs = await unpackRootfs(image);

  repo = await createRepo();
  head = await repo.commit({
    "components/hello.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello-from-image\ndata:\n  greeting: hello\n",
  });
  // The agent runs as uid 10001 and reads the bare repository through a read-only bind mount.
  await run("chown", ["-R", "10001:10001", path.dirname(repo.url.replace(/^file:\/\//, ""))]);

  const bootstrap = await cli(["bootstrap", "--repo", repo.url, "--path", "components", "-n", NS, "--replicas", "1", "--no-wait"],
    { kubeconfig: kubeconfigPath });
  expect(bootstrap.exitCode, `${bootstrap.stdout}\n${bootstrap.stderr}`).toBe(0);

  // What the kubelet mounts into the pod: a bound token of the agent's ServiceAccount, the CA, the namespace.
  const token = await core.createNamespacedServiceAccountToken({
    name: "tether-agent", namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = kc.getCurrentCluster()!;
  secrets = await mkdtemp(path.join(os.tmpdir(), "tether-sa-"));
  await writeFile(path.join(secrets, "token"), token.status!.token);
  await writeFile(path.join(secrets, "ca.crt"), cluster.caData ? Buffer.from(cluster.caData, "base64") : await readFile(cluster.caFile!));
  await writeFile(path.join(secrets, "namespace"), NS);
  const serving = issueServing(ca, "tether-agent", { hosts: ["127.0.0.1"] });
  await mkdir(path.join(secrets, "tls"));
  await writeFile(path.join(secrets, "tls", "tls.crt"), serving.cert);
  await writeFile(path.join(secrets, "tls", "tls.key"), serving.key);
  await run("chmod", ["-R", "a+rX", secrets]);

  const server = new URL(cluster.server);
  port = await freePort();
  const args = agentArgs({ namespace: NS, image: image.ref, pollInterval: "3s", replicas: 1 })
    .map((a) => (a === "0.0.0.0:8080" ? `127.0.0.1:${port}` : a));
  container = await runContainer({
    rootfs, config: image.config,
    args: [...args, "--allow-local-repos"],
    env: { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port },
    mounts: [
      { destination: "/tmp", owner: 10001 },
      { destination: CACHE_DIR, owner: 10001 },
      { destination: SA_DIR, source: secrets },
      // The Deployment's Secret tether-agent-tls, as the kubelet mounts it.
      { destination: TLS_DIR, source: path.join(secrets, "tls") },
      { destination: path.dirname(repo.url.replace(/^file:\/\//, "")), source: path.dirname(repo.url.replace(/^file:\/\//, "")) },
    ],
  });
  await container.pid();
  await eventually("the agent in the container answering on its port", async () => ((await httpsGet(`https://127.0.0.1:${port}/healthz`, ca.cert).catch(() => ({ status: 0 }))).status === 200 ? true : undefined), 60_000)
    .catch((err: Error) => { throw new Error(`${err.message}\ncontainer output:\n${container!.logs().slice(-4000)}`); });
}, 1_800_000);

afterAll(async () => {
  if (container) {
    await container.stop();
    console.error(`[image] agent container output (last 3000 chars):\n${container.logs().slice(-3000)}`);
  }
  if (secrets) await rm(secrets, { recursive: true, force: true });
  await repo?.cleanup();
});

describe("the agent image built without a Docker engine", () => {
  it("takes its config from the Dockerfile's final stage, whose root filesystem the same recipe makes", async () => {
    const dockerfile = await readFile(path.join(repoRoot, "Dockerfile"), "utf8");
    expect(image.config).toEqual(finalStageConfig(dockerfile));
    expect(image.config.User).toBe("10001:10001");
    expect(image.config.Entrypoint).toEqual(["node", "/app/dist/tether.mjs"]);
    // The Dockerfile's rootfs stage runs the same script, both parts, as tools/image/build.ts does.
    const runs = stageRuns(dockerfile, "rootfs").join("\n");
    expect(runs).toMatch(/rootfs\.sh debian /);
    expect(runs).toMatch(/rootfs\.sh app \/rootfs /);
    const layout = JSON.parse(await readFile(path.join(image.layout, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    expect(layout.manifests.map((m) => m.digest)).toEqual([image.manifestDigest]);
  });

  it("holds node, git and the pinned tools, and nothing of the dev toolchain", async () => {
    const found = (await run("find", [rootfs, "-xdev", "(", "-name", "node_modules", "-o", "-name", "tsx", "-o", "-name", "npm",
      "-o", "-name", "npx", "-o", "-name", "typescript", "-o", "-name", "*.ts", "-o", "-name", "vitest", ")", "-print"])).stdout.trim();
    expect(found).toBe("");
    const versions = await container!.exec(["sh", "-c",
      "node --version && git --version && sops --version --disable-version-check && helm version --short && kustomize version && age --version "
      + "&& echo '{a: 1+1}' > /tmp/x.jsonnet && tether-jsonnet --root /tmp /tmp/x.jsonnet"]);
    expect(versions.exitCode, versions.output).toBe(0);
    expect(versions.output).toMatch(/^v2\d\.\d+\.\d+$/m);
    expect(versions.output).toMatch(/^git version 2\./m);
    expect(versions.output).toMatch(/sops 3\.13\.3/);
    expect(versions.output).toMatch(/v3\.22\.0/);
    expect(versions.output).toMatch(/v5\.8\.2/);
    expect(versions.output).toMatch(/v1\.3\.2/);
    expect(versions.output).toMatch(/"a": 2/);
  });

  it("runs as uid 10001 on a read-only root filesystem, with only its emptyDirs writable", async () => {
    const status = await readFile(`/proc/${await container!.pid()}/status`, "utf8");
    expect(status).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    const root = await container!.exec(["touch", "/app/written"]);
    expect(root.exitCode).not.toBe(0);
    expect(root.output).toContain("Read-only file system");
    expect((await container!.exec(["touch", "/tmp/written", `${CACHE_DIR}/written`])).exitCode).toBe(0);
  });

  it("syncs the repository with in-cluster credentials alone: the ServiceAccount token, its RBAC and the Lease", async () => {
    await eventually("root Synced and Healthy at the repository's head", async () => {
      const a = await reader.get("root");
      return a && syncedAndHealthy(head)(a) ? a : undefined;
    }, 120_000).catch((err: Error) => { throw new Error(`${err.message}\nagent output:\n${container!.logs().slice(-4000)}`); });
    const cm = await core.readNamespacedConfigMap({ name: "hello-from-image", namespace: NS });
    expect(cm.data).toEqual({ greeting: "hello" });
    // The Lease names the container's hostname: the agent in the image leads, through the ServiceAccount's rights.
    const lease = await leases.readNamespacedLease({ name: "tether-agent-leader", namespace: NS });
    expect(lease.spec?.holderIdentity).toMatch(/^tether-agent_/);
    // No kubeconfig anywhere in the container: HOME is the empty /tmp.
    expect((await container!.exec(["sh", "-c", "ls -A $HOME/.kube 2>/dev/null | wc -l"])).output.trim()).toBe("0");
  });

  it("serves /version and its probes on the agent's port", async () => {
    const version = JSON.parse((await httpsGet(`https://127.0.0.1:${port}/version`, ca.cert)).body) as { version: string };
    expect(version.version).toBe(VERSION);
    expect((await httpsGet(`https://127.0.0.1:${port}/healthz`, ca.cert)).status).toBe(200);
    expect((await httpsGet(`https://127.0.0.1:${port}/readyz`, ca.cert)).status).toBe(200);
  });
});
