// One reconcile of one Application, top to bottom: source -> render -> policy -> plan -> diff ->
// sync (apply, prune) -> health -> status. It returns the new status and the change set; the
// controller writes them. Every early exit leaves what runs in the cluster as it was.
import { createHash } from "node:crypto";
import type { AppProject, Application, ApplicationStatus, Condition, HealthStatusCode, Manifest, ObjectRef, ResourceStatus } from "../api/types.ts";
import { API_VERSION, FINALIZER, SYNC_OPTIONS_ANNOTATIONS, TRACKING_ANNOTATION } from "../api/types.ts";
import { summarize, count, mapLimit, type Change } from "../apply/changeset.ts";
import type { Cluster } from "../apply/cluster.ts";
import { displayRef, identity, parseRefKey, refKey, staleEntries } from "../apply/inventory.ts";
import { annotation, plan, trackingId, type PlannedObject } from "../apply/plan.ts";
import { applyAll, pruneAll } from "../apply/sync.ts";
import { compare } from "../diff/index.ts";
import { TetherError } from "../errors.ts";
import { assessHealth, worst } from "../health/index.ts";
import { checkApplication, checkObjects, repoAllowed } from "../policy/project.ts";
import { checkPlaintextSecrets } from "../policy/plaintext.ts";
import type { RenderedObject } from "../render/types.ts";
import { conditionOf, mergeConditions, report, type Reported } from "../status/conditions.ts";
import { nextHistory } from "../status/history.ts";
import type { RenderCache, SyncMemo } from "./memo.ts";

/** Renders the tree of one commit; the render stage's dispatch (directory, Kustomize, Helm). */
export type RenderFn = (input: {
  root: string; app: Application; decryptionKeys: readonly string[];
  /** Remote Kustomize bases are fetched only from repositories the app's project allows. */
  allowRemoteBases?: (url: string) => boolean;
}) => Promise<RenderedObject[]>;

export interface SourceStage {
  fetch(url: string, opts?: { since?: number }): Promise<void>;
  resolve(url: string, revision?: string): Promise<string>;
  checkout(url: string, commit: string): Promise<{ dir: string; cleanup(): Promise<void> }>;
}

export interface ReconcileDeps {
  readonly cluster: Cluster;
  readonly source: SourceStage;
  readonly render: RenderFn;
  /** age identities for this app, read from its key Secret; never logged. */
  readonly decryptionKeys: (app: Application) => Promise<readonly string[]>;
  readonly project: (name: string) => Promise<AppProject | undefined>;
  readonly renderCache: RenderCache;
  readonly memo: SyncMemo;
  readonly concurrency: number;
}

export interface ReconcileRequest {
  readonly app: Application;
  /** Share a fetch started at or after this time (the poll's start); undefined fetches now. */
  readonly fetchSince?: number;
}

export interface ReconcileOutcome {
  readonly status: ApplicationStatus;
  readonly changes: readonly Change[];
  /** Set when the reconcile stopped on an error. */
  readonly error?: Reported;
  /** Whether a requested `operation.sync` was carried out and should be cleared. */
  readonly operationDone: boolean;
  /** Reconcile again after this long (a sync waiting for a wave to become healthy). */
  readonly requeueAfterMs?: number;
}

export interface Desired {
  readonly revision: string;
  readonly renderKey: string;
  readonly rendered: readonly RenderedObject[];
}

/** Reconciles one Application and returns its next status. Never throws. */
export async function reconcile(req: ReconcileRequest, deps: ReconcileDeps): Promise<ReconcileOutcome> {
  const { app } = req;
  const previous = app.status ?? {};
  const now = new Date().toISOString();
  let revision: string | undefined;
  try {
    revision = await resolveRevision(req, deps);
    const desired = await renderRevision(app, revision, deps);
    return await syncDesired(app, desired, deps);
  } catch (err) {
    const error = report(err);
    // Nothing was applied or pruned: keep the last known resources, inventory and health.
    const status: ApplicationStatus = {
      ...previous,
      sync: { status: "Unknown", revision: revision ?? previous.sync?.revision ?? "" },
      conditions: mergeConditions(previous.conditions, [conditionOf(error, now)]),
      reconciledAt: now,
    };
    return { status, changes: [], error, operationDone: false };
  }
}

type SourceDeps = Pick<ReconcileDeps, "source" | "render" | "decryptionKeys" | "project" | "renderCache">;

