// The source and build stages of a reconcile, for one source or many (`spec.sources`): each Git
// repository fetched, every source resolved to one revision (a commit SHA, a chart version), then
// one render of them all, cached by every input, and guarded after every lookup. The CLI's and the
// web UI's diffs go through the same functions, so what they show is what the agent would apply.
import type { TetherClient } from "../api/client.ts";
import { ignoredSingleSource, keySecretOf, primarySource, sourcesOf } from "../api/sources.ts";
import { API_VERSION, type AppProject, type Application, type ApplicationSource } from "../api/types.ts";
import { stableHash } from "../hash.ts";
import { checkPlaintextSecrets } from "../policy/plaintext.ts";
import { decryptionKeysFor, repoAllowed } from "../policy/project.ts";
import type { ApplicationRenderInput } from "../render/application.ts";
import type { ChartSource } from "../render/chart-deps.ts";
import type { RenderLimits } from "../render/limits.ts";
import { renderSources, resolveSources, type PlainFile, type SourcesRender } from "../render/sources.ts";
import type { Capabilities, RenderedObject } from "../render/types.ts";
import { helmRepoAccess } from "../source/helm-credentials.ts";
import { ChartFetcher } from "../source/helm-repo.ts";
import type { FetchLimits } from "../source/limits.ts";
import { cleanPath, renderReach, touches, type TreeEntry } from "../source/watched-paths.ts";
import type { RenderCache } from "./memo.ts";
import type { Freshness } from "./queue.ts";

/** Renders one Git source's tree (directory, Kustomize, Helm chart in Git); render limits wrap it. */
export type RenderFn = (input: ApplicationRenderInput) => Promise<RenderedObject[]>;

export interface SourceStage {
  fetch(url: string, opts?: { since?: number; refsMoved?: boolean }): Promise<void>;
  resolve(url: string, revision?: string): Promise<string>;
  checkout(url: string, commit: string): Promise<{ dir: string; cleanup(): Promise<void> }>;
  /** A commit's tree shared by the renders that only read it (GitSource.sharedTree). */
  sharedTree?(url: string, commit: string, dir?: string): Promise<{ dir: string; cleanup(): Promise<void> }>;
  /** Whether repositories on the agent's disk are served (`--allow-local-repos`); remote Kustomize bases follow it. */
  allowsLocalRepos?(): boolean;
  /** The credential Secret (`namespace/name`, never its value) the last fetch of `url` used. */
  credentialName?(url: string): string | undefined;
  /** The files that differ between two fetched commits (GitSource.changedFiles). */
  changedFiles?(url: string, from: string, to: string): Promise<readonly string[]>;
  /** The entries of a commit's tree under a directory (GitSource.treeEntries). */
  treeEntries?(url: string, commit: string, dir: string): Promise<readonly TreeEntry[]>;
  /** A plain directory's files read without a tree on disk (GitSource.plainFiles). */
  plainFiles?(url: string, commit: string, dir: string, maxFileBytes: number): Promise<readonly PlainFile[] | undefined>;
}

export interface BuildDeps {
  readonly source: SourceStage;
  readonly render: RenderFn;
  /** The limits `render` applies; given, a plain directory renders from Git's objects under them (render/sources.ts). */
  readonly limits?: RenderLimits;
  /** Charts from chart repositories and OCI registries (agent/source/helm-repo.ts's ChartFetcher). */
  readonly charts: ChartSource;
  /** Where rendered `argoproj.io` Applications and AppProjects are moved: the agent's namespace. */
  readonly agentNamespace: string;
  /** age identities for this app, read from its key Secret; never logged. */
  readonly decryptionKeys: (app: Application) => Promise<readonly string[]>;
  readonly project: (name: string) => Promise<AppProject | undefined>;
  readonly renderCache: RenderCache;
  /** The destination's version and APIs for Helm (the pipeline reads them); absent without a cluster. */
  readonly capabilities?: Capabilities;
}

/** The sources of an app and the revision each one resolved to, in the same order. */
export interface Resolved {
  readonly sources: readonly ApplicationSource[];
  readonly revisions: readonly string[];
  /** A push's file list named a file under the app's paths: the previous render is not kept (no `git diff` to ask). */
  readonly touched?: boolean;
}

export interface Desired {
  /** The first source's revision: what single-revision readers (logs, `app wait`) show. */
  readonly revision: string;
  /** One per source (commit SHA or chart version), as `status.sync.revisions`. */
  readonly revisions: readonly string[];
  readonly sources: readonly ApplicationSource[];
  readonly renderKey: string;
  readonly rendered: readonly RenderedObject[];
  /** What the render ignored (Argo CD fields Tether does not implement): shown as a condition. */
  readonly warnings: readonly string[];
  /** How the objects were had: rendered now, from the cache (same inputs), or kept from the previous revision. */
  readonly origin: "rendered" | "cached" | "kept";
  /** Set when the render of the previous revision was kept: nothing the render reads changed (why, for the log). */
  readonly keptRender?: string;
}

