// `tether app list` filters: every namespace (-A), a label selector (-l), a project (-p).
import { CustomObjectsApi } from "@kubernetes/client-node";
import { GROUP, VERSION, type Application } from "../../agent/api/types.ts";
import { UsageError } from "../errors.ts";
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

/**
 * A label selector as kubectl takes it (`team=a,tier!=web,env,!legacy`), matched here for lists the agent's
 * API returns whole. Pure; set-based terms (`in`, `notin`) are refused with the form to use.
 */
export function labelsMatch(selector: string, labels: Readonly<Record<string, string>>): boolean {
  return selector.split(",").map((t) => t.trim()).filter(Boolean).every((term) => {
    if (/\s(in|notin)\s/.test(term)) throw new UsageError(`-l ${selector}: set-based terms need a kubeconfig; use key=value, key!=value, key or !key`);
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (m) return m[2] === "!=" ? labels[m[1]!.trim()] !== m[3]!.trim() : labels[m[1]!.trim()] === m[3]!.trim();
    return term.startsWith("!") ? !(term.slice(1) in labels) : term in labels;
  });
}
