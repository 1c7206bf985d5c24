// `tether app list` filters: every namespace (-A), a label selector (-l), a project (-p).
import { CustomObjectsApi } from "@kubernetes/client-node";
import { GROUP, VERSION, type Application } from "../../agent/api/types.ts";
import { loadKubeConfig, withCluster, type KubeFlags } from "../kube.ts";

export interface ListFilter {
  readonly allNamespaces?: boolean;
  readonly selector?: string;
  readonly projects?: readonly string[];
}

/** Applications matching the filter, sorted by namespace then name. */
export async function listApplications(flags: KubeFlags, filter: ListFilter): Promise<Application[]> {
  const kc = loadKubeConfig(flags);
  const api = kc.makeApiClient(CustomObjectsApi);
  const base = { group: GROUP, version: VERSION, plural: "applications", ...(filter.selector ? { labelSelector: filter.selector } : {}) };
  const list = await withCluster(kc, async () => (filter.allNamespaces
    ? await api.listClusterCustomObject(base)
    : await api.listNamespacedCustomObject({ ...base, namespace: flags.namespace ?? "tether-system" })) as { items: Application[] });
  return selectApps(list.items, filter);
}

/** The project filter, and a stable order. Pure. */
export function selectApps(apps: readonly Application[], filter: ListFilter): Application[] {
  const projects = filter.projects ?? [];
  return apps.filter((a) => projects.length === 0 || projects.includes(a.spec.project ?? "default"))
    .sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
}
