// `tether install`: what the agent needs in a cluster, applied with server-side apply (idempotent).
import { Command } from "commander";
import { RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { installManifests, staleBindings, type BindingState, type InstallOptions } from "../../agent/api/install.ts";
import { DEFAULT_NAMESPACE, type Manifest } from "../../agent/api/types.ts";
import { KubeCluster } from "../../agent/apply/cluster.ts";
import { KubeApiError } from "../../agent/apply/http.ts";
import { refOf, displayRef } from "../../agent/apply/inventory.ts";
import { UsageError } from "../errors.ts";
import { kubeOptions, loadKubeConfig, type KubeFlags } from "../kube.ts";
import { describeAgentTls, ensureAgentTls } from "./tls.ts";

export interface InstallFlags extends KubeFlags {
  readonly clusterRole?: string;
  /** `--namespaced`: no cluster-wide rights; see InstallOptions.mode. */
  readonly namespaced?: boolean;
  /** `--deploy-namespaces a,b`: where a namespaced agent may deploy. */
  readonly deployNamespaces?: string;
}

export async function install(flags: InstallFlags, log: (line: string) => void): Promise<void> {
  if (flags.deployNamespaces && !flags.namespaced) throw new UsageError("--deploy-namespaces needs --namespaced (in cluster mode --cluster-role decides)");
  const kc = loadKubeConfig(flags);
  const cluster = new KubeCluster(kc);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const namespace = flags.namespace ?? DEFAULT_NAMESPACE;
  const options: InstallOptions = {
    namespace,
    ...(flags.clusterRole ? { clusterRole: flags.clusterRole } : {}),
    ...(flags.namespaced ? { mode: "namespaced" as const } : {}),
    ...(flags.deployNamespaces ? { namespaces: flags.deployNamespaces.split(",").map((n) => n.trim()).filter((n) => n !== "") } : {}),
  };
  const objects = installManifests(options) as Manifest[];
  const stale = staleBindings(await agentBindings(cluster, rbac, objects), objects);
  await deleteBindings(cluster, stale.before, "roleRef cannot change in place", log);
  for (const obj of objects) {
    const before = await untilServed(() => cluster.get(refOf(obj)));
    await untilServed(() => cluster.apply(obj));
    if (obj.kind === "CustomResourceDefinition") await waitEstablished(cluster, obj);
    log(`${displayRef(refOf(obj))} ${before ? "configured" : "created"}`);
  }
  // Only now that the new bindings exist: the agent is never without one.
  await deleteBindings(cluster, stale.after, "replaced by the binding above", log);
  for (const line of describeAgentTls(await ensureAgentTls(cluster, namespace), namespace)) log(line);
}

const AGENT_LABELS = "app.kubernetes.io/name=tether,app.kubernetes.io/component=agent";

/** The agent's live bindings: its labelled ClusterRoleBindings, and the RoleBindings this install declares. */
async function agentBindings(cluster: KubeCluster, rbac: RbacAuthorizationV1Api, objects: readonly Manifest[]): Promise<BindingState[]> {
  const clusterWide = await rbac.listClusterRoleBinding({ labelSelector: AGENT_LABELS });
  const live: BindingState[] = clusterWide.items.map((b) => ({ kind: "ClusterRoleBinding", name: b.metadata?.name ?? "", roleRef: b.roleRef.name }));
  for (const candidate of objects.filter((o) => o.kind === "RoleBinding")) {
    const found = await cluster.get(refOf(candidate));
    const roleRef = (found as { roleRef?: { name?: string } } | undefined)?.roleRef?.name;
    if (found === undefined || roleRef === undefined) continue;
    live.push({ kind: "RoleBinding", name: candidate.metadata.name ?? "", roleRef, namespace: candidate.metadata.namespace ?? "" });
  }
  return live;
}

async function deleteBindings(cluster: KubeCluster, bindings: readonly BindingState[], why: string, log: (line: string) => void): Promise<void> {
  for (const stale of bindings) {
    const ref = { group: "rbac.authorization.k8s.io", version: "v1", kind: stale.kind, name: stale.name, ...(stale.namespace ? { namespace: stale.namespace } : {}) };
    await cluster.delete(ref);
    log(`${displayRef(ref)} deleted (bound ${stale.roleRef}; ${why})`);
  }
}

/**
 * Retries what the API server refuses for a moment with 429 or 503: a CRD whose schema just changed is
 * Established before its storage is ready ("storage is (re)initializing"), and the server says to retry.
 */
async function untilServed<T>(write: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await write();
    } catch (err) {
      if (!(err instanceof KubeApiError && (err.code === 429 || err.code === 503)) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function waitEstablished(cluster: KubeCluster, crd: Manifest): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const live = await cluster.get(refOf(crd));
    const conditions = (live?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
    if (conditions.some((c) => c.type === "Established" && c.status === "True")) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`CRD ${crd.metadata.name} was not Established within 30s; check the API server's log`);
}

export function installCommand(): Command {
  return kubeOptions(new Command("install")
    .description("Install Tether's CRDs, namespace, RBAC and default AppProject into a cluster (safe to run again)"), "agent namespace")
    .option("--cluster-role <name>", "ClusterRole bound to the agent's ServiceAccount; a narrower one replaces the binding of an earlier install", "cluster-admin")
    .option("--namespaced", "no cluster-wide rights: the agent manages only its namespace and --deploy-namespaces (replaces the ClusterRoleBinding)", false)
    .option("--deploy-namespaces <list>", "with --namespaced: comma-separated namespaces Applications may deploy to (default: the agent namespace)")
    .addHelpText("after", "\nExamples:\n  tether install --kubeconfig ./kubeconfig\n  tether install --namespaced --deploy-namespaces shop,web")
    .action(async (flags: InstallFlags) => {
      await install(flags, (line) => console.log(line));
      console.log(`Tether is installed in namespace ${flags.namespace ?? DEFAULT_NAMESPACE}. Start the agent with: tether agent${flags.kubeconfig ? ` --kubeconfig ${flags.kubeconfig}` : ""}`);
    });
}
