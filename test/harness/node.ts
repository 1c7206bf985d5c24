// A real node beside the local control plane: containerd (with Debian's runc) and a kubelet, both built
// from Go modules (tools/containerd, tools/kubelet), so pods run as containers on this machine. Next to
// kwok's fake node, which keeps running everything else: the real node registers with a taint
// (REAL_NODE_TAINT) so only pods that tolerate it land there, and kwok is told to manage only nodes
// annotated as fake.
//
// What this machine imposes, and how it is met:
// - cgroup v1 (hierarchies under /sys/fs/cgroup/<controller>): the kubelet runs with failCgroupV1: false
//   and the cgroupfs driver, under its own cgroup root, removed again on stop.
// - The kubelet sets three kernel tunables to the values it wants (vm.overcommit_memory=1,
//   kernel.panic=10, kernel.panic_on_oops=1), which are global to the host. It and containerd run in a
//   mount namespace of their own where those three /proc/sys files are covered by regular files that
//   start with the host's values: the kubelet writes its values into those files, never the kernel.
// - No registry is reachable: the sandbox ("pause") image is built here from tools/pause, and the
//   images a test runs are imported from OCI layouts with `ctr images import`.
// - No kube-proxy and no pod network: the pods run with the host's network (hostNetwork), and the CNI
//   configuration holds only a loopback network so the runtime reports its network ready.
// - The kubelet refuses a loopback node IP, and the node's name resolves nowhere: it serves its API on
//   the host's address on the default route (the node's InternalIP, where the API server dials it for
//   logs and exec, with the client certificate test/harness/pki.ts issued it), authenticated as ever.
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { CoreV1Api, KubeConfig, type AppsV1Api } from "@kubernetes/client-node";
import { imageCache } from "../../tools/image/build.ts";
import { toolsBinDir, repoRoot } from "./paths.ts";
import { KUBELET_CLIENT_USER } from "./pki.ts";

const run = promisify(execFile);

/** The taint the real node registers with: only pods that tolerate it are scheduled there. */
export const REAL_NODE_TAINT = { key: "tether.dev/real-node", value: "true", effect: "NoSchedule" } as const;
/** The sandbox image containerd runs for every pod, built locally (tools/pause). */
export const PAUSE_IMAGE = "tether.local/pause:1";
/**
 * The kernel tunables the kubelet sets (to 1, 10 and 1). In its mount namespace each is a regular file
 * that starts with the host's value, so the kubelet finds them different and writes its values there.
 */
export const KERNEL_TUNABLES = ["vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops"] as const;
/** In a node's directory: the git daemon serving its pods (the demo's), "PID URL". */
const GIT_DAEMON_FILE = "git-daemon.pid";
const BINARIES = ["kubelet", "containerd", "containerd-shim-runc-v2", "ctr"] as const;

