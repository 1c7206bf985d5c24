// AppProject rules, as Argo CD applies them: which repositories an app may read, where it may deploy,
// and which kinds it may create. Pure: the project and the planned objects in, the first violation out.
import { sourcesOf } from "../api/sources.ts";
import type { AppProject, Application, Manifest } from "../api/types.ts";
import { splitApiVersion } from "../api/gvk.ts";
import { TetherError } from "../errors.ts";
import { globMatch as matchGlob, matchesList, type GlobOptions } from "../render/glob.ts";

/**
 * Argo CD's glob, from the one engine in agent/render/glob.ts (`?`, `[ab]`, `{a,b}`; `*` crosses `/`
 * unless the `/` separator is passed).
 */
export function globMatch(pattern: string, value: string, options: GlobOptions = {}): boolean {
  return matchGlob(pattern, value, options);
}

/** sourceRepos as Argo CD matches them: `!` patterns deny, and `*` stays inside one path segment (`**` crosses). */
const negatable = (patterns: readonly string[], value: string) => matchesList(patterns, value, { separator: "/" });

export const IN_CLUSTER = "https://kubernetes.default.svc";

/** Whether the project's sourceRepos permit a repository URL (`!` patterns deny). */
export function repoAllowed(project: AppProject, url: string): boolean {
  return negatable(project.spec.sourceRepos ?? [], url);
}

/** Throws PolicyViolation when the app's source or destination is outside its project. */
export function checkApplication(project: AppProject, app: Application): void {
  const name = `Application ${app.metadata?.name ?? "?"}`;
  for (const source of sourcesOf(app)) {
    if (repoAllowed(project, source.repoURL)) continue;
    const what = source.chart === undefined ? "repository" : `chart repository (chart ${source.chart})`;
    throw new TetherError("PolicyViolation",
      `${name}: ${what} ${source.repoURL} is not permitted in project ${project.metadata?.name}; add it to the project's sourceRepos`, { object: name });
  }
  const dest = app.spec.destination;
  const namespace = dest.namespace ?? "";
  const allowed = (project.spec.destinations ?? []).some((d) => clusterAllowed(d, dest) && globMatch(d.namespace ?? "*", namespace));
  if (!allowed) {
    const cluster = dest.name ? `cluster "${dest.name}"` : dest.server ?? IN_CLUSTER;
    throw new TetherError("PolicyViolation",
      `${name}: destination ${cluster} namespace "${namespace}" is not permitted in project ${project.metadata?.name}; add it to the project's destinations`, { object: name });
  }
}

/** A project destination names the cluster by server URL or by name (Argo CD's `destinations[].name`); `*` in either allows any. */
function clusterAllowed(allowed: { readonly server?: string; readonly name?: string }, dest: Application["spec"]["destination"]): boolean {
  if (allowed.server === undefined && allowed.name === undefined) return true;
  if (allowed.name !== undefined && dest.name) return globMatch(allowed.name, dest.name);
  if (allowed.server === "*") return true;
  const server = dest.server ?? (dest.name ? undefined : IN_CLUSTER);
  return allowed.server !== undefined && server !== undefined && globMatch(allowed.server, server);
}

type GroupKind = { readonly group: string; readonly kind: string };
const matches = (list: readonly GroupKind[] | undefined, group: string, kind: string) =>
  (list ?? []).some((gk) => globMatch(gk.group || "", group) && globMatch(gk.kind, kind));

/** Throws PolicyViolation for the first object whose kind the project does not allow, or that lands outside its destinations. */
export function checkObjects(project: AppProject, objects: readonly { manifest: Manifest; namespaced: boolean }[]): void {
  const spec = project.spec;
  for (const { manifest, namespaced } of objects) {
    const { group } = splitApiVersion(manifest.apiVersion);
    const where = `${manifest.kind}/${[manifest.metadata.namespace, manifest.metadata.name].filter(Boolean).join("/")}`;
    const fail = (why: string) => new TetherError("PolicyViolation", `${where}: ${why} in project ${project.metadata?.name}`, { object: where });
    if (namespaced) {
      const white = spec.namespaceResourceWhitelist;
      if ((white && !matches(white, group, manifest.kind)) || matches(spec.namespaceResourceBlacklist, group, manifest.kind)) {
        throw fail(`kind ${manifest.kind} is not permitted; allow it in namespaceResourceWhitelist/Blacklist`);
      }
      const ns = manifest.metadata.namespace ?? "";
      if (!(spec.destinations ?? []).some((d) => globMatch(d.namespace ?? "*", ns))) {
        throw fail(`namespace "${ns}" is not a permitted destination; add it to the project's destinations`);
      }
    } else if (!matches(spec.clusterResourceWhitelist, group, manifest.kind) || matches(spec.clusterResourceBlacklist, group, manifest.kind)) {
      throw fail(`cluster-scoped kind ${manifest.kind} is not permitted; add {group: "${group}", kind: ${manifest.kind}} to clusterResourceWhitelist`);
    }
  }
}
