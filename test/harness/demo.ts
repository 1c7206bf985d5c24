// `npm run demo`: the local control plane, Tether installed, the agent running, and a root
// Application that deploys this checkout's own components/ (committed state).
//
// Where a real node can run (test/harness/node.ts: the kubelet and containerd built, root, runc), the
// agent runs as users run it: `tether bootstrap`'s Deployment as a pod on that node from the locally
// built image, reading this checkout over git:// (a git daemon on loopback). Elsewhere, or with
// TETHER_DEMO_NODE=0, the agent runs in this process and reads the checkout through file://.
//
// It can run again and again in one checkout: the second run reuses the control plane, the node and the
// git daemon, and replaces the agent Deployment the first one moved onto the node (bootstrap's
// server-side apply cannot take back the port the move renumbered). It exits once every application is
// Synced and Healthy at HEAD (test/deploy/demo.test.ts runs it twice in a row).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, KubernetesObjectApi } from "@kubernetes/client-node";
import { execa } from "execa";
import { TetherClient } from "../../agent/api/client.ts";
import { AGENT_NAME } from "../../agent/api/install.ts";
import { API_VERSION, DEFAULT_NAMESPACE, FINALIZER, type Application } from "../../agent/api/types.ts";
import { startAgent } from "../../agent/main.ts";
import { appTable } from "../../cli/app/view.ts";
import { install } from "../../cli/install/index.ts";
import { loadKubernetesClient } from "../../cli/kube.ts";
import { KEY_SECRET, storeIdentity } from "../../cli/secret/keygen.ts";
import { buildImage } from "../../tools/image/build.ts";
import { isRunning, startControlPlane } from "./controlplane.ts";
import {
  freePorts, moveToRealNode, REAL_NODE_TAINT, realNodeUnavailable, recordGitServer, recordedGitServer, runningNode, serveGit, startNode,
  stopRecordedGitServer, stopRecordedNode,
} from "./node.ts";
import { clusterStateDir, pathWithTools, repoRoot, toolPath } from "./paths.ts";

const say = (line: string) => console.error(`[demo] ${line}`);
const keepRunning = process.argv.includes("--watch");
process.env.PATH = pathWithTools();

const kubeconfig = path.join(clusterStateDir, "kubeconfig");
if (await isRunning(clusterStateDir)) {
  say("reusing the local control plane started earlier");
} else {
  await stopRecordedNode(clusterStateDir);
  say("starting the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)");
  await startControlPlane({ dir: clusterStateDir, log: (l) => say(l) });
}
say("installing Tether (CRDs, namespace, RBAC, default AppProject)");
// The CLI's commands load the Kubernetes client before their action (cli/kube.ts); so does the demo.
await loadKubernetesClient();
await install({ kubeconfig }, () => undefined);

const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
// DEMO ONLY: the committed demo key decrypts components/apps/message-app/token.enc.yaml. A checkout
// that replaced it (README, "Secrets") deletes the file and keeps its own identity in tether-sops.
const demoKey = path.join(repoRoot, "test", "fixtures", "demo.agekey");
if (existsSync(demoKey)) {
  say(`storing the DEMO ONLY age key (test/fixtures/demo.agekey) in Secret ${KEY_SECRET}, entry demo-only.agekey`);
  await storeIdentity({ kc, namespace: DEFAULT_NAMESPACE, secretName: KEY_SECRET }, "demo-only.agekey", await readFile(demoKey, "utf8"), true);
} else {
  say(`no demo key: the agent decrypts with the identities already in Secret ${KEY_SECRET}`);
}
const noNode = process.env.TETHER_DEMO_NODE === "0" ? "TETHER_DEMO_NODE=0" : realNodeUnavailable();
const agent = noNode ? { ...await agentInProcess(noNode), inPod: false } : { ...await agentAsPod(), inPod: true };