/** Source and render: the objects Git wants for `app` at its target revision (also used by `tether app diff`). */
export async function fetchAndRender(req: ReconcileRequest, deps: SourceDeps): Promise<Desired> {
  return await renderRevision(req.app, await resolveRevision(req, deps), deps);
}

async function projectOf(app: Application, deps: Pick<SourceDeps, "project">): Promise<AppProject> {
  const name = app.spec.project ?? "default";
  const project = await deps.project(name);
  if (!project) {
    throw new TetherError("PolicyViolation", `project "${name}" does not exist; create the AppProject or fix spec.project`,
      { object: `AppProject/${name}`, retryable: true });
  }
  return project;
}

/** Checks the app against its project, fetches (shared within a poll) and resolves the target revision. */
async function resolveRevision(req: ReconcileRequest, deps: SourceDeps): Promise<string> {
  const { app } = req;
  const src = app.spec.source;
  checkApplication(await projectOf(app, deps), app);
  await deps.source.fetch(src.repoURL, req.fetchSince === undefined ? {} : { since: req.fetchSince });
  return await deps.source.resolve(src.repoURL, src.targetRevision ?? "HEAD");
}

/** Renders one commit, unless the same commit was rendered with the same options before. */
async function renderRevision(app: Application, revision: string, deps: SourceDeps): Promise<Desired> {
  const src = app.spec.source;
  const renderKey = hash({ revision, source: { ...src, targetRevision: undefined }, namespace: app.spec.destination.namespace });
  let rendered = deps.renderCache.get(renderKey);
  if (!rendered) {
    const keys = await deps.decryptionKeys(app);
    const tree = await deps.source.checkout(src.repoURL, revision);
    try {
      const project = await projectOf(app, deps);
      rendered = await deps.render({ root: tree.dir, app, decryptionKeys: keys, allowRemoteBases: (url) => repoAllowed(project, url) });
    } finally {
      await tree.cleanup();
    }
    checkPlaintextSecrets(rendered, app.metadata?.annotations);
    deps.renderCache.set(renderKey, rendered);
  }
  return { revision, renderKey, rendered: inheritSource(rendered, app) };
}

/**
 * A child Application rendered without `spec.source.repoURL` reads the parent's repository at the
 * parent's revision, so an app-of-apps repository works unchanged in a fork or a local clone.
 */
export function inheritSource(rendered: readonly RenderedObject[], parent: Application): RenderedObject[] {
  return rendered.map((r) => {
    const m = r.manifest;
    const spec = m.spec as { source?: Partial<Application["spec"]["source"]> } | undefined;
    if (m.apiVersion !== API_VERSION || m.kind !== "Application" || !spec?.source || spec.source.repoURL) return r;
    const source = { ...spec.source, repoURL: parent.spec.source.repoURL, targetRevision: spec.source.targetRevision ?? parent.spec.source.targetRevision ?? "HEAD" };
    return { ...r, manifest: { ...m, spec: { ...spec, source } } };
  });
}

interface Compared {
  readonly planned: PlannedObject[];
  readonly live: Map<PlannedObject, Manifest | undefined>;
  readonly inSync: Set<PlannedObject>;
  /** Objects another Application tracks: never taken over. */
  readonly shared: Set<PlannedObject>;
  readonly stale: { ref: ObjectRef; live: Manifest | undefined }[];
}

/** What a reconcile does with what it compared: pure, so each policy combination is a table row. */
export interface SyncDecision {
  readonly sync: boolean;
  readonly prune: boolean;
}

export interface DecisionInput {
  readonly syncPolicy: Application["spec"]["syncPolicy"];
  readonly operation: NonNullable<Application["operation"]>["sync"];
  /** Something differs: an object to apply, or a stale object still live. */
  readonly outOfSync: boolean;
  /** Git (commit or render options) changed since the last completed sync. */
  readonly newDesired: boolean;
}

/**
 * A requested operation syncs (unless a dry run). Automated sync takes every new commit, even one
 * that changes nothing live, so history and observedRenderKey follow Git; drift under an unchanged
 * commit is reverted only with selfHeal. Prune follows the operation's flag, else the policy's.
 */
export function decide(input: DecisionInput): SyncDecision {
  const auto = input.syncPolicy?.automated;
  const automated = auto !== undefined && (input.newDesired || (input.outOfSync && auto.selfHeal === true));
  const requested = input.operation !== undefined && input.operation.dryRun !== true;
  return { sync: requested || automated, prune: input.operation ? input.operation.prune === true : auto?.prune === true };
}

