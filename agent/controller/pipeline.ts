// One pipeline, one boundary: fetch → render → adopt → guard → plan for one Application, and the
// identity every write for it must use. Every path that needs an app's objects calls it: the
// reconcile, cascade deletion and its PostDelete hooks, the web UI's diff, `tether app diff`,
// `tether preview` and `tether app create`'s check. A rule added here holds on all of them; a test
// (pipeline-imports.test.ts) fails when another module reaches a renderer around it.
import type { AppProject, Application, ResourceIgnoreDifferences } from "../api/types.ts";
import { sourcesOf } from "../api/sources.ts";
import type { Cluster } from "../apply/cluster.ts";
import type { Destination, DestinationResolver } from "../apply/destinations.ts";
import { plan, type PlannedObject } from "../apply/plan.ts";
import { invalidIgnoreRules } from "../diff/ignore.ts";
import { markDecrypted } from "../diff/secret.ts";
import { NO_DIFF_SETTINGS, type DiffSettings } from "../diff/settings.ts";
import { TetherError, errorMessage } from "../errors.ts";
import { impersonationFor, type Impersonation } from "../policy/impersonation.ts";
import { checkApplication, checkObjects } from "../policy/project.ts";
import { renderApplication } from "../render/application.ts";
import type { Capabilities } from "../render/types.ts";
import { DEFAULT_RENDER_LIMITS, withRenderLimits, type RenderLimits } from "../render/limits.ts";
import { parseRepoUrl } from "../source/repo-url.ts";
import { build, resolveRevisions, type BuildDeps, type Desired, type Resolved } from "./build.ts";
import type { Freshness } from "./queue.ts";
import { inTurn, type Turns } from "./turns.ts";

/**
 * What the pipeline needs: the build stage's dependencies, but the render (the pipeline wraps it in
 * the limits) and the capabilities (it reads them from the destination), and more.
 */
export interface PipelineDeps extends Omit<BuildDeps, "render" | "capabilities"> {
  /**
   * Serve `file://` and plain-path repoURLs (`--allow-local-repos`). Off, any Application (a child in
   * Git included) naming one is refused on every path, whatever the Git client would allow.
   */
  readonly allowLocalRepos: boolean;
  /** Bytes a render may read per file and produce in all (`--max-file-size`, `--max-render-size`). */
  readonly limits?: RenderLimits;
  /**
   * The clusters apps deploy to. Absent only for `tether preview` and `tether app create` without a
   * cluster: kinds are then placed in namespaces from the built-in table, and there is no writer.
   */
  readonly destinations?: DestinationResolver;
  /** tether-cm's global diff rules as they stand now (agent/diff/settings.ts); none when absent. */
  readonly diffSettings?: () => DiffSettings;
  /** The agent's turns for CPU-bound stages (turns.ts): the render and plan take one; none for a CLI's one-off render. */
  readonly turns?: Turns;
}

/** The identity side of an app: its project, where it deploys, and who writes there. */
export interface AppContext {
  readonly app: Application;
  readonly project: AppProject;
  /** Where the app deploys, reached with the agent's (or the CLI user's) identity. */
  readonly destination?: Destination;
  /** What every write (dry-run, apply, prune, delete, hook) goes through: the project's ServiceAccount when it impersonates. */
  readonly writer?: Cluster;
  /** The ServiceAccount the writes run as; absent when the project does not impersonate. */
  readonly identity?: Impersonation;
  /**
   * What every comparison of the app ignores: its `spec.ignoreDifferences`, then tether-cm's
   * `resource.customizations.ignoreDifferences.*` (Argo CD's system-level rules).
   */
  readonly ignoreDifferences: readonly ResourceIgnoreDifferences[];
}

export interface DesiredState extends AppContext {
  readonly resolved: Resolved;
  readonly desired: Desired;
  /** The objects as they will be applied (namespaces placed, tracked, ordered), hooks included, guarded. */
  readonly planned: readonly PlannedObject[];
  /** Objects rendered more than once identically: Argo CD's `RepeatedResourceWarning`. */
  readonly repeated: readonly string[];
}

/** The stages as the `Reconciling` condition names them. */
export type PipelineStage = "Loading" | "Fetching source" | "Building manifests" | "Planning";

export interface DesiredStateRequest {
  readonly app: Application;
  /** The app whose revisions are resolved, when they differ from `app`'s (a running operation pins them). */
  readonly revisionsOf?: Application;
  /** How recent the fetch must be; default a fresh fetch. */
  readonly freshness?: Freshness;
  readonly onStage?: (stage: PipelineStage) => void;
  /** Told as soon as it is known, so a caller that fails later can still name them. */
  readonly onContext?: (ctx: AppContext) => void;
  readonly onResolved?: (resolved: Resolved) => void;
}

/**
 * Load (project, source and destination rules, destination cluster, impersonation), without
 * rendering: what cascade deletion needs when Git no longer renders.
 */
export async function appContext(app: Application, deps: Pick<PipelineDeps, "project" | "destinations" | "allowLocalRepos" | "diffSettings">): Promise<AppContext> {
  const project = await projectOf(app, deps);
  checkApplication(project, app);
  refuseLocalRepos(app, deps.allowLocalRepos);
  const badRules = invalidIgnoreRules(app.spec.ignoreDifferences ?? []);
  if (badRules.length > 0) throw new TetherError("InvalidSpecError", badRules.join("; "), { object: `Application ${app.metadata?.name ?? ""}` });
  const ignoreDifferences = [...app.spec.ignoreDifferences ?? [], ...(deps.diffSettings?.() ?? NO_DIFF_SETTINGS).ignoreDifferences];
  if (!deps.destinations) return { app, project, ignoreDifferences };
  const destination = await deps.destinations.resolve(app.spec.destination);
  const identity = impersonationFor(project, { server: destination.server, namespace: app.spec.destination.namespace ?? "" });
  const writer = identity ? deps.destinations.impersonating(destination, identity.user).cluster : destination.cluster;
  return { app, project, destination, writer, ignoreDifferences, ...(identity ? { identity } : {}) };
}