/** The agent in this process, reading the checkout through file://; the root Application applied here. */
async function agentInProcess(why: string) {
  say(`starting the agent in this process (no real node: ${why})`);
  const running = await startAgent({
    kc, namespace: DEFAULT_NAMESPACE, pollIntervalMs: 5000, listen: { host: "127.0.0.1", port: 0 },
    cacheDir: path.join(repoRoot, ".tether", "agent-cache"), log: (l, fields) => { if (fields?.level !== "debug") say(`agent: ${l}`); },
    // The demo deploys this checkout through a file:// URL.
    allowLocalRepos: true,
  });
  const root: Application = {
    apiVersion: API_VERSION,
    kind: "Application",
    metadata: { name: "root", namespace: DEFAULT_NAMESPACE, finalizers: [FINALIZER] },
    spec: {
      project: "default",
      source: { repoURL: `file://${repoRoot}`, targetRevision: "HEAD", path: "components", directory: { recurse: true, exclude: "*/*/*" } },
      destination: { server: "https://kubernetes.default.svc", namespace: DEFAULT_NAMESPACE },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    },
  };
  say(`creating the root Application: ${root.spec.source?.repoURL} @ HEAD, path components/`);
  await KubernetesObjectApi.makeApiClient(kc).patch(root, undefined, undefined, "tether-demo", true, PatchStrategy.ServerSideApply);
  return { port: running.port, stop: () => running.stop() };
}

/** `tether bootstrap` with the locally built image, its Deployment moved onto the real node. */
async function agentAsPod() {
  const server = kc.getCurrentCluster()!.server;
  let node = runningNode(clusterStateDir);
  if (node) {
    say(`reusing the real node ${node.name}`);
  } else {
    say("starting a real node: containerd and the kubelet (test/harness/node.ts)");
    node = await startNode({ planeDir: clusterStateDir, server, kubeconfigPath: kubeconfig, log: (l) => say(l) });
  }
  say("building the agent image without Docker (tools/image; cached after the first time)");
  const image = await buildImage({ log: (l) => say(l) });
  say(`importing ${image.ref} (${image.manifestDigest.slice(0, 19)}) into the node's containerd`);
  await node.importImage(image.layout);
  let git = recordedGitServer(node.dir);
  if (git) {
    say(`reusing the git daemon at ${git.url}`);
  } else {
    await stopRecordedGitServer(node.dir);
    git = await serveGit(path.dirname(repoRoot), { logFile: path.join(node.dir, "git-daemon.log") });
    await recordGitServer(node.dir, git);
  }
  const repoURL = `${git.url}${path.basename(repoRoot)}`;
  const apps = kc.makeApiClient(AppsV1Api);
  const ref = { name: AGENT_NAME, namespace: DEFAULT_NAMESPACE };
  await removeMovedAgent(apps, ref);
  say(`tether bootstrap --repo ${repoURL} --revision HEAD --image ${image.ref} (the checkout served by git daemon on loopback)`);
  const boot = await execa(process.execPath, [path.join(repoRoot, "dist", "tether.mjs"), "bootstrap", "--kubeconfig", kubeconfig, "--repo", repoURL,
    "--revision", "HEAD", "--path", "components", "--image", image.ref, "--replicas", "1", "--poll-interval", "5s", "--no-wait"],
  { reject: false, env: { PATH: pathWithTools() } });
  if (boot.exitCode !== 0) throw new Error(`tether bootstrap failed:\n${boot.stdout}\n${boot.stderr}`);
  const [port] = await freePorts(1) as [number];
  await moveToRealNode(apps, ref, { node: node.name, server, port });
  say(`the agent Deployment runs on ${node.name} (host network, port ${port}); waiting for its pod`);
  const deadline = Date.now() + 240_000;
  while (!await rolledOutOnNode(apps, ref, node.name)) {
    if (Date.now() > deadline) throw new Error(`the agent pod did not become Ready on ${node.name}; see ${node.dir}/kubelet.log and pod-logs/`);
    await sleep(1000);
  }
  return { port, stop: () => Promise.resolve() };
}

/**
 * Deletes the agent Deployment an earlier demo moved onto the real node, and waits until its pods are
 * gone: bootstrap's server-side apply would add its port back beside the renumbered one (422, two ports
 * named https), and the new pod is to run this run's image anyway.
 */
async function removeMovedAgent(apps: AppsV1Api, ref: { name: string; namespace: string }): Promise<void> {
  const live = await apps.readNamespacedDeployment(ref).catch(() => undefined);
  if (!live?.spec?.template.spec?.tolerations?.some((t) => t.key === REAL_NODE_TAINT.key)) return;
  say(`replacing the agent Deployment an earlier demo moved onto the real node`);
  await apps.deleteNamespacedDeployment({ ...ref, propagationPolicy: "Foreground" }).catch(() => undefined);
  const deadline = Date.now() + 120_000;
  while (await apps.readNamespacedDeployment(ref).then(() => true, () => false)) {
    if (Date.now() > deadline) throw new Error(`Deployment ${ref.namespace}/${ref.name} was not deleted within 2 minutes; see \`npm run -s kubectl -- describe deploy -n ${ref.namespace}\``);
    await sleep(500);
  }
}