export interface RealNode {
  readonly name: string;
  readonly dir: string;
  /** Runs `ctr` against this node's containerd in the kubelet's namespace (k8s.io). */
  ctr(args: readonly string[]): Promise<string>;
  /** Imports the images of an OCI layout directory (named by their io.containerd.image.name annotation). */
  importImage(layout: string): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeOptions {
  /** The control plane's state directory: its CA signs the node's certificate. */
  readonly planeDir: string;
  readonly server: string;
  /** Admin kubeconfig, to bind the node's group to system:node. */
  readonly kubeconfigPath: string;
  readonly name?: string;
  readonly ownerPid?: number;
  readonly log?: (line: string) => void;
}

/** Why a real node cannot start on this machine, or undefined when it can. */
export function realNodeUnavailable(): string | undefined {
  const missing = BINARIES.filter((b) => !existsSync(path.join(toolsBinDir, b)));
  if (missing.length) return `${missing.join(", ")} not built: run \`bash tools/build.sh node\``;
  if (process.getuid?.() !== 0) return "the kubelet and containerd run as root";
  if (!which("runc")) return "runc is missing: apt-get install runc";
  if (!which("unshare")) return "unshare (util-linux) is missing";
  if (!hostAddress()) return "no IPv4 address but loopback: the kubelet refuses 127.0.0.1 as its node IP";
  return undefined;
}

type Interfaces = Readonly<Record<string, readonly os.NetworkInterfaceInfo[] | undefined>>;

/**
 * The node's IP, as the kubelet would pick it without --node-ip (pure): the IPv4 address of the interface
 * of the default route (`routes`: /proc/net/route), else the first IPv4 address that is not loopback.
 */
export function nodeAddress(routes: string, interfaces: Interfaces): string | undefined {
  const v4 = (name: string) => interfaces[name]?.find((a) => a.family === "IPv4" && !a.internal && !a.address.startsWith("169.254."))?.address;
  const gateway = routes.split("\n").slice(1).map((l) => l.trim().split(/\s+/)).find((f) => f[1] === "00000000")?.[0];
  return (gateway ? v4(gateway) : undefined) ?? Object.keys(interfaces).map(v4).find(Boolean);
}

function hostAddress(): string | undefined {
  const routes = existsSync("/proc/net/route") ? readFileSync("/proc/net/route", "utf8") : "";
  return nodeAddress(routes, os.networkInterfaces());
}

function which(cmd: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((d) => d && existsSync(path.join(d, cmd)));
}

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

const sha = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/** The pause image as an OCI layout, built once per version of tools/pause (cached beside the agent image). */
export async function pauseImageLayout(cacheRoot: string): Promise<string> {
  const src = path.join(repoRoot, "tools", "pause");
  const goVersion = (await run("go", ["env", "GOVERSION"])).stdout.trim();
  const key = sha(`${await readFile(path.join(src, "main.go"), "utf8")}${await readFile(path.join(src, "go.mod"), "utf8")}${goVersion}`).slice(0, 12);
  const layout = path.join(cacheRoot, `pause-${key}`);
  if (existsSync(path.join(layout, "index.json"))) return layout;
  const work = `${layout}.${process.pid}.tmp`;
  await rm(work, { recursive: true, force: true });
  await mkdir(path.join(work, "rootfs"), { recursive: true });
  await run("go", ["build", "-trimpath", "-ldflags=-s -w", "-o", path.join(work, "rootfs", "pause"), "."],
    { cwd: src, env: { ...process.env, CGO_ENABLED: "0" } });
  const layerTar = path.join(work, "layer.tar");
  await run("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-C", path.join(work, "rootfs"), "-cf", layerTar, "pause"]);
  const layer = await readFile(layerTar);
  const layerDigest = `sha256:${sha(layer)}`;
  const config = JSON.stringify({
    created: "1970-01-01T00:00:00Z", architecture: "amd64", os: "linux",
    config: { Entrypoint: ["/pause"], User: "65535:65535" },
    rootfs: { type: "layers", diff_ids: [layerDigest] },
  });
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${sha(config)}`, size: Buffer.byteLength(config) },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: layer.length }],
  });
  const out = path.join(work, "layout");
  await mkdir(path.join(out, "blobs", "sha256"), { recursive: true });
  for (const [digest, data] of [[layerDigest, layer], [`sha256:${sha(config)}`, config], [`sha256:${sha(manifest)}`, manifest]] as const) {
    await writeFile(path.join(out, "blobs", "sha256", digest.slice(7)), data);
  }
  await writeFile(path.join(out, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(path.join(out, "index.json"), JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{
      mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${sha(manifest)}`, size: Buffer.byteLength(manifest),
      annotations: { "io.containerd.image.name": PAUSE_IMAGE, "org.opencontainers.image.ref.name": "1" },
    }],
  }));
  await rename(out, layout).catch((err: unknown) => { if (!existsSync(layout)) throw err; });
  await rm(work, { recursive: true, force: true });
  return layout;
}

