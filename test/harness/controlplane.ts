import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { createPki, type Pki } from "./pki.ts";
import { toolPath, toolsBinDir } from "./paths.ts";

/** Extra kwok stages: pods whose command fails end Failed, bare run-to-completion pods end Succeeded. */
const HOOK_STAGES = new URL("./kwok-hook-stages.yaml", import.meta.url);

/** A running local control plane: etcd, kube-apiserver, controller-manager, scheduler, kwok. */
export interface ControlPlane {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly server: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Fresh state directory; wiped first. Component logs, certificates and the kubeconfig live here. */
  readonly dir: string;
  /**
   * When set, every component exits by itself once this process is gone, so a crashed test run
   * leaves nothing behind. `cluster:up` leaves it unset: its cluster outlives the command.
   */
  readonly ownerPid?: number;
  /** Progress lines, e.g. `console.error`. */
  readonly log?: (line: string) => void;
}

const NODE_NAME = "kwok-node-0";
const PIDS_FILE = "pids";

/** Starts every component, waits until the fake node is Ready, and returns the kubeconfig. */
export async function startControlPlane(opts: StartOptions): Promise<ControlPlane> {
  const { dir } = opts;
  const log = opts.log ?? (() => undefined);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, "etcd"), { recursive: true });
  const pki = await createPki(dir);
  const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort] = await freePorts(6);
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfigPath = path.join(dir, "kubeconfig");
  await writeFile(kubeconfigPath, kubeconfigYaml(server, pki), { mode: 0o600 });
  const plane: ControlPlane = { dir, kubeconfigPath, server, stop: () => stopControlPlane(dir) };
  const launch = (name: string, args: readonly string[]) => launchComponent({ dir, name, args, ownerPid: opts.ownerPid });

  try {
    log("starting etcd");
    await launch("etcd", [
      "--name=default", `--data-dir=${path.join(dir, "etcd")}`, "--unsafe-no-fsync",
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`, `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`, "--log-level=warn",
    ]);
    log("starting kube-apiserver");
    await launch("kube-apiserver", [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`, `--secure-port=${apiPort}`, "--bind-address=127.0.0.1",
      // Nothing runs in the cluster that needs the kubernetes Service endpoints, and 127.0.0.1 may not be published there.
      "--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none", `--cert-dir=${dir}`, `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`, `--client-ca-file=${pki.caCert}`, "--authorization-mode=RBAC",
      "--service-cluster-ip-range=10.0.0.0/24", "--allow-privileged=true",
      "--service-account-issuer=https://kubernetes.default.svc", `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`, `--profiling=${process.env.BENCH_APISERVER_PROFILE ? "true" : "false"}`, "--v=1",
      // Logs, exec and port-forward on a real node (test/harness/node.ts): the API server dials the kubelet at the
      // node's InternalIP (its name resolves nowhere) with a client certificate the kubelet authorizes. The
      // kubelet's serving certificate is its own self-signed one: no --kubelet-certificate-authority, as kubeadm leaves it by default.
      `--kubelet-client-certificate=${pki.kubeletClientCert}`, `--kubelet-client-key=${pki.kubeletClientKey}`,
      "--kubelet-preferred-address-types=InternalIP,Hostname",
    ]);
    await waitFor("kube-apiserver /readyz", dir, () => readyz(server, pki), 90_000);
    log("starting kube-controller-manager, kube-scheduler and kwok");
    await launch("kube-controller-manager", [
      `--kubeconfig=${kubeconfigPath}`, "--leader-elect=false", `--secure-port=${kcmPort}`, "--bind-address=127.0.0.1",
      `--service-account-private-key-file=${pki.saKey}`, `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`, `--cluster-signing-key-file=${pki.caKey}`,
      "--use-service-account-credentials=false", "--profiling=false", "--v=1",
    ]);
    await launch("kube-scheduler", [
      `--kubeconfig=${kubeconfigPath}`, "--leader-elect=false", `--secure-port=${schedPort}`,
      "--bind-address=127.0.0.1", "--profiling=false", "--v=1",
    ]);
    const stages = path.join(dir, "kwok-stages.yaml");
    await writeFile(stages, `${await readFile(path.join(toolsBinDir, "kwok-stages.yaml"), "utf8")}\n${await readFile(HOOK_STAGES, "utf8")}`);
    await launch("kwok", [
      `--kubeconfig=${kubeconfigPath}`, `--config=${stages}`,
      // Only the fake node: a real kubelet's node (test/harness/node.ts) is left to its kubelet.
      "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake", "--node-lease-duration-seconds=40", `--server-address=127.0.0.1:${kwokPort}`,
      "--cidr=10.244.0.0/16", "--node-ip=127.0.0.1",
    ]);
    const core = coreApi(kubeconfigPath);
    await core.createNode({ body: fakeNode() });
    log(`waiting for node ${NODE_NAME} to be Ready`);
    await waitFor(`node ${NODE_NAME} Ready`, dir, () => nodeReady(core), 90_000);
    // Pods are refused until the ServiceAccount controller made `default`; wait so the first test does not race it.
    await waitFor("ServiceAccount default/default", dir, () => defaultServiceAccount(core), 60_000);
    return plane;
  } catch (err) {
    await stopControlPlane(dir);
    throw err;
  }
}