/** Whether the moved Deployment's current generation runs, every replica updated and available (on the real node). */
async function rolledOutOnNode(apps: AppsV1Api, ref: { name: string; namespace: string }, nodeName: string): Promise<boolean> {
  const d = await apps.readNamespacedDeployment(ref);
  const replicas = d.spec?.replicas ?? 1;
  const s = d.status;
  return d.spec?.template.spec?.nodeSelector?.["kubernetes.io/hostname"] === nodeName && (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0)
    && (s?.updatedReplicas ?? 0) >= replicas && (s?.availableReplicas ?? 0) >= replicas && (s?.replicas ?? 0) === replicas;
}

const client = new TetherClient(kc, DEFAULT_NAMESPACE);
const expected = ["root", "projects", "platform", "message-app", "guestbook-ui"];
// Ready means deployed at the checkout's HEAD, not at whatever an earlier demo left behind.
const head = (await execa("git", ["rev-parse", "HEAD"], { cwd: repoRoot })).stdout.trim();
const deadline = Date.now() + 180_000;
let last = "";
for (;;) {
  const apps = await client.listApplications();
  const ready = expected.every((name) => apps.some((a) => a.metadata?.name === name && a.status?.sync?.revision === head
    && a.status?.sync?.status === "Synced" && a.status.health?.status === "Healthy"));
  const state = apps.map((a) => `${a.metadata?.name}=${a.status?.sync?.status ?? "?"}/${a.status?.health?.status ?? "?"}`).join(" ");
  if (state !== last) say(`waiting: ${state || "no applications yet"}`);
  last = state;
  if (ready) {
    process.stdout.write(`\n${appTable(apps)}\n`);
    break;
  }
  if (Date.now() > deadline) {
    process.stdout.write(appTable(apps));
    for (const a of apps) for (const c of a.status?.conditions ?? []) console.error(`${a.metadata?.name}: ${c.type}: ${c.message}`);
    await agent.stop();
    throw new Error("the demo applications did not become Synced and Healthy within 3 minutes");
  }
  await sleep(1000);
}

console.log(`Everything in components/ is deployed. Try:
  KUBECONFIG=${kubeconfig} npx tether app get message-app
  npm run -s kubectl -- get deploy,svc,cm -n message-app
The control plane keeps running; stop it with: npm run cluster:down`);
// DEMO ONLY: a token of the agent's own ServiceAccount (cluster-admin) to paste at the UI's sign-in (a
// `#token=` link signs no one in: the UI takes a token from its address only for a login it started).
const demoToken = (await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
  name: AGENT_NAME, namespace: DEFAULT_NAMESPACE, body: { spec: { audiences: [], expirationSeconds: 8 * 3600 } },
})).status?.token ?? "";
const uiUrl = agent.inPod ? `https://127.0.0.1:${agent.port}/ui/` : `http://127.0.0.1:${agent.port}/ui/`;
const signIn = `${agent.inPod ? `  (HTTPS with the agent's own CA, Secret ${DEFAULT_NAMESPACE}/tether-agent-tls: the browser warns until you trust it)\n` : ""}`
  + `  sign in with this DEMO ONLY token (the agent's ServiceAccount, 8 hours): ${demoToken}
  or, signed in with your kubeconfig and no token: npx tether ui --kubeconfig ${kubeconfig}`;
if (agent.inPod) {
  const wide = await execa(toolPath("kubectl"), [`--kubeconfig=${kubeconfig}`, "get", "pods", "-n", DEFAULT_NAMESPACE, "-o", "wide"], { reject: false });
  console.log(`The agent runs as a pod on the real node and keeps running; commit to components/ and watch it deploy:
${wide.stdout}
  npm run -s kubectl -- get pods -n ${DEFAULT_NAMESPACE} -o wide
Web UI: ${uiUrl}
${signIn}`);
} else {
  console.log(`Web UI${keepRunning ? "" : " (while the agent runs, `npm run demo -- --watch`)"}: ${uiUrl}\n${signIn}`);
}
// The agent pod keeps running; an agent in this process stops with it, unless --watch.
if (!agent.inPod && keepRunning) {
  say("agent keeps running (--watch); commit to components/ and watch it deploy. Ctrl-C to stop.");
  await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
} else if (!agent.inPod) {
  console.log(`The agent stopped with the demo; run it again with: npx tether agent --kubeconfig ${kubeconfig}`);
}
await agent.stop();