/** The blobs an OCI layout's index refers to (manifests, configs, layers), as paths inside the layout. */
async function referencedBlobs(layout: string): Promise<string[]> {
  const blob = (digest: string) => path.join("blobs", "sha256", digest.replace(/^sha256:/, ""));
  const index = JSON.parse(await readFile(path.join(layout, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  const files = new Set<string>();
  for (const m of index.manifests) {
    files.add(blob(m.digest));
    const manifest = JSON.parse(await readFile(path.join(layout, blob(m.digest)), "utf8")) as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [manifest.config, ...manifest.layers]) files.add(blob(d.digest));
  }
  return [...files];
}

/** `ctr images import` of an OCI layout, streamed as a tar of only the blobs its index refers to. */
async function importLayout(dir: string, layout: string): Promise<void> {
  const blobs = await referencedBlobs(layout);
  const script = 'tar --dereference -C "$1" -cf - oci-layout index.json "${@:4}" | "$2" --address "$3" -n k8s.io images import -';
  try {
    await run("bash", ["-o", "pipefail", "-c", script, "import", layout, path.join(toolsBinDir, "ctr"), path.join(dir, "containerd.sock"), ...blobs],
      { maxBuffer: 16 << 20 });
  } catch (err) {
    throw new Error(`cannot import ${layout} into the node's containerd: ${(err as { stderr?: string }).stderr ?? String(err)}`, { cause: err });
  }
}

/** The CNI configuration: a loopback network only, enough for containerd to report its network ready; every pod here uses the host's network. */
const CNI_CONFLIST = `${JSON.stringify({ cniVersion: "1.0.0", name: "tether-host-network-only", plugins: [{ type: "loopback" }] }, null, 1)}\n`;

function containerdConfig(dir: string): string {
  const q = (p: string) => JSON.stringify(path.join(dir, p));
  return `version = 3
root = ${q("containerd/root")}
state = ${q("containerd/state")}
[grpc]
  address = ${q("containerd.sock")}
[ttrpc]
  address = ${q("containerd.sock.ttrpc")}
[debug]
  address = ${q("containerd-debug.sock")}
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = ${JSON.stringify(PAUSE_IMAGE)}
[plugins.'io.containerd.cri.v1.runtime']
  # This machine's root lacks CAP_SYS_RESOURCE, so no process may lower its oom_score_adj below
  # containerd's (0); the kubelet asks -998 for every pod's sandbox. Clamp instead of failing.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "runc"
        Root = ${q("runc")}
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = [${q("cni/bin")}]
    conf_dir = ${q("cni/net.d")}
`;
}

function kubeletConfig(dir: string, o: { caCert: string; address: string; port: number; healthzPort: number; cgroupRoot: string }): string {
  return `${JSON.stringify({
    apiVersion: "kubelet.config.k8s.io/v1beta1", kind: "KubeletConfiguration",
    // This machine mounts cgroup v1, which the kubelet refuses unless told otherwise.
    cgroupDriver: "cgroupfs", failCgroupV1: false, failSwapOn: false, cgroupRoot: o.cgroupRoot,
    containerRuntimeEndpoint: `unix://${path.join(dir, "containerd.sock")}`,
    address: o.address, port: o.port, readOnlyPort: 0, healthzBindAddress: "127.0.0.1", healthzPort: o.healthzPort,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: o.caCert } },
    authorization: { mode: "Webhook" },
    registerWithTaints: [REAL_NODE_TAINT],
    maxPods: 16, podLogsDir: path.join(dir, "pod-logs"),
    // The node's allocatable is not enforced with cgroups of its own, and a shared machine's disk and
    // memory figures say nothing about this node: evict only when truly out.
    enforceNodeAllocatable: [],
    evictionHard: { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%" },
    imageGCHighThresholdPercent: 100, imageGCLowThresholdPercent: 99,
    resolvConf: "/etc/resolv.conf",
  }, null, 1)}\n`;
}

// Runs in a new mount namespace (unshare -m --propagation private): covers the kernel tunables with
// files that start with the host's values, starts containerd, waits for its socket and runs the kubelet.
const NODE_SCRIPT = `set -euo pipefail
dir=$1; name=$2; ip=$3
for f in ${KERNEL_TUNABLES.join(" ")}; do mount --bind "$dir/sysctl/\${f//\\//.}" "/proc/sys/$f"; done
containerd --config "$dir/containerd.toml" >> "$dir/containerd.log" 2>&1 &
for i in $(seq 300); do [[ -S "$dir/containerd.sock" ]] && break; sleep 0.2; done
[[ -S "$dir/containerd.sock" ]] || { echo "containerd did not open its socket; see $dir/containerd.log" >&2; exit 1; }
exec kubelet --config="$dir/kubelet.yaml" --kubeconfig="$dir/kubeconfig" --root-dir="$dir/kubelet" \\
  --hostname-override="$name" --node-ip="$ip" --v=2 >> "$dir/kubelet.log" 2>&1`;

const CGROUP_V1 = "/sys/fs/cgroup";

/** The cgroup v1 hierarchies mounted here (cpu, memory, ...), by their directory. */
function cgroupHierarchies(): string[] {
  return readFileSync("/proc/self/mounts", "utf8").split("\n").map((l) => l.split(" "))
    .filter((f) => f[2] === "cgroup" && f[1]?.startsWith(`${CGROUP_V1}/`)).map((f) => f[1]!);
}

/** The kubelet's cgroup root in every hierarchy; cpuset needs its cpus and mems before anything joins. */
async function makeCgroupRoot(root: string): Promise<void> {
  for (const h of cgroupHierarchies()) {
    const d = path.join(h, root);
    await mkdir(d, { recursive: true });
    if (path.basename(h) === "cpuset") {
      for (const f of ["cpuset.cpus", "cpuset.mems"]) {
        if ((await readFile(path.join(d, f), "utf8")).trim() === "") await writeFile(path.join(d, f), await readFile(path.join(h, f), "utf8"));
      }
    }
  }
}

/** Starts containerd and the kubelet, waits until the node is Ready, and returns it. */
export async function startNode(opts: NodeOptions): Promise<RealNode> {
  const unavailable = realNodeUnavailable();
  if (unavailable) throw new Error(`cannot start a real node: ${unavailable}`);
  const log = opts.log ?? (() => undefined);
  const name = opts.name ?? "tether-node-0";
  const dir = path.join(opts.planeDir, "node");
  const cgroupRoot = `/tether-${path.basename(opts.planeDir)}`;
  await rm(dir, { recursive: true, force: true });
  for (const d of ["sysctl", "cni/net.d", "cni/bin", "kubelet", "pod-logs"]) await mkdir(path.join(dir, d), { recursive: true });
  const caCert = path.join(opts.planeDir, "ca.crt");

  // The node's client certificate, in group system:nodes, which the binding below gives system:node's rights
  // (the API server authorizes with RBAC alone, without the Node authorizer).
  const openssl = (args: string[]) => run("openssl", args, { cwd: dir });
  await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/O=system:nodes/CN=system:node:${name}`, "-keyout", "kubelet-client.key", "-out", "kubelet-client.csr"]);
  await openssl(["x509", "-req", "-in", "kubelet-client.csr", "-CA", caCert, "-CAkey", path.join(opts.planeDir, "ca.key"), "-CAcreateserial",
    "-days", "30", "-extfile", path.join(opts.planeDir, "client.ext"), "-out", "kubelet-client.crt"]);
  await writeFile(path.join(dir, "kubeconfig"), `apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: ${JSON.stringify(opts.server)}, certificate-authority: ${JSON.stringify(caCert)}}}]
users: [{name: ${name}, user: {client-certificate: ${JSON.stringify(path.join(dir, "kubelet-client.crt"))}, client-key: ${JSON.stringify(path.join(dir, "kubelet-client.key"))}}}]
contexts: [{name: local, context: {cluster: local, user: ${name}}}]
current-context: local
`, { mode: 0o600 });
  await kubectlApply(opts.kubeconfigPath, {
    apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "tether-real-nodes" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:node" },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:nodes" }],
  });
  // The kubelet asks the API server (webhook authorization) whether a caller may use its API: the API
  // server itself, for `kubectl logs` and `exec`, may (kubeadm binds the same role to the same user).
  await kubectlApply(opts.kubeconfigPath, {
    apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "tether-apiserver-kubelet-client" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:kubelet-api-admin" },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: KUBELET_CLIENT_USER }],
  });

  for (const f of KERNEL_TUNABLES) await writeFile(path.join(dir, "sysctl", f.replace("/", ".")), await readFile(`/proc/sys/${f}`, "utf8"));
  await writeFile(path.join(dir, "cni", "net.d", "10-tether.conflist"), CNI_CONFLIST);
  await writeFile(path.join(dir, "containerd.toml"), containerdConfig(dir));
  const [port, healthzPort] = await freePorts(2);
  const address = hostAddress()!;
  await writeFile(path.join(dir, "kubelet.yaml"), kubeletConfig(dir, { caCert, address, port: port!, healthzPort: healthzPort!, cgroupRoot }));
  await makeCgroupRoot(cgroupRoot);

  log(`starting containerd and the kubelet (node ${name}, ${address}:${port})`);
  const out = openSync(path.join(dir, "node.log"), "a");
  const cmd = ["unshare", "-m", "--propagation", "private", "bash", "-c", NODE_SCRIPT, "node", dir, name, address];
  // Always under the watchdog, which leads the process group: stopNode signals everything but itself.
  const [bin, args] = ["bash", ["-c", WATCHDOG, "watchdog", dir, cgroupRoot, ...cmd]];
  const child = spawn(bin, args, {
    cwd: dir, detached: true, stdio: ["ignore", out, out],
    env: { ...process.env, PATH: `${toolsBinDir}${path.delimiter}${process.env.PATH ?? ""}`, OWNER: String(opts.ownerPid ?? "") },
  });
  closeSync(out);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start the node; see ${dir}/node.log`);
  const groupPid = child.pid;
  await writeFile(path.join(dir, "pid"), `${groupPid} ${cgroupRoot} ${name}\n`);
  const node = nodeHandle(dir, name, cgroupRoot, groupPid);
  try {
    const deadline = Date.now() + 120_000;
    while (!existsSync(path.join(dir, "containerd.sock"))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`containerd did not start:\n${tail(path.join(dir, "containerd.log"))}\n${tail(path.join(dir, "node.log"))}`);
      await sleep(200);
    }
    await node.importImage(await pauseImageLayout(imageCache));
    log(`waiting for node ${name} to be Ready`);
    const kc = new KubeConfig();
    kc.loadFromFile(opts.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    for (;;) {
      const ready = await core.readNode({ name }).then((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"), () => false);
      if (ready) break;
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`node ${name} did not become Ready:\n${tail(path.join(dir, "kubelet.log"))}\n${tail(path.join(dir, "node.log"))}`);
      }
      await sleep(500);
    }
    return node;
  } catch (err) {
    await node.stop();
    throw err;
  }
}

// Stops what a node started, given its directory ($1) and cgroup root ($2): the kubelet and containerd
// (every process of the node's process group $3 but the caller), then the pods' containers (runc's
// state for this node lives in $1/runc) and their shims (which name this node's socket), then the
// cgroups the kubelet made. Every process is ended by its id.
const CLEANUP = `cleanup() {
  local dir=$1 cg=$2 group=$3 p id r="$1/runc/k8s.io"
  members() { ps -eo pid=,pgid= | awk -v g="$group" -v me=$$ '$2 == g && $1 != me { print $1 }'; }
  for p in $(members); do kill -TERM "$p" 2>/dev/null; done
  for i in $(seq 50); do [[ -z $(members) ]] && break; sleep 0.2; done
  for p in $(members); do kill -KILL "$p" 2>/dev/null; done
  if [[ -d $r ]]; then for id in $(ls "$r"); do runc --root "$r" delete --force "$id" >/dev/null 2>&1; done; fi
  for p in /proc/[0-9]*; do grep -qF "$dir/containerd.sock" "$p/cmdline" 2>/dev/null && kill -KILL "\${p#/proc/}" 2>/dev/null; done
  sleep 0.5
  for h in /sys/fs/cgroup/*/; do [[ -d $h$cg ]] && find "$h$cg" -depth -type d -exec rmdir {} + 2>/dev/null; done
  true
}`;

// As in controlplane.ts: with an owner, the node ends once the owner is gone, and cleans up after itself.
const WATCHDOG = `${CLEANUP}
"\${@:3}" & c=$!; trap 'cleanup "$1" "$2" $$; exit 0' TERM INT
while { [[ -z $OWNER ]] || kill -0 "$OWNER" 2>/dev/null; } && kill -0 $c 2>/dev/null; do sleep 1; done
cleanup "$1" "$2" $$`;

async function kubectlApply(kubeconfig: string, object: unknown): Promise<void> {
  const child = spawn(path.join(toolsBinDir, "kubectl"), [`--kubeconfig=${kubeconfig}`, "apply", "-f", "-"], { stdio: ["pipe", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d: Buffer) => { err += d.toString(); });
  child.stdin.end(JSON.stringify(object));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`kubectl apply failed: ${err}`);
}

function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).map((l) => `  | ${l}`).join("\n");
}

/** Stops the kubelet and containerd, then the pods' containers and shims they leave, and removes the cgroups. */
export async function stopNode(dir: string, cgroupRoot: string, groupPid: number): Promise<void> {
  // A git daemon started for this node's pods (the demo's) goes with it.
  await stopRecordedGitServer(dir);
  await run("bash", ["-c", `${CLEANUP}\ncleanup "$@"`, "cleanup", dir, cgroupRoot, String(groupPid)]).catch(() => undefined);
}

/**
 * A Deployment made to run on the real node of this local cluster (pure): the node's toleration and
 * name, the host's network (there is no pod network), its HTTP port moved to `port` (on the host's
 * network two clusters' agents must not share one), and the API server's address, since without
 * kube-proxy the `kubernetes` Service's cluster IP leads nowhere: the in-cluster configuration reads
 * KUBERNETES_SERVICE_HOST/PORT, set here to the API server on loopback. Nothing else changes: image,
 * ServiceAccount, probes (on the named port), security context, volumes.
 */
export function onRealNode<T extends { spec?: { template?: { spec?: object } } }>(deployment: T, opts: { node: string; server: string; port: number }): T {
  const d = structuredClone(deployment);
  const api = new URL(opts.server);
  const spec = d.spec!.template!.spec as {
    nodeSelector?: Record<string, string>; tolerations?: object[]; hostNetwork?: boolean; dnsPolicy?: string;
    containers: { args?: string[]; env?: { name: string; value?: string }[]; ports?: { name?: string; containerPort: number; hostPort?: number }[] }[];
  };
  spec.nodeSelector = { ...spec.nodeSelector, "kubernetes.io/hostname": opts.node };
  spec.tolerations = [...spec.tolerations ?? [], { key: REAL_NODE_TAINT.key, operator: "Exists", effect: REAL_NODE_TAINT.effect }];
  spec.hostNetwork = true;
  spec.dnsPolicy = "Default";
  for (const c of spec.containers) {
    const env = (c.env ?? []).filter((e) => !e.name.startsWith("KUBERNETES_SERVICE_"));
    c.env = [...env, { name: "KUBERNETES_SERVICE_HOST", value: api.hostname }, { name: "KUBERNETES_SERVICE_PORT", value: api.port }];
    const http = c.ports?.find((p) => p.name === "https" || p.name === "http");
    if (!http) continue;
    const listen = c.args?.indexOf("--listen") ?? -1;
    if (listen < 0 || !c.args?.[listen + 1]?.endsWith(`:${http.containerPort}`)) {
      throw new Error(`container ${JSON.stringify(c.args)}: expected --listen HOST:${http.containerPort} to move the agent to port ${opts.port}`);
    }
    c.args[listen + 1] = `0.0.0.0:${opts.port}`;
    http.containerPort = opts.port;
    delete http.hostPort;
  }
  return d;
}

/**
 * Moves a Deployment onto the real node ({@link onRealNode}): read, change, replace, and again on
 * 409 Conflict, as the Deployment controller writes the object (its status) right after it is created.
 */
export async function moveToRealNode(apps: AppsV1Api, ref: { name: string; namespace: string }, opts: { node: string; server: string; port: number }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const deployment = await apps.readNamespacedDeployment(ref);
    try {
      await apps.replaceNamespacedDeployment({ ...ref, body: onRealNode(deployment, opts) });
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 409 || attempt >= 10) throw err;
    }
  }
}

