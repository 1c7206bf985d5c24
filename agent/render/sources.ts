// An Application's sources rendered into one list of objects, as Argo CD (2.6+) does with
// `spec.sources`: each source with its own type (Git directory, Kustomize, Helm chart in Git, chart
// from a chart repository or OCI registry), a source with `ref` lending its checkout to the others'
// `$ref/path` Helm value files, the objects merged. One source (`spec.source`) is the list of one.
// Git and chart repositories are reached through the interfaces below: the I/O stays at the edge.
import type { Application, ApplicationSource } from "../api/types.ts";
import { sourcesOf } from "../api/sources.ts";
import { TetherError } from "../errors.ts";
import { safeJoin } from "../source/safe-join.ts";
import { adoptArgoCdManifests } from "./argocd.ts";
import { adoptKargoManifests } from "./kargo.ts";
import { overrideFiles, withOverrides } from "./override.ts";
import { detectType, explicitType, lazyDecryptor, renderApplication, type AgeKeys, type ApplicationRenderInput } from "./application.ts";
import type { DependencyFetch } from "./chart-deps.ts";
import { renderChart } from "./chart.ts";
import { renderFiles } from "./directory.ts";
import { isJsonnetFile } from "./jsonnet.ts";
import { KUSTOMIZATION_FILES } from "./kustomize.ts";
import { checkRenderedSize, fileTooLarge, type RenderLimits } from "./limits.ts";
import type { Capabilities, RenderedObject } from "./types.ts";

/** A commit's tree in a throwaway directory (the Kustomize renderer edits it). */
export interface SourceTree {
  readonly dir: string;
  cleanup(): Promise<void>;
}

/** Git as the render needs it: agent/source's GitSource (fetched by the caller) fits as it is. */
export interface GitTrees {
  /** The full commit SHA `revision` names (branch, tag, SHA, HEAD/empty). */
  resolve(repoURL: string, revision?: string): Promise<string>;
  /** The tree of a full commit SHA from `resolve`, the render's own (it may edit it). */
  checkout(repoURL: string, commit: string): Promise<SourceTree>;
  /**
   * The tree of a commit shared by renders that only read it (one extraction for all the apps of a
   * commit); `cleanup` releases it. Without it every source gets a {@link checkout}. `dir`: the source's
   * path, when nothing else of the tree is lent to other sources (a `ref`): the tree may then hold
   * only it, if it is a directory of plain files.
   */
  sharedTree?(repoURL: string, commit: string, dir?: string): Promise<SourceTree>;
  /**
   * The regular files under `dir` of a commit, read without a tree on disk (GitSource.plainFiles);
   * undefined when the directory holds anything else. A file over `maxFileBytes` comes without its text.
   */
  plainFiles?(repoURL: string, commit: string, dir: string, maxFileBytes: number): Promise<readonly PlainFile[] | undefined>;
}

/** A file of a plain directory, read from Git. */
export interface PlainFile {
  readonly path: string;
  readonly size: number;
  readonly text?: string;
}

export interface SourcesRenderInput {
  readonly app: Application;
  /** {@link sourcesOf}(app): `spec.sources`, or `[spec.source]`. */
  readonly sources: readonly ApplicationSource[];
  /**
   * From {@link resolveSources}: one per source, the commit SHA or chart version to render. The
   * render is then a function of these and the spec (the render cache's key), and a rollback renders
   * the revisions a history entry recorded.
   */
  readonly revisions: readonly string[];
  readonly git: GitTrees;
  /** Charts from chart repositories and registries, dependencies included, and the AppProject's say on them. */
  readonly charts: DependencyFetch;
  /** age identities from the Application's key Secret (never logged), or how to read them when a render first needs them. */
  readonly decryptionKeys: AgeKeys;
  readonly allowRemoteBases?: (url: string) => boolean;
  /** Whether a remote Kustomize base may be a repository on the agent's disk (`--allow-local-repos`). */
  readonly allowLocalRepos?: boolean;
  /** The agent's namespace: rendered `argoproj.io` Applications and AppProjects are moved there. */
  readonly agentNamespace: string;
  /** Renders one Git source's tree; the agent wraps {@link renderApplication} in its render limits. */
  readonly renderTree?: (input: ApplicationRenderInput) => Promise<RenderedObject[]>;
  /**
   * The limits `renderTree` applies. Given, a plain directory is rendered from Git's objects under
   * them, without a tree on disk (when `git.plainFiles` reads it).
   */
  readonly limits?: RenderLimits;
  /** The destination's version and APIs, for Helm's `.Capabilities`; absent without a cluster. */
  readonly capabilities?: Capabilities;
}