/** The objects Git wants for `app` and the identity that writes them; throws the first typed error on the way. */
export async function desiredState(req: DesiredStateRequest, deps: PipelineDeps): Promise<DesiredState> {
  const stage = <T>(name: PipelineStage, run: () => Promise<T>): Promise<T> => {
    req.onStage?.(name);
    return run();
  };
  const ctx = await stage("Loading", () => appContext(req.app, deps));
  req.onContext?.(ctx);
  const resolved = await stage("Fetching source", () => resolveRevisions(req.revisionsOf ?? req.app, req.freshness ?? { kind: "fresh" }, deps));
  req.onResolved?.(resolved);
  const limits = deps.limits ?? DEFAULT_RENDER_LIMITS;
  const render = withRenderLimits(renderApplication, limits);
  const repeated: string[] = [];
  const { desired, planned } = await inTurn(deps.turns, "start", async () => {
    const desired = await stage("Building manifests", async () => {
      const capabilities = await capabilitiesOf(ctx);
      return await build(req.app, resolved, { ...deps, render, limits, ...(capabilities ? { capabilities } : {}) }, ctx.project);
    });
    return { desired, planned: await stage("Planning", () => planDesired(req.app, desired, ctx.destination?.cluster, (m) => repeated.push(m))) };
  });
  guardObjects(ctx.project, req.app, planned);
  return { ...ctx, resolved, desired, planned, repeated };
}

/**
 * Helm's `.Capabilities` for the app: what its destination serves, read with the agent's (or the CLI
 * user's) identity and cached per cluster client. Without a destination (`tether preview`), none.
 */
async function capabilitiesOf(ctx: AppContext): Promise<Capabilities | undefined> {
  const cluster = ctx.destination?.cluster;
  if (cluster?.capabilities === undefined) return undefined;
  try {
    return await cluster.capabilities();
  } catch (err) {
    throw new TetherError("ComparisonError", `could not read the destination cluster's version and APIs (discovery) for Helm: ${errorMessage(err)}`,
      { object: `Application ${ctx.app.metadata?.name ?? ""}`, retryable: true, cause: err });
  }
}

/** Local repositories (`file://`, plain paths) only with `--allow-local-repos`, for every Git source. */
function refuseLocalRepos(app: Application, allowed: boolean): void {
  if (allowed) return;
  for (const source of sourcesOf(app)) {
    if (source.chart !== undefined || source.repoURL === "") continue;
    let local: boolean;
    try {
      local = parseRepoUrl(source.repoURL).key.startsWith("file://");
    } catch {
      continue; // the source stage names the broken URL
    }
    if (local) {
      throw new TetherError("SourceFailed",
        `repository ${source.repoURL} is on this machine's own disk, and local repositories are refused: use a remote URL (https://, ssh://), ` +
        "or pass --allow-local-repos", { object: `Application ${app.metadata?.name ?? ""}`, retryable: false });
    }
  }
}

async function projectOf(app: Application, deps: Pick<PipelineDeps, "project">): Promise<AppProject> {
  const name = app.spec.project ?? "default";
  const project = await deps.project(name);
  if (!project) {
    throw new TetherError("PolicyViolation", `project "${name}" does not exist; create the AppProject or fix spec.project`,
      { object: `AppProject/${name}`, retryable: true });
  }
  return project;
}

/** What the plan asks a cluster: whether a kind is namespaced (undefined when the cluster does not know it). */
type Scopes = Pick<Cluster, "isNamespaced">;

/** Kinds that have no namespace, for planning without a cluster (`tether preview`, `tether app create`). */
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
  "StorageClass", "PriorityClass", "IngressClass", "RuntimeClass", "APIService", "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "CSIDriver", "Node"]);

/** The rendered objects as they will be applied: placed in namespaces, tracked, ordered. */
async function planDesired(app: Application, desired: Desired, cluster: Scopes | undefined, onRepeated: (message: string) => void): Promise<PlannedObject[]> {
  // The mark goes on with the object, so every later view of it live masks what SOPS decrypted.
  const manifests = desired.rendered.map((r) => (r.decrypted ? markDecrypted(r.manifest) : r.manifest));
  const scopes = new Map<string, boolean>();
  for (const key of new Set(manifests.map((m) => `${m.apiVersion}/${m.kind}`))) {
    const slash = key.lastIndexOf("/");
    const kind = key.slice(slash + 1);
    const namespaced = cluster === undefined ? !CLUSTER_SCOPED.has(kind) : await cluster.isNamespaced(key.slice(0, slash), kind);
    if (namespaced !== undefined) scopes.set(key, namespaced);
  }
  return plan({
    app: { name: app.metadata?.name ?? "", namespace: app.metadata?.namespace ?? "" }, manifests,
    defaultNamespace: app.spec.destination.namespace ?? "default",
    isNamespaced: (apiVersion, kind) => scopes.get(`${apiVersion}/${kind}`),
    appSyncOptions: app.spec.syncPolicy?.syncOptions ?? [], onRepeated,
  });
}

/** The project's object rules, on what will really be applied (namespaces placed), hooks included. */
function guardObjects(project: AppProject, app: Application, planned: readonly PlannedObject[]): void {
  checkObjects(project, app.spec.destination, planned.map((o) => ({ manifest: o.manifest, namespaced: o.manifest.metadata.namespace !== undefined })));
}