/** The node recorded in a control plane's directory (`pid`: process group, cgroup root, name). */
function recordedNode(planeDir: string): { dir: string; groupPid: number; cgroupRoot: string; name: string } | undefined {
  const dir = path.join(planeDir, "node");
  const file = path.join(dir, "pid");
  if (!existsSync(file)) return undefined;
  const [pid = "", cgroupRoot = "", name = ""] = readFileSync(file, "utf8").trim().split(" ");
  return Number.isInteger(Number(pid)) && cgroupRoot && name ? { dir, groupPid: Number(pid), cgroupRoot, name } : undefined;
}

/** The node a control plane's directory records, when its processes still run (the demo reuses it). */
export function runningNode(planeDir: string): RealNode | undefined {
  const r = recordedNode(planeDir);
  if (!r || !existsSync(path.join(r.dir, "containerd.sock"))) return undefined;
  try {
    process.kill(r.groupPid, 0);
  } catch {
    return undefined;
  }
  return nodeHandle(r.dir, r.name, r.cgroupRoot, r.groupPid);
}

/** Stops the node a control plane's directory records, if any (`npm run cluster:down`). */
export async function stopRecordedNode(planeDir: string): Promise<void> {
  const r = recordedNode(planeDir);
  if (r) await stopNode(r.dir, r.cgroupRoot, r.groupPid);
}