export interface SourcesRender {
  readonly objects: RenderedObject[];
  /** What Tether does not implement in rendered Argo CD manifests; for a condition, not a failure. */
  readonly warnings: string[];
}

/** What {@link resolveSources} asks: Git (fetched already) and the chart repositories. */
export interface SourceResolvers {
  readonly git: Pick<GitTrees, "resolve">;
  readonly charts: Pick<DependencyFetch["charts"], "resolve">;
}

export { sourcesOf };

/**
 * One revision per source, in order: the commit SHA of a Git source, the chart version of a chart
 * source (what status and history record). Every `$ref` is checked first, so a wrong ref fails
 * before any repository is asked.
 */
export async function resolveSources(sources: readonly ApplicationSource[], resolvers: SourceResolvers): Promise<string[]> {
  checkRefs(sources);
  const revisions: string[] = [];
  for (const source of sources) {
    revisions.push(source.chart === undefined
      ? await resolvers.git.resolve(source.repoURL, source.targetRevision)
      : await resolvers.charts.resolve({ repoURL: source.repoURL, chart: source.chart, ...(source.targetRevision === undefined ? {} : { targetRevision: source.targetRevision }) }));
  }
  return revisions;
}

/**
 * Renders every source at its revision and merges the objects. Two sources rendering the same
 * object is a RenderFailed naming both (Argo CD would silently keep one). All checkouts are removed
 * before it returns.
 */
export async function renderSources(input: SourcesRenderInput): Promise<SourcesRender> {
  checkRefs(input.sources);
  if (input.revisions.length !== input.sources.length) {
    throw new Error(`internal: ${input.revisions.length} revisions for ${input.sources.length} sources`);
  }
  const inMemory = await plainDirectory(input);
  if (inMemory !== undefined) return adopted([inMemory], input);
  const trees = new Map<number, SourceTree>();
  try {
    for (const [i, source] of input.sources.entries()) {
      if (source.chart === undefined) trees.set(i, await treeOf(input, source, input.revisions[i]!));
    }
    const valueRoots = refRoots(input.sources, trees);
    const perSource: RenderedObject[][] = [];
    for (const [i, source] of input.sources.entries()) {
      perSource.push(await renderOne({ input, source: pinned(source, input.revisions[i]!), tree: trees.get(i), valueRoots }));
    }
    return adopted(perSource, input);
  } finally {
    for (const tree of trees.values()) await tree.cleanup();
  }
}

/** The sources' objects merged, rendered Argo CD and Kargo objects adopted. */
function adopted(perSource: readonly (readonly RenderedObject[])[], input: SourcesRenderInput): SourcesRender {
  const argo = adoptArgoCdManifests(mergeObjects(perSource), { namespace: input.agentNamespace });
  const kargo = adoptKargoManifests(argo.objects);
  return { objects: kargo.objects, warnings: [...argo.warnings, ...kargo.warnings] };
}

/**
 * One Git source whose path is a directory of plain manifests (regular files only; no kustomization,
 * Chart.yaml, Jsonnet or override file): rendered from the mirror's objects under the render limits,
 * without writing its files to a tree and reading them back (a first sync's thousands of files, most of
 * a push's disk work). Undefined when anything else: the source then renders from a tree.
 */
