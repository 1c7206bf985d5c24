// `tether appset generate -f FILE`: the Applications a set file would produce, without a cluster
// (Argo CD's `argocd appset generate`). Git generators read a local checkout given with
// --local-repo URL=DIR, else the repository itself through a throwaway mirror; the clusters
// generator reads the cluster Secrets of the kubeconfig's cluster only when the set uses it.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { API_VERSION, DEFAULT_NAMESPACE, type Application, type ApplicationSet, type Manifest } from "../../agent/api/types.ts";
import { generateApplications, parseApplicationSetSpec, type ClusterEntry, type GeneratorEnv } from "../../agent/appset/generate/index.ts";
import { desiredApplication } from "../../agent/appset/plan.ts";
import { adoptArgoCdManifests, ARGOCD_API_VERSION } from "../../agent/render/argocd.ts";
import { GitSource } from "../../agent/source/index.ts";
import { normalizeRepoUrl } from "../../agent/source/repo-url.ts";
import { UsageError } from "../errors.ts";

/** Exit 1 with the generator and the cause: the set would change nothing in a cluster either. */
export class GenerationError extends Error {
  readonly exitCode = 1;
}

/** The first ApplicationSet of a YAML or JSON file (Tether's or Argo CD's spelling), and what adopting it ignored. */
export async function readSetFile(file: string, namespace: string): Promise<{ set: ApplicationSet; warnings: string[] }> {
  const text = await readFile(file, "utf8").catch((err: unknown) => {
    throw new UsageError(`-f ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : String(err)}`);
  });
  const docs = parseAllDocuments(text).map((d) => d.toJS() as unknown).filter((d): d is Manifest => typeof d === "object" && d !== null);
  const found = docs.find((d) => d.kind === "ApplicationSet" && (d.apiVersion === API_VERSION || d.apiVersion === ARGOCD_API_VERSION));
  if (!found) throw new UsageError(`-f ${file}: no ApplicationSet (apiVersion ${API_VERSION} or ${ARGOCD_API_VERSION}) in the file`);
  const { objects, warnings } = adoptArgoCdManifests([{ manifest: found, file, decrypted: false }], { namespace });
  return { set: objects[0]?.manifest as unknown as ApplicationSet, warnings };
}

export interface GenerateOptions {
  /** Repository URL → a local directory to read instead of fetching (`--local-repo URL=DIR`). */
  readonly localRepos: ReadonlyMap<string, string>;
  readonly namespace?: string;
  /** The clusters generator's clusters; called only when the set has one. */
  readonly clusters: () => Promise<readonly ClusterEntry[]>;
}

/** `URL=DIR` pairs into a map keyed by the normalised URL. */
export function parseLocalRepos(pairs: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.lastIndexOf("=");
    if (eq <= 0 || eq === pair.length - 1) throw new UsageError(`--local-repo ${pair}: expected URL=DIR, e.g. https://github.com/org/gitops.git=.`);
    map.set(normalizeRepoUrl(pair.slice(0, eq)), path.resolve(pair.slice(eq + 1)));
  }
  return map;
}

/** The Applications `set` generates, as the agent would write them; throws GenerationError naming the generator. */
export async function generateFromSet(set: ApplicationSet, opts: GenerateOptions): Promise<Application[]> {
  const name = set.metadata?.name ?? "";
  const parsed = parseApplicationSetSpec(set.spec, `ApplicationSet ${name}`);
  if (!parsed.ok) throw new GenerationError(parsed.message);
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), "tether-appset-"));
  const source = new GitSource({ cacheDir, allowLocal: true });
  const env: GeneratorEnv = {
    clusters: opts.clusters,
    checkout: async (repoURL, revision) => {
      const local = opts.localRepos.get(normalizeRepoUrl(repoURL));
      if (local !== undefined) return { dir: local, revision: "local" };
      await source.fetch(repoURL);
      const commit = await source.resolve(repoURL, revision);
      const tree = await source.checkout(repoURL, commit);
      return { dir: tree.dir, revision: commit };
    },
  };
  try {
    const result = await generateApplications(parsed.spec, env, { name });
    if (!result.ok) throw new GenerationError(`ApplicationSet ${name}: ${result.generator}: ${result.message} (${result.reason}); nothing would change`);
    // A set read from a file has no uid yet: the owner reference is the agent's to write.
    return result.applications.map((g) => {
      const app = desiredApplication(set, g, opts.namespace ?? DEFAULT_NAMESPACE);
      const metadata = { ...app.metadata };
      delete metadata.ownerReferences;
      return { ...app, metadata };
    });
  } finally {
    await source.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
}
