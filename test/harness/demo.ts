// `npm run demo`: the local control plane, Tether installed, the agent running, and a root
// Application that deploys this checkout's own components/ (committed state, through file://).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, KubeConfig, PatchStrategy, KubernetesObjectApi } from "@kubernetes/client-node";
import { execa } from "execa";
import { TetherClient } from "../../agent/api/client.ts";
import { AGENT_NAME } from "../../agent/api/install.ts";
import { API_VERSION, DEFAULT_NAMESPACE, FINALIZER, type Application } from "../../agent/api/types.ts";
import { startAgent } from "../../agent/main.ts";
import { appTable } from "../../cli/app/view.ts";
import { install } from "../../cli/install/index.ts";
import { KEY_SECRET, storeIdentity } from "../../cli/secret/keygen.ts";
import { isRunning, startControlPlane } from "./controlplane.ts";
import { clusterStateDir, pathWithTools, repoRoot } from "./paths.ts";

const say = (line: string) => console.error(`[demo] ${line}`);
const keepRunning = process.argv.includes("--watch");
process.env.PATH = pathWithTools();

const kubeconfig = path.join(clusterStateDir, "kubeconfig");
if (await isRunning(clusterStateDir)) {
  say("reusing the local control plane started earlier");
} else {
  say("starting the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)");
  await startControlPlane({ dir: clusterStateDir, log: (l) => say(l) });
}
say("installing Tether (CRDs, namespace, RBAC, default AppProject)");
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
say("starting the agent");
const agent = await startAgent({
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
// DEMO ONLY: a token of the agent's own ServiceAccount (cluster-admin), so the printed URL signs straight in.
const demoToken = (await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
  name: AGENT_NAME, namespace: DEFAULT_NAMESPACE, body: { spec: { audiences: [], expirationSeconds: 8 * 3600 } },
})).status?.token ?? "";
console.log(keepRunning ? `Web UI: http://127.0.0.1:${agent.port}/ui/#token=${demoToken}`
  : `Web UI (while the agent runs, \`npm run demo -- --watch\`): http://127.0.0.1:${agent.port}/ui/#token=${demoToken}
  or any time, with your kubeconfig: npx tether ui --kubeconfig ${kubeconfig}`);
if (keepRunning) {
  say("agent keeps running (--watch); commit to components/ and watch it deploy. Ctrl-C to stop.");
  await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
} else {
  console.log(`The agent stopped with the demo; run it again with: npx tether agent --kubeconfig ${kubeconfig}`);
}
await agent.stop();