/**
 * The source stage: fetches every Git repository the sources read (once each), then resolves each
 * source to a revision. A requested sync may name other revisions (a rollback to a history entry):
 * `operation.sync.revisions`, one per source, or `revision` for a single source, as Argo CD.
 */
export async function resolveRevisions(app: Application, freshness: Freshness, deps: Pick<BuildDeps, "source" | "charts">): Promise<Resolved> {
  const sources = sourcesOf(app);
  const since = freshness.kind === "fresh" ? undefined : freshness.kind === "shared" ? freshness.since : 0;
  const push = freshness.kind === "shared" ? freshness.push : undefined;
  for (const url of new Set(sources.filter((s) => s.chart === undefined).map((s) => s.repoURL))) {
    await deps.source.fetch(url, { ...since === undefined ? {} : { since }, ...push ? { refsMoved: true } : {} });
  }
  const revisions = await resolveSources(requested(app, sources), { git: deps.source, charts: deps.charts });
  return { sources, revisions, ...push === "touched" ? { touched: true } : {} };
}

/** The sources with the revisions a requested sync names in place of their targetRevision. */
function requested(app: Application, sources: readonly ApplicationSource[]): ApplicationSource[] {
  const op = app.operation?.sync;
  return sources.map((source, i) => {
    const revision = op?.revisions?.[i] ?? (sources.length === 1 ? op?.revision : undefined);
    return revision === undefined || revision === "" ? source : { ...source, targetRevision: revision };
  });
}

/**
 * Everything that changes what a render produces: the revisions, the sources without their revision
 * spelling, the destination namespace and the app's name (Helm's default release name). A single
 * source keeps the key it always had, so an upgraded agent does not see every app as changed.
 */
export function renderKeyOf(app: Application, revisions: readonly string[], sources: readonly ApplicationSource[] = sourcesOf(app),
  capabilities?: Capabilities): string {
  // The destination's capabilities change what a chart renders; without a cluster the key is as it was.
  const common = { namespace: app.spec.destination.namespace, app: app.metadata?.name, ...(capabilities ? { capabilities: capabilitiesHash(capabilities) } : {}) };
  const unpinned = sources.map((s) => ({ ...s, targetRevision: undefined }));
  const value = sources.length === 1 ? { revision: revisions[0], source: unpinned[0], ...common } : { revisions, sources: unpinned, ...common };
  // Asked several times per reconcile of every app: the key-sorted hash once per exact spelling of its
  // inputs, kept per app (a cache of the last 4096 spellings missed on every app of a 10,000-app round).
  const spelled = JSON.stringify(value);
  const appKey = `${app.metadata?.namespace ?? ""}/${app.metadata?.name ?? ""}`;
  const kept = renderKeys.get(appKey);
  if (kept?.spelled === spelled) return kept.key;
  const key = stableHash(value);
  if (!kept && renderKeys.size >= RENDER_KEYS) renderKeys.delete(renderKeys.keys().next().value!);
  renderKeys.set(appKey, { spelled, key });
  return key;
}

/** Each app's last render key and the JSON of its inputs (a few hundred bytes), bounded: oldest app dropped first. */
const renderKeys = new Map<string, { readonly spelled: string; readonly key: string }>();
const RENDER_KEYS = 50_000;

/** The hash of a destination's capabilities, once per value the discovery cache hands out (hundreds of API versions, hashed per reconcile before). */
const capabilityHashes = new WeakMap<Capabilities, string>();
function capabilitiesHash(capabilities: Capabilities): string {
  let hash = capabilityHashes.get(capabilities);
  if (hash === undefined) capabilityHashes.set(capabilities, hash = stableHash(capabilities));
  return hash;
}

/** Build: renders (and decrypts) the resolved sources unless the same inputs were rendered before, then guards the result. */
export async function build(app: Application, resolved: Resolved, deps: BuildDeps, project: AppProject): Promise<Desired> {
  const { capabilities } = deps;
  const renderKey = renderKeyOf(app, resolved.revisions, resolved.sources, capabilities);
  let render = deps.renderCache.get(renderKey);
  const origin = render !== undefined ? "cached" : undefined;
  const kept = render === undefined ? await previousRender(app, resolved, deps) : undefined;
  if (kept) {
    render = kept.render;
    deps.renderCache.set(renderKey, render);
  }
  if (!render) {
    const allowed = (url: string) => repoAllowed(project, url);
    render = await renderSources({
      app, sources: resolved.sources, revisions: resolved.revisions, git: deps.source,
      charts: { charts: deps.charts, allowRepo: allowed }, decryptionKeys: once(() => decryptionKeysFor(project, app, deps.decryptionKeys)),
      allowRemoteBases: allowed, allowLocalRepos: deps.source.allowsLocalRepos?.() === true, agentNamespace: deps.agentNamespace, renderTree: deps.render,
      ...(deps.limits ? { limits: deps.limits } : {}),
      ...(capabilities ? { capabilities } : {}),
    });
    deps.renderCache.set(renderKey, render);
  }
  // The guard runs on every lookup, hit or miss: the cache holds renders, never a verdict.
  checkPlaintextSecrets(render.objects, app.metadata?.annotations);
  const warnings = ignoredSingleSource(app) ? ["spec.source is ignored because spec.sources is set (as Argo CD does); remove one of them", ...render.warnings] : render.warnings;
  return {
    revision: resolved.revisions[0] ?? "", revisions: resolved.revisions, sources: resolved.sources,
    renderKey, rendered: inheritSource(render.objects, app), warnings, origin: origin ?? (kept ? "kept" : "rendered"),
    ...(kept ? { keptRender: kept.why } : {}),
  };
}