async function plainDirectory(input: SourcesRenderInput): Promise<RenderedObject[] | undefined> {
  const [source] = input.sources;
  const { limits, git } = input;
  if (limits === undefined || git.plainFiles === undefined || input.sources.length !== 1 || source === undefined
    || source.chart !== undefined || source.ref !== undefined || source.path === undefined) return undefined;
  const app = withSource(input.app, source);
  const type = explicitType(app);
  if (type !== undefined && type !== "directory") return undefined;
  const files = await git.plainFiles(source.repoURL, input.revisions[0]!, source.path, limits.maxFileBytes);
  if (files === undefined) return undefined;
  const top = new Set(files.filter((f) => !f.path.includes("/")).map((f) => f.path));
  const toolFiles = type === undefined ? [...KUSTOMIZATION_FILES, "Chart.yaml"] : [];
  if ([...toolFiles, ...overrideFiles(app.metadata?.name ?? "")].some((f) => top.has(f)) || files.some((f) => isJsonnetFile(f.path))) return undefined;
  const read: { path: string; text: string }[] = [];
  for (const file of files) {
    if (file.text === undefined) throw fileTooLarge(source.path, file.path, file.size, limits);
    read.push({ path: file.path, text: file.text });
  }
  const objects = await renderFiles({ path: source.path, files: read, decrypt: lazyDecryptor(input.decryptionKeys),
    ...(source.directory ? { directory: source.directory } : {}) });
  checkRenderedSize(objects, source.path, limits);
  return objects;
}

/**
 * The tree a Git source renders from: the commit's shared tree when its renderer only reads files
 * (plain manifests, Jsonnet, a `ref` lending its files), a checkout of its own when it edits them
 * (Kustomize edits kustomization files, Helm fetches dependencies into charts/).
 */
async function treeOf(input: SourcesRenderInput, source: ApplicationSource, commit: string): Promise<SourceTree> {
  if (input.git.sharedTree === undefined) return await input.git.checkout(source.repoURL, commit);
  const own = source.ref === undefined && source.path !== undefined ? source.path : undefined;
  const shared = await input.git.sharedTree(source.repoURL, commit, own);
  if (await readsOnly(shared.dir, withSource(input.app, source), source)) return shared;
  await shared.cleanup();
  return await input.git.checkout(source.repoURL, commit);
}

/** Whether rendering `source` only reads the tree: the type renderApplication picks is plain manifests. */
async function readsOnly(root: string, app: Application, source: ApplicationSource): Promise<boolean> {
  if (source.ref !== undefined && source.path === undefined) return true;
  try {
    return (explicitType(app) ?? await detectType(await safeJoin(root, source.path ?? "."))) === "directory";
  } catch {
    // A path out of the tree, two types named: the render fails on it the same way, reading only.
    return true;
  }
}

/** A chart source at the version resolved for it: the render does not ask the repository again. */
function pinned(source: ApplicationSource, revision: string): ApplicationSource {
  return source.chart === undefined ? source : { ...source, targetRevision: revision };
}

interface OneSource {
  readonly input: SourcesRenderInput;
  readonly source: ApplicationSource;
  readonly tree: SourceTree | undefined;
  readonly valueRoots: Readonly<Record<string, string>>;
}

async function renderOne({ input, source, tree, valueRoots }: OneSource): Promise<RenderedObject[]> {
  const { app } = input;
  if (source.chart !== undefined) {
    const chart = await renderChart({
      source: { repoURL: source.repoURL, chart: source.chart, ...(source.targetRevision === undefined ? {} : { targetRevision: source.targetRevision }), ...(source.helm ? { helm: source.helm } : {}) },
      fetch: input.charts, releaseName: source.helm?.releaseName ?? app.metadata?.name ?? "release", valueRoots,
      ...(input.capabilities ? { capabilities: input.capabilities } : {}),
      ...(app.spec.destination.namespace ? { namespace: app.spec.destination.namespace } : {}),
    });
    return chart.objects;
  }
  if (tree === undefined) throw new Error("internal: a Git source without its checkout");
  // A source that only lends its files (`ref` without `path`) renders nothing, as in Argo CD.
  if (source.ref !== undefined && source.path === undefined) return [];
  const overridden = await withOverrides(tree.dir, source, app.metadata?.name ?? "");
  return (input.renderTree ?? renderApplication)({
    root: tree.dir, app: withSource(app, overridden), decryptionKeys: input.decryptionKeys, charts: input.charts, valueRoots,
    ...(input.allowRemoteBases ? { allowRemoteBases: input.allowRemoteBases } : {}),
    ...(input.allowLocalRepos === true ? { allowLocalRepos: true } : {}),
    ...(input.capabilities ? { capabilities: input.capabilities } : {}),
  });
}