function nodeHandle(dir: string, name: string, cgroupRoot: string, groupPid: number): RealNode {
  return {
    name, dir,
    ctr: async (args) =>
      (await run(path.join(toolsBinDir, "ctr"), ["--address", path.join(dir, "containerd.sock"), "-n", "k8s.io", ...args], { maxBuffer: 64 << 20 })).stdout,
    importImage: (layout) => importLayout(dir, layout),
    stop: () => stopNode(dir, cgroupRoot, groupPid),
  };
}

/** Records a git daemon serving this node's pods (the demo's), so a later demo reuses it and the node's stop ends it. */
export async function recordGitServer(nodeDir: string, git: GitServer): Promise<void> {
  await writeFile(path.join(nodeDir, GIT_DAEMON_FILE), `${git.pid} ${git.url}\n`);
}

/** Stops the git daemon recorded for this node, if any, and forgets it. */
export async function stopRecordedGitServer(nodeDir: string): Promise<void> {
  const daemon = Number((await readFile(path.join(nodeDir, GIT_DAEMON_FILE), "utf8").catch(() => "")).split(" ")[0]);
  if (daemon > 0) { try { process.kill(-daemon, "SIGTERM"); } catch { /* gone */ } }
  await rm(path.join(nodeDir, GIT_DAEMON_FILE), { force: true });
}