/** Stops every component recorded in `dir`: SIGTERM to each process group, SIGKILL after 10 s. */
export async function stopControlPlane(dir: string): Promise<void> {
  const pids = (await recorded(dir)).map((c) => c.pid).reverse();
  for (const pid of pids) signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + 10_000;
  while (pids.some(alive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids.filter(alive)) signalGroup(pid, "SIGKILL");
  await rm(path.join(dir, PIDS_FILE), { force: true });
}

/** Whether a control plane recorded in `dir` still has all its processes and answers /readyz. */
export async function isRunning(dir: string): Promise<boolean> {
  const components = await recorded(dir);
  if (components.length === 0 || !components.every((c) => alive(c.pid))) return false;
  const kc = new KubeConfig();
  kc.loadFromFile(path.join(dir, "kubeconfig"));
  const pki = { caCert: path.join(dir, "ca.crt"), adminCert: path.join(dir, "admin.crt"), adminKey: path.join(dir, "admin.key") };
  return readyz(kc.getCurrentCluster()?.server ?? "", pki).catch(() => false);
}

interface Component {
  readonly dir: string;
  readonly name: string;
  readonly args: readonly string[];
  readonly ownerPid: number | undefined;
}

// With an owner, a small shell watchdog runs the component and ends it once the owner is gone
// (a test runner killed with SIGKILL cannot clean up after itself).
const WATCHDOG = `"$@" & c=$!; trap 'kill -TERM $c 2>/dev/null; wait $c; exit 0' TERM INT
while kill -0 "$OWNER" 2>/dev/null && kill -0 $c 2>/dev/null; do sleep 1; done
kill -TERM $c 2>/dev/null; wait $c`;

async function launchComponent(c: Component): Promise<void> {
  const logFile = path.join(c.dir, `${c.name}.log`);
  const out = openSync(logFile, "a");
  const bin = toolPath(c.name);
  const [cmd, args] = c.ownerPid === undefined
    ? [bin, [...c.args]]
    : ["bash", ["-c", WATCHDOG, "watchdog", bin, ...c.args]];
  const child = spawn(cmd, args, {
    cwd: c.dir, detached: true, stdio: ["ignore", out, out],
    env: { ...process.env, OWNER: String(c.ownerPid ?? "") },
  });
  closeSync(out);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${c.name}; see ${logFile}`);
  await writeFile(path.join(c.dir, PIDS_FILE), `${child.pid} ${c.name}\n`, { flag: "a" });
  // A component that dies at once (bad flag, port taken) is reported with its log, not as a time-out later.
  await sleep(300);
  if (child.exitCode !== null) throw new Error(`${c.name} exited with code ${child.exitCode}:\n${tail(logFile)}`);
}

async function waitFor(what: string, dir: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    const dead = (await recorded(dir)).find((c) => !alive(c.pid))?.name;
    if (dead) throw new Error(`${dead} stopped while waiting for ${what}:\n${tail(path.join(dir, `${dead}.log`))}`);
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}. Component logs are in ${dir}:\n${
        tail(path.join(dir, "kube-apiserver.log"))}`);
    }
    await sleep(250);
  }
}

/** The components started in `dir`, in start order, as recorded in its pids file. */
async function recorded(dir: string): Promise<{ pid: number; name: string }[]> {
  const text = await readFile(path.join(dir, PIDS_FILE), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map((line) => {
    const [pid = "", name = ""] = line.split(" ");
    return { pid: Number(pid), name };
  });
}

function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).map((l) => `  | ${l}`).join("\n");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function readyz(server: string, pki: Pick<Pki, "caCert" | "adminCert" | "adminKey">): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(`${server}/readyz`, {
      ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey), timeout: 2000,
    }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}

function coreApi(kubeconfigPath: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}

async function nodeReady(core: CoreV1Api): Promise<boolean> {
  const node = await core.readNode({ name: NODE_NAME });
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

async function defaultServiceAccount(core: CoreV1Api): Promise<boolean> {
  await core.readNamespacedServiceAccount({ name: "default", namespace: "default" });
  return true;
}

function fakeNode() {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: NODE_NAME,
      annotations: { "node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake" },
      labels: {
        "kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux", "kubernetes.io/hostname": NODE_NAME,
        "node-role.kubernetes.io/agent": "", type: "kwok",
      },
    },
    // No taints: ordinary workloads schedule here and kwok marks their pods Ready.
    spec: {},
    status: {
      allocatable: { cpu: "32", memory: "256Gi", pods: "110" },
      capacity: { cpu: "32", memory: "256Gi", pods: "110" },
    },
  };
}

function kubeconfigYaml(server: string, pki: Pki): string {
  const b64 = (file: string) => readFileSync(file).toString("base64");
  return `apiVersion: v1
kind: Config
clusters:
- name: tether-local
  cluster:
    server: ${server}
    certificate-authority-data: ${b64(pki.caCert)}
users:
- name: tether-admin
  user:
    client-certificate-data: ${b64(pki.adminCert)}
    client-key-data: ${b64(pki.adminKey)}
contexts:
- name: tether-local
  context: {cluster: tether-local, user: tether-admin}
current-context: tether-local
`;
}