async function syncDesired(app: Application, desired: Desired, deps: ReconcileDeps): Promise<ReconcileOutcome> {
  const previous = app.status ?? {};
  const cmp = await compareDesired(app, desired, deps, await projectOf(app, deps));
  const operation = app.operation?.sync;
  const decision = decide({
    syncPolicy: app.spec.syncPolicy, operation,
    outOfSync: cmp.planned.some((o) => !cmp.inSync.has(o) && !cmp.shared.has(o)) || cmp.stale.some((s) => s.live),
    newDesired: desired.renderKey !== previous.observedRenderKey,
  });
  if (cmp.planned.length === 0 && (previous.inventory?.length ?? 0) > 0 && decision.sync && decision.prune && app.spec.syncPolicy?.automated?.allowEmpty !== true) {
    throw new TetherError("EmptyRender",
      `${app.spec.source.path ?? "."} at ${desired.revision.slice(0, 7)} rendered no objects; nothing was pruned. ` +
      "If the application really should be empty, set syncPolicy.automated.allowEmpty: true", { object: app.spec.source.path ?? "." });
  }
  const result: SyncResult = decision.sync
    ? await runSync(app, cmp, deps, decision.prune)
    : { changes: [], live: cmp.live, inventory: previous.inventory ?? [] };
  const { waiting } = result;
  const status = buildStatus({ app, desired, cmp, ...result, synced: decision.sync });
  // A sync held back by a wave goes on at the next reconcile; a requested operation stays until it is done.
  return { status, changes: result.changes, operationDone: operation !== undefined && !waiting, ...(waiting ? { requeueAfterMs: 2000 } : {}) };
}

interface SyncResult {
  readonly changes: Change[];
  readonly live: Map<PlannedObject, Manifest | undefined>;
  readonly inventory: string[];
  readonly waiting?: string;
}

/** Applies what differs (wave by wave), then prunes what left Git unless anything failed or waits. */
async function runSync(app: Application, cmp: Compared, deps: ReconcileDeps, prune: boolean): Promise<SyncResult> {
  await createNamespace(app, deps.cluster);
  const applied = await applyAll(cmp.planned.filter((o) => !cmp.shared.has(o)), {
    cluster: deps.cluster, concurrency: deps.concurrency, unchanged: cmp.inSync, before: cmp.live, gate: waveGate,
  });
  const live = new Map(cmp.live);
  for (const [obj, manifest] of applied.live) {
    live.set(obj, manifest);
    deps.memo.applied(app, obj, manifest);
  }
  const changes = [...applied.changes];
  const prunable = prune ? cmp.stale.filter((s) => s.live && !neverPrune(s.live)).map((s) => s.ref) : [];
  if (prunable.length > 0 && !applied.waiting && !changes.some((c) => c.action === "failed")) {
    changes.push(...await pruneAll(prunable, { cluster: deps.cluster, trackingIdOf: (ref) => trackingIdFor(app, ref), concurrency: deps.concurrency }));
  }
  const inventory = nextInventory(cmp, changes, app.status?.inventory ?? []);
  return { changes, live, inventory, ...(applied.waiting ? { waiting: applied.waiting } : {}) };
}

/** A wave is ready when none of its objects is Progressing, Missing, Degraded or Unknown. */
function waveGate(live: readonly (Manifest | undefined)[]): string | undefined {
  for (const obj of live) {
    const h = assessHealth(obj);
    if (h.status !== "Healthy" && h.status !== "Suspended") {
      return `${obj ? displayRef(refOfLive(obj)) : "an object"} is ${h.status}${h.message ? `: ${h.message}` : ""}`;
    }
  }
  return undefined;
}

function refOfLive(obj: Manifest): Pick<ObjectRef, "kind" | "namespace" | "name"> {
  return { kind: obj.kind, name: obj.metadata.name ?? "", ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}) };
}

async function compareDesired(app: Application, desired: Desired, deps: ReconcileDeps, project: AppProject): Promise<Compared> {
  const planned = await planDesired(app, desired, deps.cluster);
  checkObjects(project, planned.map((o) => ({ manifest: o.manifest, namespaced: o.manifest.metadata.namespace !== undefined })));
  const liveList = await mapLimit(planned, deps.concurrency, (o) => deps.cluster.get(o.ref));
  const live = new Map(planned.map((o, i) => [o, liveList[i]]));
  const inSync = new Set<PlannedObject>();
  const shared = new Set<PlannedObject>();
  await mapLimit(planned, deps.concurrency, async (o) => {
    const current = live.get(o);
    const owner = current?.metadata.annotations?.[TRACKING_ANNOTATION];
    if (current && owner !== undefined && owner !== o.manifest.metadata.annotations?.[TRACKING_ANNOTATION]) {
      shared.add(o);
      return;
    }
    if (await isInSync(app, o, current, deps)) inSync.add(o);
  });
  const stale = await mapLimit(staleEntries(previousInventory(app), planned.map((o) => o.ref)), deps.concurrency,
    async (ref) => ({ ref, live: await deps.cluster.get(ref) }));
  return { planned, live, inSync, shared, stale };
}