/** `read` called at most once, when first asked (the key Secret: read only by a render that needs it). */
function once<T>(read: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= read());
}

/**
 * The render of the revision the app is at, kept for a new commit that changed nothing the render
 * reads (Argo CD's `manifest-generate-paths`; by default a plain directory's own path): a push to one
 * app's folder costs the other apps of the repository a `git diff`, not a render. Only for one Git
 * source whose previous render is still cached; anything else renders.
 */
async function previousRender(app: Application, resolved: Resolved, deps: BuildDeps): Promise<{ render: SourcesRender; why: string } | undefined> {
  const [source] = resolved.sources;
  const [revision] = resolved.revisions;
  const previous = app.status?.sync?.revision;
  const git = deps.source;
  if (resolved.touched === true || resolved.sources.length !== 1 || source === undefined || source.chart !== undefined || revision === undefined
    || previous === undefined || previous === revision || git.changedFiles === undefined || git.treeEntries === undefined) return undefined;
  const render = deps.renderCache.get(renderKeyOf(app, [previous], resolved.sources, deps.capabilities));
  if (render === undefined) return undefined;
  const reach = renderReach(app, source, await git.treeEntries(source.repoURL, revision, cleanPath(source.path ?? "")));
  if (reach.kind === "whole") return undefined;
  if (touches(await git.changedFiles(source.repoURL, previous, revision), reach.paths)) return undefined;
  return { render, why: `nothing under ${reach.paths.map((p) => p || "/").join(", ")} changed since ${previous.slice(0, 7)} (${reach.why})` };
}

/**
 * A child Application rendered without `spec.source.repoURL` reads the parent's repository at the
 * parent's revision, so an app-of-apps repository works unchanged in a fork or a local clone.
 */
export function inheritSource(rendered: readonly RenderedObject[], parent: Application): RenderedObject[] {
  const from = primarySource(parent);
  if (from === undefined) return [...rendered];
  return rendered.map((r) => {
    const m = r.manifest;
    const spec = m.spec as { source?: Partial<ApplicationSource> } | undefined;
    if (m.apiVersion !== API_VERSION || m.kind !== "Application" || !spec?.source || spec.source.repoURL) return r;
    const source = { ...spec.source, repoURL: from.repoURL, targetRevision: spec.source.targetRevision ?? from.targetRevision ?? "HEAD" };
    return { ...r, manifest: { ...m, spec: { ...spec, source } } };
  });
}

/**
 * Charts fetched into `<cacheDir>`, with the credentials of the repository Secrets in the agent's
 * namespace (Argo CD's `argocd.argoproj.io/secret-type: repository` with `type: helm`, or Tether's
 * label), read at each request so a new Secret works without a restart.
 */
export function chartFetcher(client: TetherClient, cacheDir: string, limits: FetchLimits = {}): ChartFetcher {
  const selectors = ["tether.dev/secret-type in (repository,repo-creds)", "argocd.argoproj.io/secret-type in (repository,repo-creds)"];
  return new ChartFetcher({
    cacheDir, ...limits,
    access: async (url) => helmRepoAccess(url, (await Promise.all(selectors.map((s) => client.listSecrets(s)))).flat()),
  });
}

/** The pipeline's deps with a client's credentials: what `tether app diff` and the web UI's diff use (destinations added by each). */
export function clientPipelineDeps(opts: {
  readonly client: TetherClient; readonly source: SourceStage; readonly cacheDir: string; readonly renderCache: RenderCache;
  readonly allowLocalRepos: boolean;
  /** The agent's `--max-helm-index-size` and `--max-chart-size`. */
  readonly fetchLimits?: FetchLimits;
}) {
  const { client } = opts;
  return {
    source: opts.source, renderCache: opts.renderCache, charts: chartFetcher(client, opts.cacheDir, opts.fetchLimits), allowLocalRepos: opts.allowLocalRepos,
    agentNamespace: client.namespace, decryptionKeys: (a: Application) => client.ageKeys(keySecretOf(a)), project: (p: string) => client.getProject(p),
  };
}