/** The app as a renderer of one source sees it: that source as `spec.source`, no `spec.sources`. */
function withSource(app: Application, source: ApplicationSource): Application {
  const spec = { ...app.spec, source };
  delete spec.sources;
  return { ...app, spec };
}

/**
 * Refs must be unique, and every `$ref/…` value file must name one: checked on the spec alone, so
 * a wrong ref fails before any repository is asked for anything.
 */
export function checkRefs(sources: readonly ApplicationSource[]): void {
  const refs = new Map<string, number>();
  for (const [i, source] of sources.entries()) {
    if (source.ref === undefined) continue;
    if (!/^[A-Za-z0-9_-]+$/.test(source.ref)) {
      throw new TetherError("RenderFailed", `spec.sources[${i}].ref '${source.ref}' may hold only letters, digits, '-' and '_'`, { object: `spec.sources[${i}].ref` });
    }
    if (source.chart !== undefined) {
      throw new TetherError("RenderFailed", `spec.sources[${i}] has both ref and chart: a ref lends the files of a Git repository; move the values into one`, { object: `spec.sources[${i}]` });
    }
    const other = refs.get(source.ref);
    if (other !== undefined) throw new TetherError("RenderFailed", `spec.sources[${other}] and spec.sources[${i}] both have ref: ${source.ref}; give each a name of its own`, { object: `spec.sources[${i}].ref` });
    refs.set(source.ref, i);
  }
  for (const [i, source] of sources.entries()) {
    for (const file of source.helm?.valueFiles ?? []) {
      const ref = /^\$([^/]+)\//.exec(file)?.[1];
      if (ref !== undefined && !refs.has(ref)) {
        const known = [...refs.keys()].map((r) => `$${r}`).join(", ") || "none";
        throw new TetherError("RenderFailed", `spec.sources[${i}].helm.valueFiles: ${file} refers to no source with ref: ${ref} (refs: ${known}); add ref: ${ref} to the source that holds the file`, { object: `spec.sources[${i}].helm.valueFiles` });
      }
    }
  }
}

function refRoots(sources: readonly ApplicationSource[], trees: ReadonlyMap<number, SourceTree>): Record<string, string> {
  const roots: Record<string, string> = {};
  for (const [i, source] of sources.entries()) {
    const tree = trees.get(i);
    if (source.ref !== undefined && tree !== undefined) roots[source.ref] = tree.dir;
  }
  return roots;
}

/** The objects of all sources, in source order; one object rendered by two sources is refused. */
export function mergeObjects(perSource: readonly (readonly RenderedObject[])[]): RenderedObject[] {
  const seen = new Map<string, number>();
  const merged: RenderedObject[] = [];
  for (const [i, objects] of perSource.entries()) {
    for (const object of objects) {
      // generateName objects (hooks) get a fresh name each sync: never the same object.
      if (object.manifest.metadata.name === undefined) {
        merged.push(object);
        continue;
      }
      const key = objectKey(object);
      const first = seen.get(key);
      if (first !== undefined && first !== i) {
        throw new TetherError("RenderFailed", `${key} is rendered by spec.sources[${first}] and spec.sources[${i}]: an object may come from one source only; remove it from one of them`, { object: key });
      }
      seen.set(key, i);
      merged.push(object);
    }
  }
  return merged;
}

function objectKey({ manifest }: RenderedObject): string {
  const group = manifest.apiVersion.includes("/") ? manifest.apiVersion.slice(0, manifest.apiVersion.indexOf("/")) : "";
  return `${manifest.kind}${group ? `.${group}` : ""}/${manifest.metadata.namespace ?? ""}/${manifest.metadata.name ?? ""}`;
}
