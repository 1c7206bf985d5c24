// `tether cluster add|list`: other clusters the agent deploys to, as cluster Secrets in Argo CD's format.
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { Command, Option } from "commander";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { DEFAULT_NAMESPACE } from "../../agent/api/types.ts";
import { KubeCluster } from "../../agent/apply/cluster.ts";
import { displayRef, refOf } from "../../agent/apply/inventory.ts";
import { ClusterError, loadKubeConfig, withCluster, type KubeFlags } from "../kube.ts";
import { assertName } from "../repo/layout.ts";
import { parseFormat, serialize, table } from "../output.ts";
import { ARGOCD_CLUSTER_LABEL, CLUSTER_LABEL, clusterSecret, MANAGER, MANAGER_NAMESPACE, managerObjects, summarize, type ClusterSummary } from "./secret.ts";

interface AddFlags extends KubeFlags {
  readonly agentKubeconfig?: string;
  readonly agentContext?: string;
  readonly server?: string;
  readonly clusterRole: string;
  readonly output?: string;
}

const IN_CLUSTER: ClusterSummary = { name: "in-cluster", server: "https://kubernetes.default.svc", secret: "", auth: "service account", insecure: false };

export function clusterCommand(): Command {
  return new Command("cluster")
    .description("Register other clusters the agent deploys to (cluster Secrets in Argo CD's format)")
    .addCommand(addCommand())
    .addCommand(listCommand());
}

function addCommand(): Command {
  return new Command("add")
    .argument("<name>", "the name Applications use in spec.destination.name")
    .description("Give the agent access to a cluster: a ServiceAccount and token there, a cluster Secret in the agent's namespace")
    .option("--kubeconfig <path>", "kubeconfig of the cluster to add (default: $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "its context (default: the current one)")
    .option("--agent-kubeconfig <path>", "kubeconfig of the cluster the agent runs in (default: the same file)")
    .option("--agent-context <name>", "its context (default: the file's current context)")
    .option("-n, --namespace <ns>", "the agent's namespace, where the cluster Secret is written", DEFAULT_NAMESPACE)
    .option("--server <url>", "the API server URL the agent uses (default: the context's server)")
    .option("--cluster-role <name>", "ClusterRole bound to the ServiceAccount", "cluster-admin")
    .addOption(new Option("-o, --output <format>", "json or yaml: what was done, as data (never the token)"))
    .addHelpText("after", `
As \`argocd cluster add\` does: ServiceAccount ${MANAGER_NAMESPACE}/${MANAGER} bound to cluster-admin in the target
cluster, a long-lived token for it, and Secret cluster-NAME (labels ${CLUSTER_LABEL}: cluster and
${ARGOCD_CLUSTER_LABEL}: cluster; fields name, server, config) in the agent's namespace. Running it
again updates the Secret.

Examples:
  tether cluster add prod --kubeconfig ~/.kube/config --context prod
  tether cluster add staging --kubeconfig staging.yaml --agent-kubeconfig mgmt.yaml`)
    .action(async (name: string, flags: AddFlags) => {
      assertName("cluster", name);
      const format = flags.output === undefined ? undefined : parseFormat(flags.output, ["json", "yaml"]) as "json" | "yaml";
      const target = loadKubeConfig(flags);
      const agent = loadKubeConfig({
        ...(flags.agentKubeconfig ?? flags.kubeconfig ? { kubeconfig: flags.agentKubeconfig ?? flags.kubeconfig } : {}),
        ...(flags.agentContext ? { context: flags.agentContext } : {}),
      });
      const done = await addCluster({ name, target, agent, namespace: flags.namespace ?? DEFAULT_NAMESPACE, clusterRole: flags.clusterRole,
        ...(flags.server ? { server: flags.server } : {}) }, (line) => { if (!format) process.stderr.write(`${line}\n`); });
      if (format) process.stdout.write(serialize(done, format));
      else process.stdout.write(`cluster ${name} added: ${done.server}; deploy to it with spec.destination.name: ${name}\n`);
    });
}

interface AddOptions {
  readonly name: string;
  readonly target: KubeConfig;
  readonly agent: KubeConfig;
  readonly namespace: string;
  readonly clusterRole: string;
  readonly server?: string;
}

/** Creates the ServiceAccount and token in the target, then writes the cluster Secret for the agent. */
export async function addCluster(opts: AddOptions, log: (line: string) => void): Promise<ClusterSummary & { namespace: string }> {
  const server = opts.server ?? opts.target.getCurrentCluster()?.server ?? "";
  const targetCluster = new KubeCluster(opts.target);
  await withCluster(opts.target, async () => {
    for (const obj of managerObjects(opts.clusterRole)) {
      await targetCluster.apply(obj);
      log(`${displayRef(refOf(obj))} applied in ${server}`);
    }
  });
  const token = await withCluster(opts.target, () => waitForToken(opts.target));
  const caData = await clusterCa(opts.target) ?? token.caData;
  const insecure = opts.target.getCurrentCluster()?.skipTLSVerify === true;
  const secret = clusterSecret({ name: opts.name, server, namespace: opts.namespace,
    config: { bearerToken: token.token, tlsClientConfig: { ...(caData ? { caData } : {}), insecure } } });
  await withCluster(opts.agent, async () => {
    await ensureAgentNamespace(opts.agent, opts.namespace);
    await new KubeCluster(opts.agent).apply(secret);
  });
  log(`${displayRef(refOf(secret))} written in ${opts.agent.getCurrentCluster()?.server ?? ""}`);
  return { name: opts.name, server, secret: secret.metadata.name ?? "", auth: "bearer token", insecure, namespace: opts.namespace };
}

async function ensureAgentNamespace(kc: KubeConfig, namespace: string): Promise<void> {
  const ns = await new KubeCluster(kc).get({ group: "", version: "v1", kind: "Namespace", name: namespace });
  if (!ns) {
    throw new ClusterError(`namespace ${namespace} does not exist in ${kc.getCurrentCluster()?.server ?? "the agent's cluster"}: `
      + "run `tether install` there first, or pass -n with the agent's namespace");
  }
}

/** The token controller fills the Secret in within a second or two. */
async function waitForToken(kc: KubeConfig): Promise<{ token: string; caData?: string }> {
  const core = kc.makeApiClient(CoreV1Api);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const secret = await core.readNamespacedSecret({ name: `${MANAGER}-token`, namespace: MANAGER_NAMESPACE });
    const token = secret.data?.token;
    if (token) return { token: Buffer.from(token, "base64").toString("utf8"), ...(secret.data?.["ca.crt"] ? { caData: secret.data["ca.crt"] } : {}) };
    if (Date.now() > deadline) {
      throw new ClusterError(`Secret ${MANAGER_NAMESPACE}/${MANAGER}-token got no token within 30s: is kube-controller-manager running in ${kc.getCurrentCluster()?.server}?`);
    }
    await sleep(500);
  }
}