/** The git daemon recorded for this node, when it still runs. */
export function recordedGitServer(nodeDir: string): GitServer | undefined {
  const file = path.join(nodeDir, GIT_DAEMON_FILE);
  const [pidText = "", url = ""] = existsSync(file) ? readFileSync(file, "utf8").trim().split(" ") : [];
  const pid = Number(pidText);
  if (!(pid > 0) || !url) return undefined;
  try {
    process.kill(-pid, 0);
  } catch {
    return undefined;
  }
  return { url, pid, stop: () => { try { process.kill(-pid, "SIGTERM"); } catch { /* gone */ } } };
}

export interface GitServer {
  /** `git://127.0.0.1:PORT/` followed by a path under the served directory. */
  readonly url: string;
  readonly pid: number;
  stop(): void;
}

/**
 * `git daemon` serving every repository under `base` read-only on loopback: how a pod on the real node
 * reads a repository of this machine (git://, a remote URL, so the agent needs no --allow-local-repos
 * and no host path mounted). With an owner it exits once the owner is gone.
 */
export async function serveGit(base: string, opts: { ownerPid?: number; logFile?: string } = {}): Promise<GitServer> {
  const [port] = await freePorts(1);
  const cmd = ["git", "daemon", "--export-all", `--base-path=${base}`, "--listen=127.0.0.1", `--port=${port}`, "--reuseaddr", "--informative-errors", base];
  const out = opts.logFile ? openSync(opts.logFile, "a") : "ignore";
  const child = spawn("bash", ["-c", `"$@" & c=$!; trap 'kill $c' TERM; while { [[ -z $OWNER ]] || kill -0 "$OWNER" 2>/dev/null; } && kill -0 $c 2>/dev/null; do sleep 1; done; kill $c 2>/dev/null; wait`,
    "git-daemon", ...cmd], { detached: true, stdio: ["ignore", out, out], env: { ...process.env, OWNER: String(opts.ownerPid ?? "") } });
  if (typeof out === "number") closeSync(out);
  child.unref();
  const pid = child.pid!;
  const url = `git://127.0.0.1:${port}/`;
  for (let i = 0; ; i++) {
    const listening = await new Promise<boolean>((resolve) => {
      const s = net.connect(port!, "127.0.0.1", () => { s.end(); resolve(true); });
      s.once("error", () => resolve(false));
    });
    if (listening) break;
    if (i > 100) throw new Error(`git daemon did not listen on 127.0.0.1:${port}`);
    await sleep(100);
  }
  return { url, pid, stop: () => { try { process.kill(-pid, "SIGTERM"); } catch { /* gone */ } } };
}
