// What generators read, supplied by the agent: its clusters (cluster Secrets, and the local cluster
// as Argo CD lists it), Git checkouts through the agent's own mirrors (local repositories refused
// without --allow-local-repos, a set from an app-of-apps held to its parent project's sourceRepos),
// ConfigMaps and Secrets of the agent namespace for the plugin generator.
import type { V1Secret } from "@kubernetes/client-node";
import type { AppProject } from "../api/types.ts";
import { CLUSTER_SECRET_LABELS, IN_CLUSTER_NAME, IN_CLUSTER_SERVER, parseClusterSecret } from "../apply/destinations.ts";
import { TetherError } from "../errors.ts";
import { repoAllowed } from "../policy/project.ts";
import { parseRepoUrl } from "../source/repo-url.ts";
import type { SourceStage } from "../controller/build.ts";
import type { ClusterEntry, GeneratorEnv } from "./generate/index.ts";

export interface EnvDeps {
  readonly source: SourceStage;
  readonly allowLocalRepos: boolean;
  /** Secrets of the agent namespace with a label selector. */
  readonly listSecrets: (labelSelector: string) => Promise<readonly V1Secret[]>;
  readonly readConfigMap?: (name: string) => Promise<Record<string, string> | undefined>;
  readonly readSecret?: (name: string) => Promise<V1Secret | undefined>;
  /** How recent git fetches must be (ms since epoch); 0 takes the mirror as it is, absent fetches now. */
  readonly since?: number;
}

/** Labels a Secret needs before a plugin generator may read it (Argo CD's part-of rule). */
const READABLE_SECRET = ["tether", "argocd"];

/** A generator environment for one set, and what to call when its generation is over. */
export interface SetEnv {
  readonly env: GeneratorEnv;
  /** Every repository a git generator read, so a webhook for one refreshes the set. */
  readonly repositories: () => readonly string[];
  readonly cleanup: () => Promise<void>;
}

/**
 * The environment for one generation of one set. `project` is the parent's project when the set was
 * rendered by an app-of-apps: its git generators may read only what that project's apps may.
 */
export function generatorEnv(deps: EnvDeps, opts: { readonly setName: string; readonly project?: AppProject }): SetEnv {
  const cleanups: (() => Promise<void>)[] = [];
  const repositories = new Set<string>();
  const env: GeneratorEnv = {
    clusters: () => clusterEntries(deps),
    checkout: async (repoURL, revision) => {
      repositories.add(repoURL);
      refuseRepo(repoURL, deps.allowLocalRepos, opts);
      await deps.source.fetch(repoURL, deps.since === undefined ? {} : { since: deps.since });
      const commit = await deps.source.resolve(repoURL, revision);
      const tree = await (deps.source.sharedTree ?? deps.source.checkout).call(deps.source, repoURL, commit);
      cleanups.push(() => tree.cleanup());
      return { dir: tree.dir, revision: commit };
    },
    ...(deps.readConfigMap ? { configMap: deps.readConfigMap } : {}),
    ...(deps.readSecret ? { secretValue: (ref: string) => secretValue(deps, ref) } : {}),
  };
  return {
    env, repositories: () => [...repositories],
    cleanup: async () => {
      for (const c of cleanups.splice(0)) await c().catch(() => undefined);
    },
  };
}

function refuseRepo(repoURL: string, allowLocal: boolean, opts: { readonly setName: string; readonly project?: AppProject }): void {
  const object = `ApplicationSet ${opts.setName}`;
  if (!allowLocal && parseRepoUrl(repoURL).key.startsWith("file://")) {
    throw new TetherError("SourceFailed", `repository ${repoURL} is on this machine's own disk, and local repositories are refused: `
      + "use a remote URL (https://, ssh://), or pass --allow-local-repos", { object, retryable: false });
  }
  if (opts.project && !repoAllowed(opts.project, repoURL)) {
    throw new TetherError("PolicyViolation", `repository ${repoURL} is not permitted in project ${opts.project.metadata?.name ?? ""}, `
      + "whose app rendered this set; add it to the project's sourceRepos", { object, retryable: false });
  }
}

/**
 * The clusters the clusters generator sees: each cluster Secret (both labels), and the local cluster
 * as `in-cluster` unless a Secret already describes it, as Argo CD lists them.
 */
export async function clusterEntries(deps: Pick<EnvDeps, "listSecrets">): Promise<ClusterEntry[]> {
  const secrets = (await Promise.all(CLUSTER_SECRET_LABELS.map((l) => deps.listSecrets(l)))).flat();
  const seen = new Set<string>();
  const entries: ClusterEntry[] = [];
  for (const secret of secrets) {
    const key = `${secret.metadata?.namespace ?? ""}/${secret.metadata?.name ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let parsed;
    try {
      parsed = parseClusterSecret(secret);
    } catch {
      continue; // the Application that deploys there names the broken Secret
    }
    const project = secret.data?.project ? Buffer.from(secret.data.project, "base64").toString("utf8") : undefined;
    entries.push({ name: parsed.name, server: parsed.server, labels: { ...secret.metadata?.labels },
      annotations: { ...secret.metadata?.annotations }, ...(project ? { project } : {}) });
  }
  if (!entries.some((e) => e.server === IN_CLUSTER_SERVER)) {
    entries.push({ name: IN_CLUSTER_NAME, server: IN_CLUSTER_SERVER, labels: {}, annotations: {} });
  }
  return entries.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A plugin token reference, as Argo CD spells it: `$NAME:KEY` (key KEY of Secret NAME) or `$KEY` (a key of
 * `tether-secret`, Tether's name for Argo CD's `argocd-secret`, or of `argocd-secret` itself). Only Secrets
 * of the agent namespace labelled `app.kubernetes.io/part-of: tether` (or `argocd`) are read.
 */
async function secretValue(deps: EnvDeps, ref: string): Promise<string | undefined> {
  if (!deps.readSecret) return undefined;
  const text = ref.replace(/^\$/, "");
  const colon = text.indexOf(":");
  const candidates = colon > 0 ? [[text.slice(0, colon), text.slice(colon + 1)]] : [["tether-secret", text], ["argocd-secret", text]];
  for (const [name = "", key = ""] of candidates) {
    const secret = await deps.readSecret(name);
    if (!READABLE_SECRET.includes(secret?.metadata?.labels?.["app.kubernetes.io/part-of"] ?? "")) continue;
    const value = secret?.data?.[key];
    if (value !== undefined) return Buffer.from(value, "base64").toString("utf8");
  }
  return undefined;
}
