// `tether install`: what the agent needs in a cluster, applied with server-side apply (idempotent).
import { Command } from "commander";
import { AGENT_NAME, installManifests, staleBindings, type BindingState, type InstallOptions } from "../../agent/api/install.ts";
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
  const cluster = new KubeCluster(loadKubeConfig(flags));
  const namespace = flags.namespace ?? DEFAULT_NAMESPACE;
  const options: InstallOptions = {
    namespace,
    ...(flags.clusterRole ? { clusterRole: flags.clusterRole } : {}),
    ...(flags.namespaced ? { mode: "namespaced" as const } : {}),
    ...(flags.deployNamespaces ? { namespaces: flags.deployNamespaces.split(",").map((n) => n.trim()).filter((n) => n !== "") } : {}),
  };
  const objects = installManifests(options);
  await removeStaleBindings(cluster, objects as Manifest[], log);
  for (const obj of objects as Manifest[]) {
    const before = await untilServed(() => cluster.get(refOf(obj)));
    await untilServed(() => cluster.apply(obj));
    if (obj.kind === "CustomResourceDefinition") await waitEstablished(cluster, obj);
    log(`${displayRef(refOf(obj))} ${before ? "configured" : "created"}`);
  }
  for (const line of describeAgentTls(await ensureAgentTls(cluster, namespace), namespace)) log(line);
}

/** Deletes the agent's bindings that an apply cannot narrow (see staleBindings). */
async function removeStaleBindings(cluster: KubeCluster, objects: readonly Manifest[], log: (line: string) => void): Promise<void> {
  const candidates = [
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: AGENT_NAME } } as Manifest,
    ...objects.filter((o) => o.kind === "RoleBinding"),
  ];
  const live: BindingState[] = [];
  for (const candidate of candidates) {
    const found = await cluster.get(refOf(candidate));
    const roleRef = (found as { roleRef?: { name?: string } } | undefined)?.roleRef?.name;
    if (found === undefined || roleRef === undefined) continue;
    live.push({ kind: candidate.kind as BindingState["kind"], name: candidate.metadata.name ?? "", roleRef,
      ...(candidate.metadata.namespace ? { namespace: candidate.metadata.namespace } : {}) });
  }
  for (const stale of staleBindings(live, objects)) {
    const ref = { group: "rbac.authorization.k8s.io", version: "v1", kind: stale.kind, name: stale.name, ...(stale.namespace ? { namespace: stale.namespace } : {}) };
    await cluster.delete(ref);
    log(`${displayRef(ref)} deleted (bound ${stale.roleRef}; roleRef cannot change in place)`);
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
