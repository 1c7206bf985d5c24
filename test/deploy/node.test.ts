// The agent as users run it: `tether bootstrap`'s Deployment as a real pod on a real node. A kubelet
// (tools/kubelet, the control plane's Kubernetes version) and containerd (tools/containerd) with
// Debian's runc join the local control plane (test/harness/node.ts); the agent image built without a
// Docker engine (tools/image) is imported into containerd, no registry involved. The pod runs under the
// agent's ServiceAccount with the token the kubelet mounts, its probes decide its readiness, and it
// syncs components/ from a repository it reads over git://. Beside it, a Deployment of the same image
// that prints a known line: its log is read as users read it (`tether app logs` through the kubeconfig
// and through a login to the agent's API, the web UI's Logs tab in Chromium), the API server reaching
// the kubelet at the node's address; and `kubectl exec` runs in it (Tether itself offers no exec).
//
// The one change to bootstrap's manifests is test/harness/node.ts#onRealNode: the node's toleration,
// the host's network (with a free port for the agent) and the API server's address, as this cluster
// has no pod network or kube-proxy.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AppsV1Api, CoordinationV1Api, RbacAuthorizationV1Api, type V1Pod } from "@kubernetes/client-node";
import { execa } from "execa";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage, type BuiltImage } from "../../tools/image/build.ts";
import { freePorts, moveToRealNode, REAL_NODE_TAINT, realNodeUnavailable, serveGit, startNode, type GitServer, type RealNode } from "../harness/node.ts";
import { toolPath } from "../harness/paths.ts";
import { cli, httpsGet } from "../support/agent.ts";
import { appReader, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-node";
const { kubeconfigPath, kc, core } = kube();
const apps = kc.makeApiClient(AppsV1Api);
const leases = kc.makeApiClient(CoordinationV1Api);
const reader = appReader(kc, NS);
const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
/** What the echo container prints first. */
const LOG_LINE = "hello from a real container";
const TUNABLES = ["/proc/sys/vm/overcommit_memory", "/proc/sys/kernel/panic", "/proc/sys/kernel/panic_on_oops"];

let image: BuiltImage;
let node: RealNode | undefined;
let git: GitServer | undefined;
let repo: TestRepo;
let head: string;
let hostTunables: string[];
let port: number;

const readTunables = () => Promise.all(TUNABLES.map(async (f) => (await readFile(f, "utf8")).trim()));

async function podOnNode(labelSelector: string): Promise<V1Pod | undefined> {
  const pods = await core.listNamespacedPod({ namespace: NS, labelSelector });
  return pods.items.find((p) => p.spec?.nodeName === node?.name && !p.metadata?.deletionTimestamp);
}
const agentPod = () => podOnNode("app.kubernetes.io/component=agent");

/** A Deployment on the real node of `image` that prints LOG_LINE and waits (SIGTERM ends it: node is PID 1). */
function echoDeployment(nodeName: string, imageRef: string, name = "echo"): string {
  const script = `console.log(${JSON.stringify(LOG_LINE)}); process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 3600000);`;
  return `${JSON.stringify({
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name },
    spec: {
      replicas: 1, selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          nodeSelector: { "kubernetes.io/hostname": nodeName },
          tolerations: [{ key: REAL_NODE_TAINT.key, operator: "Exists", effect: REAL_NODE_TAINT.effect }],
          // No pod network here (test/harness/node.ts).
          hostNetwork: true, dnsPolicy: "Default", automountServiceAccountToken: false, terminationGracePeriodSeconds: 5,
          containers: [{ name, image: imageRef, imagePullPolicy: "Never", command: ["node", "-e", script] }],
        },
      },
    },
  }, null, 1)}\n`;
}

/** The kubelet's and containerd's logs, for a failure's message. */
async function nodeLogs(): Promise<string> {
  if (!node) return "";
  const tail = async (f: string) => (await readFile(path.join(node!.dir, f), "utf8").catch(() => "")).split("\n").slice(-25).join("\n");
  return `kubelet.log:\n${await tail("kubelet.log")}\ncontainerd.log:\n${await tail("containerd.log")}`;
}

beforeAll(async () => {
  const unavailable = realNodeUnavailable();
  if (unavailable) throw new Error(`the real node cannot start here: ${unavailable}`);
  hostTunables = await readTunables();
  image = await buildImage({ log: (l) => console.error(`[image] ${l}`) });
  const started = Date.now();
  node = await startNode({
    planeDir: path.dirname(kubeconfigPath), server: kc.getCurrentCluster()!.server, kubeconfigPath,
    ownerPid: process.pid, log: (l) => console.error(`[node] ${l}`),
  });
  console.error(`[node] ${node.name} Ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  const imported = Date.now();
  await node.importImage(image.layout);
  console.error(`[node] ${image.ref} imported in ${((Date.now() - imported) / 1000).toFixed(1)}s`);

  repo = await createRepo();
  head = await repo.commit({
    "components/hello.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello-from-pod\ndata:\n  greeting: hello\n",
    "components/echo.yaml": echoDeployment(node.name, image.ref),
  });
  const bare = repo.url.replace(/^file:\/\//, "");
  git = await serveGit(path.dirname(bare), { ownerPid: process.pid });

  const bootstrap = await cli(["bootstrap", "--repo", `${git.url}${path.basename(bare)}`, "--path", "components", "-n", NS,
    "--replicas", "1", "--poll-interval", "3s", "--image", image.ref, "--no-wait"], { kubeconfig: kubeconfigPath });
  expect(bootstrap.exitCode, `${bootstrap.stdout}\n${bootstrap.stderr}`).toBe(0);
  [port] = await freePorts(1) as [number];
  await moveToRealNode(apps, { name: "tether-agent", namespace: NS }, { node: node.name, server: kc.getCurrentCluster()!.server, port });
  await eventually("the agent pod Running and Ready on the real node", async () => {
    const pod = await agentPod();
    return pod?.status?.phase === "Running" && pod.status.containerStatuses?.every((c) => c.ready) ? pod : undefined;
  }, 240_000).catch(async (err: Error) => {
    const pods = await core.listNamespacedPod({ namespace: NS });
    const events = await core.listNamespacedEvent({ namespace: NS });
    throw new Error(`${err.message}\npods: ${JSON.stringify(pods.items.map((p) => ({ node: p.spec?.nodeName, status: p.status })), null, 1).slice(0, 4000)}\n`
      + `events:\n${events.items.map((e) => `${e.reason}: ${e.message}`).join("\n").slice(-4000)}\n${await nodeLogs()}`);
  });
}, 1_800_000);

afterAll(async () => {
  await core.deleteNamespace({ name: NS }).catch(() => undefined);
  await node?.stop();
  // The node object goes too: the other suites see the kwok node alone.
  if (node) await core.deleteNode({ name: node.name }).catch(() => undefined);
  git?.stop();
  await repo?.cleanup();
}, 120_000);

describe("the agent Deployment as a real pod", () => {
  it("runs on the real node from the locally built image, under its ServiceAccount, Ready through its probes", async () => {
    const pod = (await agentPod())!;
    expect(pod.spec?.nodeName).toBe(node!.name);
    expect(pod.spec?.serviceAccountName).toBe("tether-agent");
    expect(pod.spec?.containers[0]?.readinessProbe?.httpGet?.path).toBe("/readyz");
    // Its probes' port, on the host's network: the agent answers there.
    expect(pod.spec?.hostNetwork).toBe(true);
    // Over HTTPS, from the serving certificate `tether bootstrap` made: a client trusting the Secret's CA accepts it.
    const tls = await core.readNamespacedSecret({ name: "tether-agent-tls", namespace: NS });
    const ca = Buffer.from(tls.data?.["ca.crt"] ?? "", "base64").toString();
    expect((await httpsGet(`https://127.0.0.1:${port}/readyz`, ca)).status).toBe(200);
    const status = pod.status!.containerStatuses![0]!;
    expect(status.ready).toBe(true);
    // It started once: the startup probe gave it the time it needs, no liveness kill on the way.
    expect(status.restartCount).toBe(0);
    expect(status.image).toBe(`docker.io/library/${image.ref}`);
    // The image containerd runs is the one tools/image built: same manifest digest.
    const images = await node!.ctr(["images", "ls"]);
    expect(images).toMatch(new RegExp(`docker\\.io/library/${image.ref.replace(".", "\\.")}\\s+\\S+\\s+${image.manifestDigest}`));
    // The container's process as the host sees it: uid 10001, no capabilities.
    const id = status.containerID!.replace(/^containerd:\/\//, "");
    const tasks = await node!.ctr(["tasks", "ls"]);
    const pid = /^(\S+)\s+(\d+)\s+RUNNING/m.exec(tasks.split("\n").find((l) => l.startsWith(id)) ?? "")?.[2];
    expect(pid, tasks).toBeDefined();
    const proc = await readFile(`/proc/${pid}/status`, "utf8");
    expect(proc).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
    expect(proc).toMatch(/^CapEff:\s+0+$/m);
    // The kubelet mounted the ServiceAccount token it requested for the pod.
    const mounts = await readFile(`/proc/${pid}/mounts`, "utf8");
    // (/var/run is a link to /run in the image.)
    expect(mounts).toMatch(/^tmpfs \/run\/secrets\/kubernetes\.io\/serviceaccount tmpfs ro,/m);
  });

  it("syncs components/ with the ServiceAccount's token and holds the leader Lease", async () => {
    await eventually("root Synced and Healthy at the repository's head", async () => {
      const a = await reader.get("root");
      return a && syncedAndHealthy(head)(a) ? a : undefined;
    }, 180_000).catch(async (err: Error) => { throw new Error(`${err.message}\n${await nodeLogs()}`); });
    const cm = await core.readNamespacedConfigMap({ name: "hello-from-pod", namespace: NS });
    expect(cm.data).toEqual({ greeting: "hello" });
    expect(cm.metadata?.managedFields?.some((f) => f.manager === "tether")).toBe(true);
    const lease = await leases.readNamespacedLease({ name: "tether-agent-leader", namespace: NS });
    expect(lease.spec?.holderIdentity).toBeTruthy();
    // A new commit reaches the pod through git:// and is applied.
    const next = await repo.commit({ "components/hello.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello-from-pod\ndata:\n  greeting: again\n" });
    await eventually("the next commit synced", async () => {
      const a = await reader.get("root");
      return a && syncedAndHealthy(next)(a) ? a : undefined;
    }, 120_000);
    expect((await core.readNamespacedConfigMap({ name: "hello-from-pod", namespace: NS })).data).toEqual({ greeting: "again" });
  });

  it("reads a real container's log through tether app logs, the agent's API and the web UI; kubectl exec runs in it", async () => {
    const echo = await eventually("the echo pod Running on the real node", async () => {
      const pod = await podOnNode("app=echo");
      return pod?.status?.phase === "Running" ? pod : undefined;
    }, 120_000);
    const name = echo.metadata!.name!;
    const expected = `[${NS}/${name}/echo] ${LOG_LINE}`;
    const home = await mkdtemp(path.join(os.tmpdir(), "tether-node-logs-"));
    // Through the kubeconfig: the CLI asks the API server, which dials the kubelet at the node's InternalIP.
    const direct = await cli(["app", "logs", "root", "-n", NS], { kubeconfig: kubeconfigPath, env: { TETHER_CONFIG: path.join(home, "none") } });
    expect(direct.exitCode, direct.stderr).toBe(0);
    expect(direct.stdout).toContain(expected);

    // Through the agent's API, with a token that may read Applications and pod logs in the namespace.
    await rbac.createNamespacedRole({ namespace: NS, body: {
      metadata: { name: "log-reader" },
      rules: [{ apiGroups: ["tether.dev"], resources: ["applications"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list"] }],
    } });
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: "log-reader" } } });
    await rbac.createNamespacedRoleBinding({ namespace: NS, body: {
      metadata: { name: "log-reader" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "log-reader" },
      subjects: [{ kind: "ServiceAccount", name: "log-reader", namespace: NS }],
    } });
    const token = (await core.createNamespacedServiceAccountToken({ name: "log-reader", namespace: NS, body: { spec: { audiences: [] } } })).status!.token;
    const tls = await core.readNamespacedSecret({ name: "tether-agent-tls", namespace: NS });
    const caFile = path.join(home, "ca.pem");
    await writeFile(caFile, Buffer.from(tls.data?.["ca.crt"] ?? "", "base64"));
    const login = { TETHER_CONFIG: path.join(home, "config") };
    const loggedIn = await cli(["login", `https://127.0.0.1:${port}`, "--token", token, "--ca-file", caFile], { kubeconfig: kubeconfigPath, env: login });
    expect(loggedIn.exitCode, loggedIn.stderr).toBe(0);
    const viaApi = await cli(["app", "logs", "root"], { kubeconfig: kubeconfigPath, env: login });
    expect(viaApi.exitCode, viaApi.stderr).toBe(0);
    expect(viaApi.stdout).toContain(`[${NS}/${name}] ${LOG_LINE}`);

    // The web UI the agent pod serves: the pod's Logs tab, in Chromium.
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
    try {
      const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
      await page.goto(`https://127.0.0.1:${port}/ui/`);
      await page.getByLabel("Bearer token").fill(token);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Applications", exact: true }).waitFor();
      await page.goto(`https://127.0.0.1:${port}/ui/#/apps/root`);
      await page.getByRole("link", { name: `Pod ${name}` }).click();
      await page.getByRole("tab", { name: "Logs" }).click();
      await page.getByLabel("Pod log").filter({ hasText: LOG_LINE }).waitFor({ timeout: 30_000 });
    } finally {
      await browser.close();
    }

    // Exec reaches the kubelet the same way; Tether has no exec of its own (Argo CD's web terminal is not built).
    const exec = await execa(toolPath("kubectl"), [`--kubeconfig=${kubeconfigPath}`, "exec", "-n", NS, name, "--", "node", "-e", "console.log(process.getuid())"],
      { reject: false });
    expect(exec.exitCode, exec.stderr).toBe(0);
    expect(exec.stdout.trim()).toBe("10001");

    // A container that never started has no log: the others are printed, and the command fails saying so.
    await repo.commit({ "components/absent.yaml": echoDeployment(node!.name, "tether.local/absent:1", "absent") });
    await eventually("the absent pod waiting for its image", async () => {
      const pod = await podOnNode("app=absent");
      return pod?.status?.containerStatuses?.[0]?.state?.waiting ? pod : undefined;
    }, 120_000);
    const partial = await cli(["app", "logs", "root", "-n", NS], { kubeconfig: kubeconfigPath, env: { TETHER_CONFIG: path.join(home, "none") } });
    expect(partial.exitCode, partial.stderr).toBe(1);
    expect(partial.stdout).toContain(expected);
    expect(partial.stdout).toMatch(new RegExp(`^\\[${NS}/absent-[a-z0-9-]+/absent\\] \\(no log: .*waiting to start`, "m"));
    expect(partial.stderr).toContain("root: could not read 1 of 2 container logs");
  });

  it("left the host's kernel tunables as they were: the kubelet wrote its values into the files covering them", async () => {
    expect(await readTunables()).toEqual(hostTunables);
    // The files started with the host's values (here 0, 1, 0); the kubelet wrote what it sets on a host.
    const covered = await Promise.all(["vm.overcommit_memory", "kernel.panic", "kernel.panic_on_oops"]
      .map(async (f) => (await readFile(path.join(node!.dir, "sysctl", f), "utf8")).trim()));
    expect(covered).toEqual(["1", "10", "1"]);
  });
});