/**
 * Equal to Git? First without any request (every field Git sets has that value live); then, for
 * what that cannot decide, a server-side dry-run apply compared with the live object (the server
 * normalises quantities and fills defaults), remembered until either side changes.
 */
async function isInSync(app: Application, obj: PlannedObject, live: Manifest | undefined, deps: ReconcileDeps): Promise<boolean> {
  if (!live) return false;
  const ignoreDifferences = app.spec.ignoreDifferences ?? [];
  if (compare({ desired: obj.manifest, live, ignoreDifferences }).status === "Synced") return true;
  if (deps.memo.unchangedSinceApply(app, obj, live)) return true;
  const predicted = await deps.cluster.apply(obj.manifest, { dryRun: true });
  const synced = compare({ desired: obj.manifest, live, predicted, ignoreDifferences }).status === "Synced";
  if (synced) deps.memo.remember(app, obj, live);
  return synced;
}

/** The rendered objects as they will be applied: placed in namespaces, tracked, ordered. */
export async function planDesired(app: Application, desired: Desired, cluster: Cluster): Promise<PlannedObject[]> {
  const appRef = { name: app.metadata?.name ?? "", namespace: app.metadata?.namespace ?? "" };
  const manifests = desired.rendered.map((r) => r.manifest);
  const scopes = await discover(manifests, cluster);
  return plan({
    app: appRef, manifests, defaultNamespace: app.spec.destination.namespace ?? "default",
    isNamespaced: (apiVersion, kind) => scopes.get(`${apiVersion}/${kind}`),
  });
}

async function discover(manifests: readonly Manifest[], cluster: Cluster): Promise<Map<string, boolean>> {
  const kinds = [...new Set(manifests.map((m) => `${m.apiVersion}/${m.kind}`))];
  const scopes = new Map<string, boolean>();
  for (const key of kinds) {
    const kind = key.slice(key.lastIndexOf("/") + 1);
    const apiVersion = key.slice(0, key.lastIndexOf("/"));
    const namespaced = await cluster.isNamespaced(apiVersion, kind);
    if (namespaced !== undefined) scopes.set(key, namespaced);
  }
  return scopes;
}

async function createNamespace(app: Application, cluster: Cluster): Promise<void> {
  const ns = app.spec.destination.namespace;
  if (!ns || !(app.spec.syncPolicy?.syncOptions ?? []).includes("CreateNamespace=true")) return;
  if (await cluster.get({ group: "", version: "v1", kind: "Namespace", name: ns })) return;
  await cluster.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
}

function neverPrune(live: Manifest | undefined): boolean {
  return (annotation(live ?? { apiVersion: "", kind: "", metadata: {} }, SYNC_OPTIONS_ANNOTATIONS) ?? "").includes("Prune=false");
}

function trackingIdFor(app: Application, ref: ObjectRef): string {
  return trackingId({ name: app.metadata?.name ?? "", namespace: app.metadata?.namespace ?? "" }, ref);
}

function previousInventory(app: Application): string[] {
  return app.status?.inventory ?? [];
}

/** What this app now owns: what it applied, plus stale objects still there (not pruned, or prune failed). */
function nextInventory(cmp: Compared, changes: readonly Change[], previous: readonly string[]): string[] {
  const failed = new Set(changes.filter((c) => c.action === "failed").map((c) => identity(c.ref)));
  const deleted = new Set(changes.filter((c) => c.action === "deleted" || c.action === "skipped").map((c) => identity(c.ref)));
  const before = new Set(previous.map((k) => identity(parseRefKey(k))));
  const applied = cmp.planned
    .filter((o) => !cmp.shared.has(o) && (!failed.has(identity(o.ref)) || before.has(identity(o.ref))))
    .map((o) => refKey(o.ref));
  const kept = cmp.stale.filter((s) => s.live && !deleted.has(identity(s.ref)) && !neverPrune(s.live)).map((s) => refKey(s.ref));
  return [...applied, ...kept].sort();
}