/** The CA the kubeconfig trusts for the target, base64 as Argo CD's caData holds it. */
async function clusterCa(kc: KubeConfig): Promise<string | undefined> {
  const cluster = kc.getCurrentCluster();
  if (cluster?.caData) return cluster.caData;
  if (cluster?.caFile) return (await readFile(cluster.caFile)).toString("base64");
  return undefined;
}

function listCommand(): Command {
  return new Command("list").alias("ls")
    .description("List the clusters the agent can deploy to (never their credentials)")
    .option("--kubeconfig <path>", "kubeconfig of the agent's cluster (default: $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context")
    .option("-n, --namespace <ns>", "the agent's namespace", DEFAULT_NAMESPACE)
    .addOption(new Option("-o, --output <format>", "table, json or yaml").default("table"))
    .addHelpText("after", "\nExample:\n  tether cluster list -o json")
    .action(async (flags: KubeFlags & { output: string }) => {
      const format = parseFormat(flags.output, ["table", "json", "yaml"]);
      const kc = loadKubeConfig(flags);
      const clusters = [IN_CLUSTER, ...await withCluster(kc, () => listClusters(kc, flags.namespace ?? DEFAULT_NAMESPACE))];
      if (format === "json" || format === "yaml") process.stdout.write(serialize(clusters, format));
      else process.stdout.write(table(["NAME", "SERVER", "SECRET", "AUTH", "INSECURE"],
        clusters.map((c) => [c.name, c.server, c.secret || "-", c.auth, String(c.insecure)])));
    });
}

/** Cluster Secrets with either label, once each. */
export async function listClusters(kc: KubeConfig, namespace: string): Promise<ClusterSummary[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const seen = new Map<string, ClusterSummary>();
  for (const label of [CLUSTER_LABEL, ARGOCD_CLUSTER_LABEL]) {
    const list = await core.listNamespacedSecret({ namespace, labelSelector: `${label}=cluster` });
    for (const s of list.items) seen.set(s.metadata?.name ?? "", summarize(s));
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}
