// AppProject rules, as Argo CD applies them: which repositories an app may read, where it may deploy,
// and which kinds it may create. Pure: the project and the planned objects in, the first violation out.
import { sourcesOf } from "../api/sources.ts";
import { API_VERSION, type AppProject, type Application, type ApplicationDestination, type Manifest } from "../api/types.ts";
import { splitApiVersion } from "../api/gvk.ts";
import { TetherError } from "../errors.ts";
import { globMatch as matchGlob, matchesList, type GlobOptions } from "../render/glob.ts";
import { normalizeRepoPattern, normalizeRepoUrl } from "../source/repo-url.ts";
import { DEFAULT_KEY_SECRET, keySecretOf } from "../api/sources.ts";

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

/**
 * Whether the project's sourceRepos permit a repository URL (`!` patterns deny). Both sides are
 * normalised as the URL git or helm fetches (agent/source/repo-url.ts), so no spelling of a
 * repository (`..`, case, userinfo, a `.git` suffix, a default port) passes a rule another would not.
 */
export function repoAllowed(project: AppProject, url: string | undefined): boolean {
  // No repoURL: an in-repo child Application checked before its parent's URL is filled in (`tether app
  // create`); only a pattern that allows any repository allows it.
  return negatable((project.spec.sourceRepos ?? []).map(normalizeRepoPattern), normalizeRepoUrl(url ?? ""));
}

/**
 * Whether the project lets its apps decrypt with the key Secret `name` (`spec.decryptionKeys`, globs;
 * beyond Argo CD, which has no SOPS): a key Secret is a tenant's, like its repositories.
 */
export function decryptionKeyAllowed(project: AppProject, name: string): boolean {
  return matchesList(project.spec.decryptionKeys ?? [], name);
}

/**
 * Throws InvalidSpecError for an Application Argo CD refuses before any project rule: a destination
 * with both `name` and `server` (the policy would check one cluster and the resolver pick another).
 */
export function checkDestinationSpec(app: Application): void {
  const dest = app.spec.destination;
  if (dest.name && dest.server) {
    throw new TetherError("InvalidSpecError",
      `application destination can't have both name and server defined: ${dest.name} ${dest.server}; keep spec.destination.name or spec.destination.server`,
      { object: `Application ${app.metadata?.name ?? "?"}` });
  }
}

/** Throws PolicyViolation when the app's source, destination or key Secret is outside its project. */
export function checkApplication(project: AppProject, app: Application): void {
  checkDestinationSpec(app);
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
  checkDecryptionKey(project, app);
}

/**
 * An app that names a key Secret (`decryption.secretRef`) the project does not list is refused
 * before anything is fetched or decrypted. An app on the default key whose project does not list
 * it gets no key (see {@link decryptionKeysFor}): its encrypted files fail, its others render.
 */
function checkDecryptionKey(project: AppProject, app: Application): void {
  const secret = keySecretOf(app);
  if (secret === DEFAULT_KEY_SECRET && !namesKeySecret(app)) return;
  if (decryptionKeyAllowed(project, secret)) return;
  const name = `Application ${app.metadata?.name ?? "?"}`;
  throw new TetherError("PolicyViolation",
    `${name}: decryption key Secret ${secret} is not permitted in project ${project.metadata?.name}; add it to the project's spec.decryptionKeys, or name a key Secret the project lists in decryption.secretRef`,
    { object: name });
}

function namesKeySecret(app: Application): boolean {
  return [...(app.spec.sources ?? []), ...(app.spec.source ? [app.spec.source] : [])].some((s) => s.decryption?.secretRef?.name !== undefined);
}

/** The app's age keys when its project lists its key Secret; none otherwise, so nothing is decrypted. */
export async function decryptionKeysFor(project: AppProject, app: Application, load: (app: Application) => Promise<readonly string[]>): Promise<readonly string[]> {
  return decryptionKeyAllowed(project, keySecretOf(app)) ? load(app) : [];
}

/** A project destination names the cluster by server URL or by name (Argo CD's `destinations[].name`); `*` in either allows any. */
function clusterAllowed(allowed: { readonly server?: string; readonly name?: string }, dest: ApplicationDestination): boolean {
  if (allowed.server === undefined && allowed.name === undefined) return true;
  if (allowed.name !== undefined && dest.name) return globMatch(allowed.name, dest.name);
  if (allowed.server === "*") return true;
  const server = dest.server ?? (dest.name ? undefined : IN_CLUSTER);
  return allowed.server !== undefined && server !== undefined && globMatch(allowed.server, server);
}