interface StatusInput {
  readonly app: Application;
  readonly desired: Desired;
  readonly cmp: Compared;
  readonly live: Map<PlannedObject, Manifest | undefined>;
  readonly changes: readonly Change[];
  readonly inventory: readonly string[];
  readonly synced: boolean;
  readonly waiting?: string;
}

function buildStatus(input: StatusInput): ApplicationStatus {
  const { app, desired, cmp, live, changes } = input;
  const previous = app.status ?? {};
  const now = new Date().toISOString();
  const changed = new Map(changes.map((c) => [identity(c.ref), c]));
  const objectInSync = (o: PlannedObject) => {
    const c = changed.get(identity(o.ref));
    return c ? c.action !== "failed" && c.action !== "skipped" : cmp.inSync.has(o);
  };
  const resources: ResourceStatus[] = cmp.planned.map((o) => ({
    ...o.ref,
    status: cmp.shared.has(o) ? "OutOfSync" : objectInSync(o) ? "Synced" : "OutOfSync",
    health: assessHealth(live.get(o)),
  }));
  for (const s of cmp.stale) {
    const c = changed.get(identity(s.ref));
    if (!s.live || c?.action === "deleted") continue;
    resources.push({ ...s.ref, status: "OutOfSync", health: assessHealth(s.live) });
  }
  const health = appHealth(resources.slice(0, cmp.planned.length));
  const conditions: Condition[] = [];
  if (cmp.shared.size > 0) {
    conditions.push({ type: "SharedResource", lastTransitionTime: now, message: [...cmp.shared].map((o) =>
      `${displayRef(o.ref)} is already managed by ${o.ref && live.get(o)?.metadata.annotations?.[TRACKING_ANNOTATION]?.split(":")[0]}; not taken over`).join("; ") });
  }
  const failed = changes.filter((c) => c.action === "failed");
  if (failed.length > 0) {
    const type = failed.every((c) => c.ref && !cmp.planned.some((o) => identity(o.ref) === identity(c.ref))) ? "PruneFailed" : "ApplyFailed";
    conditions.push({ type, lastTransitionTime: now, message: failed.map((c) => `${displayRef(c.ref)}: ${c.message ?? ""}`).join("; ") });
  }
  const ok = failed.length === 0;
  const syncedNow = resources.every((r) => r.status === "Synced");
  const status: ApplicationStatus = {
    ...previous,
    sync: { status: syncedNow ? "Synced" : "OutOfSync", revision: desired.revision },
    health: { status: health.status, ...(health.message ? { message: health.message } : {}) },
    resources,
    conditions: mergeConditions(previous.conditions, conditions),
    inventory: [...input.inventory],
    reconciledAt: now,
  };
  if (input.synced && input.waiting) {
    status.operationState = { phase: "Running", message: `waiting for wave ${input.waiting}`, startedAt: previous.operationState?.phase === "Running" ? previous.operationState.startedAt ?? now : now };
  } else if (input.synced) {
    status.operationState = {
      phase: ok ? "Succeeded" : "Failed", message: summarize(changes), startedAt: now, finishedAt: new Date().toISOString(),
      syncResult: { revision: desired.revision },
    };
    if (ok) status.observedRenderKey = desired.renderKey;
    if (ok && previous.observedRenderKey !== desired.renderKey) {
      status.history = nextHistory(previous.history, { revision: desired.revision, deployedAt: now }, app.spec.revisionHistoryLimit ?? 10);
    }
  }
  return status;
}

/** The worst health of the app's resources, with the message of the first resource in that state. */
function appHealth(resources: readonly ResourceStatus[]): { status: HealthStatusCode; message?: string } {
  const status = worst(...resources.map((r) => r.health?.status ?? "Unknown"));
  const culprit = resources.find((r) => r.health?.status === status && status !== "Healthy");
  return culprit ? { status, message: `${displayRef(culprit)}: ${culprit.health?.message ?? status}` } : { status };
}

/** Whether an Application asks for cascading deletion of what it manages. */
export function cascades(app: Application): boolean {
  return app.metadata?.finalizers?.includes(FINALIZER) ?? false;
}

/** Counts for logs: `created 2, configured 1, deleted 1`. */
export function tally(changes: readonly Change[]): string {
  return (["created", "configured", "deleted", "failed", "skipped"] as const)
    .filter((a) => count(changes, a) > 0).map((a) => `${a} ${count(changes, a)}`).join(", ") || "no changes";
}

function hash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}
