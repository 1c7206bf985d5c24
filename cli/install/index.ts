// `tether install`: what the agent needs in a cluster, applied with server-side apply (idempotent).
import { Command } from "commander";
import { installManifests } from "../../agent/api/install.ts";
import { DEFAULT_NAMESPACE, type Manifest } from "../../agent/api/types.ts";
import { KubeCluster } from "../../agent/apply/cluster.ts";
import { refOf, displayRef } from "../../agent/apply/inventory.ts";
import { kubeOptions, loadKubeConfig, type KubeFlags } from "../kube.ts";

export async function install(flags: KubeFlags & { clusterRole?: string }, log: (line: string) => void): Promise<void> {
  const cluster = new KubeCluster(loadKubeConfig(flags));
  const objects = installManifests({ namespace: flags.namespace ?? DEFAULT_NAMESPACE, ...(flags.clusterRole ? { clusterRole: flags.clusterRole } : {}) });
  for (const obj of objects as Manifest[]) {
    const before = await cluster.get(refOf(obj));
    await cluster.apply(obj);
    if (obj.kind === "CustomResourceDefinition") await waitEstablished(cluster, obj);
    log(`${displayRef(refOf(obj))} ${before ? "configured" : "created"}`);
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
    .option("--cluster-role <name>", "ClusterRole bound to the agent's ServiceAccount", "cluster-admin")
    .addHelpText("after", "\nExample:\n  tether install --kubeconfig ./kubeconfig")
    .action(async (flags: KubeFlags & { clusterRole: string }) => {
      await install(flags, (line) => console.log(line));
      console.log(`Tether is installed in namespace ${flags.namespace ?? DEFAULT_NAMESPACE}. Start the agent with: tether agent${flags.kubeconfig ? ` --kubeconfig ${flags.kubeconfig}` : ""}`);
    });
}