type GroupKind = { readonly group: string; readonly kind: string };
const matches = (list: readonly GroupKind[] | undefined, group: string, kind: string) =>
  (list ?? []).some((gk) => globMatch(gk.group || "", group) && globMatch(gk.kind, kind));

/**
 * Throws PolicyViolation for the first object whose kind the project does not allow, that lands
 * outside its destinations, or that is a child Application in a project the parent may not name.
 * Destinations are (cluster, namespace) pairs: an object's namespace must be allowed by an entry
 * whose cluster is the app's, so `{a, team-a}` and `{b, *}` never let an app on cluster a into kube-system.
 */
export function checkObjects(project: AppProject, destination: ApplicationDestination, objects: readonly { manifest: Manifest; namespaced: boolean }[]): void {
  const spec = project.spec;
  const forCluster = (spec.destinations ?? []).filter((d) => clusterAllowed(d, destination));
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
      if (!forCluster.some((d) => globMatch(d.namespace ?? "*", ns))) {
        throw fail(`namespace "${ns}" on cluster ${clusterLabel(destination)} is not a permitted destination; add {${destinationKey(destination)}, namespace: ${ns}} to the project's destinations`);
      }
    } else if (!matches(spec.clusterResourceWhitelist, group, manifest.kind) || matches(spec.clusterResourceBlacklist, group, manifest.kind)) {
      throw fail(`cluster-scoped kind ${manifest.kind} is not permitted; add {group: "${group}", kind: ${manifest.kind}} to clusterResourceWhitelist`);
    }
    const child = childProjectViolation(project, manifest);
    if (child !== undefined) throw fail(child);
  }
}

function clusterLabel(dest: ApplicationDestination): string {
  return dest.name ? `"${dest.name}"` : dest.server ?? IN_CLUSTER;
}

function destinationKey(dest: ApplicationDestination): string {
  return dest.name ? `name: ${dest.name}` : `server: ${dest.server ?? IN_CLUSTER}`;
}

/**
 * A child Application (app-of-apps) names its parent's project, or one the parent's project lists
 * in `spec.childProjects` (globs). Beyond Argo CD, which trusts whoever writes the parent's
 * repository: there a tenant's app-of-apps could put a child in any project.
 */
export function childProjectViolation(parent: AppProject, manifest: Manifest): string | undefined {
  if (manifest.apiVersion !== API_VERSION && manifest.apiVersion !== "argoproj.io/v1alpha1") return undefined;
  if (manifest.kind === "ApplicationSet") return setProjectViolation(parent, manifest);
  if (manifest.kind !== "Application") return undefined;
  const spec = manifest.spec as { project?: unknown } | undefined;
  const child = typeof spec?.project === "string" && spec.project !== "" ? spec.project : "default";
  const own = parent.metadata?.name ?? "default";
  if (child === own || matchesList(parent.spec.childProjects ?? [], child)) return undefined;
  return `child Application ${manifest.metadata.name} names project "${child}", but an app of project ${own} may only create Applications in project ${own}; set its spec.project to ${own}, or add "${child}" to spec.childProjects of project ${own}`;
}

/**
 * An ApplicationSet in an app-of-apps answers to the same rule for the project its template names, when
 * that is a plain name; a templated one (`{{.project}}`) is checked on each generated Application
 * (agent/appset/authority.ts).
 */
function setProjectViolation(parent: AppProject, manifest: Manifest): string | undefined {
  const template = (manifest.spec as { template?: { spec?: { project?: unknown } } } | undefined)?.template;
  const named = template?.spec?.project;
  const child = typeof named === "string" && named !== "" ? named : "default";
  const own = parent.metadata?.name ?? "default";
  if (child.includes("{{") || child === own || matchesList(parent.spec.childProjects ?? [], child)) return undefined;
  return `ApplicationSet ${manifest.metadata.name} generates Applications in project "${child}", but an app of project ${own} may only create Applications in project ${own}; set its template's spec.project to ${own}, or add "${child}" to spec.childProjects of project ${own}`;
}
