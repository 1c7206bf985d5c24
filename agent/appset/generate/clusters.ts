// The clusters generator: one parameter set per cluster Secret matching the selector, and the local
// cluster when no selector is given and no Secret already describes it (Argo CD's rule).
import { normalize } from "../../template/sprig.ts";
import type { ClusterEntry } from "./index.ts";
import type { Params, RenderMode } from "./render.ts";
import { selectorMatches } from "./selector.ts";
import type { ClusterGenerator } from "./types.ts";
import { withValues } from "./values.ts";

/** The labels a cluster Secret carries (Argo CD's, or Tether's); the implicit local cluster entry has neither. */
export const CLUSTER_SECRET_LABELS = ["argocd.argoproj.io/secret-type", "tether.dev/secret-type"];
export const LOCAL_SERVER = "https://kubernetes.default.svc";

/** The local cluster as the environment adds it (not a Secret): Argo CD drops it when a selector is set. */
function isImplicitLocal(c: ClusterEntry): boolean {
  return c.server === LOCAL_SERVER && !CLUSTER_SECRET_LABELS.some((l) => c.labels[l] !== undefined);
}

export function clusterParams(gen: ClusterGenerator, clusters: readonly ClusterEntry[], mode: RenderMode): Params[] {
  const selector = gen.selector ?? {};
  const hasSelector = Object.keys(selector.matchLabels ?? {}).length > 0 || (selector.matchExpressions ?? []).length > 0;
  const secrets = clusters.filter((c) => !isImplicitLocal(c));
  // Argo CD keys Secrets by cluster name (a later one with the same name wins); we keep name order.
  const byName = new Map<string, ClusterEntry>();
  for (const c of secrets) if (selectorMatches(selector, c.labels)) byName.set(c.name, c);
  const out: Params[] = [...byName.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((c) => withValues(secretParams(c, mode), gen.values, mode));
  const localHasSecret = secrets.some((c) => c.server === LOCAL_SERVER);
  if (!hasSelector && !localHasSecret) {
    const local = { name: "in-cluster", nameNormalized: "in-cluster", server: LOCAL_SERVER, project: "" };
    out.push(withValues(local, gen.values, mode));
  }
  return gen.flatList === true ? [{ clusters: out }] : out;
}

function secretParams(c: ClusterEntry, mode: RenderMode): Params {
  const params: Record<string, unknown> = {
    name: c.name,
    nameNormalized: normalize(c.name),
    server: c.server,
    project: c.project ?? "",
  };
  if (mode.goTemplate) {
    const metadata: Record<string, unknown> = {};
    if (Object.keys(c.annotations).length > 0) metadata.annotations = { ...c.annotations };
    if (Object.keys(c.labels).length > 0) metadata.labels = { ...c.labels };
    params.metadata = metadata;
  } else {
    for (const [k, v] of Object.entries(c.annotations)) params[`metadata.annotations.${k}`] = v;
    for (const [k, v] of Object.entries(c.labels)) params[`metadata.labels.${k}`] = v;
  }
  return params;
}
