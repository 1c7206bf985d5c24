// One reconcile of one Application, as a linear list of named stages over one loaded context:
//   load (app, project, destination, keys read once) → source → build (render + decrypt, cached) →
//   guard (plaintext, project rules: after every cache lookup) → plan → read live → match (pure) →
//   compare → decide (pure) → sync → inventory (pure) → status (pure).
// It returns the next status, the change set and what the queue should do next; the controller
// writes them. Every early exit leaves what runs in the cluster as it was.
import type { AppProject, Application, ApplicationStatus, Manifest, ResourceIgnoreDifferences, Operation, OperationState, OperationTask, SyncOperationResource } from "../api/types.ts";
import { primarySource, sourcesOf } from "../api/sources.ts";
import { SUSPEND_ANNOTATION, TRACKING_ANNOTATION } from "../api/types.ts";
import { count, mapLimit, type Change } from "../apply/changeset.ts";
import type { Cluster } from "../apply/cluster.ts";
import type { Destination, DestinationResolver } from "../apply/destinations.ts";
import { inventoryOf, nextInventory, staleEntries } from "../apply/inventory.ts";
import { optionsOf, trackingId, type PlannedObject } from "../apply/plan.ts";
import { lastApplied, withLastApplied } from "../apply/client-side.ts";
import { postDeleteHooks, preDeleteHooks } from "../apply/delete-hooks.ts";
import { operationTasks, runOperation, type OperationInput, type OperationResult } from "../apply/operation.ts";
import { appOptionsOf } from "../apply/options.ts";
import { isSelected } from "../apply/selection.ts";
import { sharedMessage } from "../apply/ownership.ts";
import { applyAll, pruneAll, waveOfLive, type SharedObject } from "../apply/sync.ts";
import { waveGate } from "../apply/tasks.ts";
import { isSynced } from "../diff/index.ts";
import { respectIgnored } from "../diff/ignore.ts";
import { ignoresExtraneous } from "../diff/options.ts";
import { droppedFields } from "../diff/owned.ts";
import { TetherError, errorMessage } from "../errors.ts";
import { stableHash } from "../hash.ts";
import { report, type Reported } from "../status/conditions.ts";
import type { Desired, Resolved, SourceStage } from "./build.ts";
import { desiredState, type DesiredState, type PipelineDeps } from "./pipeline.ts";
import { inTurn } from "./turns.ts";
import { decide, emptyPruneRefusal, nextRun, operationsOf, pinnedToOperation, type SyncDecision } from "./decide.ts";
import type { LiveReader } from "./live.ts";
import { match, trackedOrphans, type Pair, type StaleLive } from "./match.ts";
import type { SyncMemo } from "./memo.ts";
import { CACHED, DONE, type Freshness, type RunResult } from "./queue.ts";
import { buildStatus, errorStatus, withSourceCredential, type ComparedPair } from "./status.ts";

export { inheritSource, renderKeyOf, type Desired, type SourceStage } from "./build.ts";

/** The stages, named as the `Reconciling` condition shows them. */
export type Stage = "Loading" | "Fetching source" | "Building manifests" | "Planning" | "Reading live state" | "Comparing" | "Syncing";

export interface ReconcileDeps extends PipelineDeps {
  readonly destinations: DestinationResolver;
  /** Live state per destination cluster: the watch-fed cache (live.ts), a GET for what it does not hold. */
  readonly live: { reader(destination: Destination): LiveReader };
  readonly memo: SyncMemo;
  /** Requests in flight at once for one app (reads, dry-runs, applies within a wave, prunes): `--apply-concurrency`. */
  readonly concurrency: number;
  /**
   * Writes `status.operationState` of an operation in progress (retrying): before its first side
   * effect and after each step, so an agent that restarts resumes it instead of starting another.
   * `deferrable`: the operation runs no hook (every step is an apply or a delete that repeats the same
   * way), so the record may wait until the operation is still running after a moment: a quick sync is
   * recorded once, by its final status write; an agent stopped before that starts the same sync again.
   */
  readonly record?: (state: OperationState, opts?: { readonly deferrable?: boolean }) => Promise<void>;
  /** Told when each stage starts, so a slow one can be shown on the Application. */
  readonly onStage?: (stage: Stage) => void;
}

export interface ReconcileRequest {
  readonly app: Application;
  readonly freshness?: Freshness;
}

export interface ReconcileOutcome {
  readonly status: ApplicationStatus;
  readonly changes: readonly Change[];
  /** Set when the reconcile stopped on an error. */
  readonly error?: Reported;
  /** Whether a requested `operation.sync` was carried out and should be cleared. */
  readonly operationDone: boolean;
  /** What the queue does next. */
  readonly next: RunResult;
  /** Why the reconcile synced or did nothing, for the log. */
  readonly why: string;
  /** The cluster the app deploys to (for drift watches); absent when it could not be resolved. */
  readonly destination?: Destination;
  /** Whether the render holds PostDelete hooks (the post-delete finalizer follows it); absent when it was not planned. */
  readonly postDeleteHooks?: boolean;
  /** Whether the render holds PreDelete hooks (the pre-delete finalizer follows it); absent when it was not planned. */
  readonly preDeleteHooks?: boolean;
  /** How the desired objects were had (rendered, cached, kept from the previous revision); absent when the build did not finish. */
  readonly build?: Desired["origin"];
}

/** Everything a reconcile reads once: the app, its project and its destination cluster. */
interface Context {
  readonly app: Application;
  readonly project: AppProject;
  /** Where the app deploys, read with the agent's identity (live state, drift watches). */
  readonly destination: Destination;
  /** What writes (dry-run, apply, prune) go through: the project's ServiceAccount when it impersonates. */
  readonly writer: Cluster;
  /** Live state of the destination, read with the agent's identity. */
  readonly live: LiveReader;
  /** The app's `ignoreDifferences` and tether-cm's global rules (the pipeline's). */
  readonly ignoreDifferences: readonly ResourceIgnoreDifferences[];
}

/** Reconciles one Application and returns its next status. Never throws. */
export async function reconcile(req: ReconcileRequest, deps: ReconcileDeps): Promise<ReconcileOutcome> {
  const stage = <T>(name: Stage, run: () => Promise<T>): Promise<T> => {
    deps.onStage?.(name);
    return run();
  };
  let resolved: Resolved | undefined;
  let destination: Destination | undefined;
  try {
    // fetch → render → adopt → guard → plan, and the identity writes use: the one pipeline every path calls.
    const state = await desiredState({
      app: req.app, revisionsOf: pinnedToOperation(req.app), freshness: req.freshness ?? CACHED, ...(deps.onStage ? { onStage: deps.onStage } : {}),
      onContext: (c) => { destination = c.destination; }, onResolved: (r) => { resolved = r; },
    }, deps);
    const ctx = contextOf(state, deps);
    const { desired, planned } = state;
    // Hooks are run by a sync operation; they are never compared, inventoried or pruned.
    const hooks = planned.filter((o) => o.hook);
    const resources = planned.filter((o) => !o.hook);
    const applied = appliesWhatDiffers(ctx.app, desired) ? (o: PlannedObject) => appliedAsIs(ctx.app, o) : () => false;
    // In a turn that goes before apps starting to render: this app's apply follows sooner (turns.ts).
    const { matched, compared } = await inTurn(deps.turns, "finish", async () => {
      const matched = await stage("Reading live state", () => readLive(ctx, resources, deps.concurrency, applied));
      return { matched, compared: await stage("Comparing", () => compareAll(ctx, matched.pairs, deps)) };
    });
    const outcome = await syncStage({ ctx, desired, compared, stale: matched.stale, hooks, repeated: state.repeated }, deps, stage);
    return { ...outcome, status: withSourceCredential(outcome.status, credentialOf(req.app, deps.source)), postDeleteHooks: postDeleteHooks(hooks).length > 0,
      preDeleteHooks: preDeleteHooks(hooks).length > 0, build: desired.origin };
  } catch (err) {
    const error = report(err);
    return {
      status: withSourceCredential(errorStatus(req.app, error, resolved?.revisions, new Date().toISOString()), credentialOf(req.app, deps.source)),
      changes: [], error, operationDone: false,
      next: error.retryable ? { kind: "retry" } : DONE, why: error.message, ...(destination ? { destination } : {}),
    };
  }
}

/** The credential the app's source was fetched with; undefined without one (or for a URL the source refuses). */
function credentialOf(app: Application, source: SourceStage): string | undefined {
  try {
    const repoURL = primarySource(app)?.repoURL;
    return repoURL === undefined ? undefined : source.credentialName?.(repoURL);
  } catch {
    return undefined;
  }
}

/** The reconcile's context from the pipeline's answer: reads with the agent's identity, writes with the app's. */
function contextOf(state: DesiredState, deps: ReconcileDeps): Context {
  if (!state.destination || !state.writer) throw new Error("internal: the pipeline ran without destinations");
  return {
    app: state.app, project: state.project, destination: state.destination, writer: state.writer, live: deps.live.reader(state.destination),
    ignoreDifferences: state.ignoreDifferences,
  };
}

/**
 * Reads the live object of everything planned and of everything the previous inventory holds that Git
 * dropped: from the watch-fed cache, so an unchanged app costs no request.
 */
async function readLive(ctx: Context, planned: readonly PlannedObject[], concurrency: number, appliedIfMissing: (o: PlannedObject) => boolean) {
  const live = await ctx.live.read(planned.map((o) => o.ref), concurrency, { appliedIfMissing: (i) => appliedIfMissing(planned[i]!) });
  const inventoried = staleEntries(inventoryOf(ctx.app.status), planned.map((o) => o.ref));
  // Also what carries the app's tracking id without being in Git or the inventory (a lost status write).
  const orphans = trackedOrphans(ctx.live.tracked(ctx.app.metadata?.name ?? ""), [...planned.map((o) => o.ref), ...inventoried],
    (ref) => trackingId(appRef(ctx.app), ref));
  const staleRefs = [...inventoried, ...orphans];
  const staleLive = await ctx.live.read(staleRefs, concurrency);
  const stale = staleRefs.map((ref, i): StaleLive => ({ ref, live: staleLive[i] }));
  return match(planned, live, stale);
}

async function compareAll(ctx: Context, pairs: readonly Pair[], deps: ReconcileDeps): Promise<ComparedPair[]> {
  return await mapLimit(pairs, deps.concurrency, async (p): Promise<ComparedPair> => {
    if (p.sharedWith !== undefined) return { ...p, inSync: false };
    try {
      return { ...p, inSync: await isInSync(ctx, p, deps) };
    } catch (err) {
      // The server refused the dry-run (an immutable field, an invalid value): out of sync, and the sync names it.
      return { ...p, inSync: false, error: errorMessage(err) };
    }
  });
}

/**
 * Equal to Git? First without any request (every field Git sets has that value live, and no field
 * Tether applied before has left Git); then, for what that cannot decide, a server-side dry-run apply
 * compared with the live object (the server normalises quantities and fills defaults), remembered
 * until either side changes.
 */
async function isInSync(ctx: Context, pair: Pair, deps: ReconcileDeps): Promise<boolean> {
  const { planned, live } = pair;
  if (!live) return false;
  const { ignoreDifferences } = ctx;
  if (!appliedAsGit(planned, live)) return false;
  if (isSynced({ desired: planned.manifest, live, ignoreDifferences })) return true;
  if (deps.memo.unchangedSinceApply(ctx.app, planned, live)) return true;
  const predicted = await ctx.writer.apply(planned.manifest, { dryRun: true, validate: planned.options.validate });
  const synced = isSynced({ desired: planned.manifest, live, predicted, ignoreDifferences });
  if (synced) deps.memo.remember(ctx.app, planned, live);
  return synced;
}

/**
 * Whether what was applied last is what Git holds now: with server-side apply, no field Tether
 * applied has left Git (managedFields); with client-side apply, the last-applied annotation is Git's.
 */
function appliedAsGit(planned: PlannedObject, live: Manifest): boolean {
  if (planned.options.method === "client-side") return stableHash(lastApplied(live)) === stableHash(lastApplied(withLastApplied(planned.manifest)));
  return droppedFields(planned.manifest, live).length === 0;
}

interface Compared {
  readonly ctx: Context;
  readonly desired: Desired;
  readonly compared: readonly ComparedPair[];
  readonly stale: readonly StaleLive[];
  readonly hooks: readonly PlannedObject[];
  /** Objects rendered more than once identically: Argo CD's `RepeatedResourceWarning`. */
  readonly repeated: readonly string[];
}

/** Decide, sync, then the inventory and status the outcome leaves. */
async function syncStage(input: Compared, deps: ReconcileDeps, stage: <T>(name: Stage, run: () => Promise<T>) => Promise<T>): Promise<ReconcileOutcome> {
  const { ctx, desired } = input;
  const app = ctx.app;
  const decision = decideFor(input);
  const path = sourcesOf(app).map((s) => s.path ?? s.chart ?? ".").join(", ");
  const refusal = emptyPruneRefusal({
    planned: input.compared.length, inventory: inventoryOf(app.status).length, decision, revision: desired.revision,
    allowEmpty: app.spec.syncPolicy?.automated?.allowEmpty === true, path,
  });
  if (refusal) throw new TetherError("EmptyRender", refusal, { object: path });
  const record = operationRecord(app, decision);
  const retryCount = decision.continuing ? app.status?.operationState?.retryCount ?? 0 : decision.retryCount ?? 0;
  const result: SyncResult = decision.sync ? await stage("Syncing", () => runSync(input, deps, { decision, record, retryCount })) : { changes: [], after: new Map() };
  const compared = withShared(input.compared, result.shared);
  const next = nextRun({
    ...(result.operation ? { phase: result.operation.phase } : {}), continued: decision.continuing === true, retryCount,
    ...(app.spec.syncPolicy?.retry ? { retry: app.spec.syncPolicy.retry } : {}),
    ...(decision.recheckAfterMs !== undefined ? { recheckAfterMs: decision.recheckAfterMs } : {}),
  });
  const operationDone = app.operation !== undefined && decision.fromRequest === true && !result.waiting;
  const why = desired.keptRender === undefined ? decision.why : `${decision.why}; the previous render kept: ${desired.keptRender}`;
  return { status: statusAfter({ ...input, compared }, { decision, record, result, retryCount }), changes: result.changes, operationDone, next, why, destination: ctx.destination };
}

/** The pairs as the sync left them: an object read as missing that another Application tracks is shared, as if read so. */
function withShared(compared: readonly ComparedPair[], shared: ReadonlyMap<PlannedObject, SharedObject> | undefined): readonly ComparedPair[] {
  if (!shared?.size) return compared;
  return compared.map((p) => {
    const found = shared.get(p.planned);
    return found ? { ...p, live: found.live, sharedWith: found.owner, inSync: false } : p;
  });
}

function statusAfter(input: Compared, after: {
  readonly decision: SyncDecision; readonly record: Operation; readonly result: SyncResult; readonly retryCount: number;
}): ApplicationStatus {
  const { ctx: { app }, desired } = input;
  const { decision, record, result, retryCount } = after;
  return buildStatus({
    app, revision: desired.revision, renderKey: desired.renderKey, pairs: input.compared, stale: input.stale, after: result.after,
    ...(desired.sources.length > 1 ? { revisions: desired.revisions, sources: desired.sources } : {}), warnings: desired.warnings, repeated: input.repeated,
    changes: result.changes, inventory: decision.sync && !result.refused ? inventoryAfter(input, result.changes) : inventoryOf(app.status),
    synced: decision.sync, now: new Date().toISOString(),
    ...(retryCount > 0 ? { retryCount } : {}),
    ...(result.operation ? { operation: result.operation } : {}), ...(decision.syncError ? { syncError: decision.syncError } : {}),
    ...(decision.sync ? { record } : {}), ...(result.tasks ? { tasks: result.tasks } : {}), ...(decision.sync && (record.sync?.resources?.length ?? 0) > 0 ? { selective: true } : {}),
  });
}

/** Whether this reconcile syncs (and prunes), from the compared state and the app's operation record. */
function decideFor(input: Compared): SyncDecision {
  const { ctx: { app }, desired, compared, stale } = input;
  const differs = compared.filter((p) => !p.inSync && p.sharedWith === undefined).length;
  // IgnoreExtraneous: an extraneous object with it does not make the app OutOfSync, so it starts no sync.
  const prunable = prunableOf(app, stale).filter((s) => !ignoresExtraneous(s.live)).length;
  return decisionOf(app, desired, { outOfSync: differs + prunable > 0, pruneOnly: differs === 0 && prunable > 0 });
}

function decisionOf(app: Application, desired: Desired, compared: { readonly outOfSync: boolean; readonly pruneOnly: boolean }): SyncDecision {
  return decide({
    syncPolicy: app.spec.syncPolicy, requested: app.operation?.sync, ...operationsOf(app, desired), ...compared,
    suspended: app.metadata?.annotations?.[SUSPEND_ANNOTATION] === "true", now: Date.now(),
  });
}

/**
 * Whether this reconcile, once any object differs, applies every object that differs (an automated
 * sync, a requested or continuing one that is not selective). Then an object the live cache does not
 * hold (not created yet, or without Tether's label: different from Git either way) needs no GET before
 * its apply: it is applied whatever the GET would say, and the apply returns what is live.
 */
function appliesWhatDiffers(app: Application, desired: Desired): boolean {
  const recorded = app.status?.operationState?.operation as Operation | undefined;
  const selective = (app.operation?.sync?.resources?.length ?? 0) > 0 || (recorded?.sync?.resources?.length ?? 0) > 0;
  return !selective && decisionOf(app, desired, { outOfSync: true, pruneOnly: false }).sync;
}

/**
 * Whether the object is applied without reading it first: a plain server-side apply. A forced apply,
 * a replace, a client-side apply and RespectIgnoreDifferences read the live object to write.
 */
function appliedAsIs(app: Application, o: PlannedObject): boolean {
  const options = appOptionsOf(app.spec.syncPolicy?.syncOptions);
  // FailOnSharedResource=true: an object another Application tracks must be known before anything is applied.
  return o.options.method === "server-side" && !o.options.force && !options.respectIgnoreDifferences && !options.failOnSharedResource;
}

/** What the operation runs, as `operationState.operation` records it: the request, or an automated sync. */
function operationRecord(app: Application, decision: SyncDecision): Operation {
  const running = app.status?.operationState;
  if (decision.continuing && running?.operation) return running.operation;
  if (decision.fromRequest && app.operation) return app.operation;
  return { sync: { prune: decision.prune }, initiatedBy: { automated: true } };
}

/** What the app owns after its sync: the objects it applies (not those another app tracks) and stale ones still there. */
function inventoryAfter(input: Compared, changes: readonly Change[]): string[] {
  return nextInventory({
    previous: inventoryOf(input.ctx.app.status),
    desired: input.compared.filter((p) => p.sharedWith === undefined).map((p) => p.planned.ref),
    stale: input.stale.filter((s) => s.live).map((s) => ({
      ref: s.ref, owned: s.live?.metadata.annotations?.[TRACKING_ANNOTATION] === trackingId(appRef(input.ctx.app), s.ref),
    })),
    changes,
  });
}

interface SyncResult {
  readonly changes: readonly Change[];
  readonly after: ReadonlyMap<PlannedObject, Manifest>;
  readonly waiting?: string;
  /** The operation as it stands after this reconcile (absent when nothing synced). */
  readonly operation?: OperationResult;
  /** Its steps as planned when it started. */
  readonly tasks?: readonly OperationTask[];
  /** Objects read as missing that another Application tracks, found by their apply (left as they are). */
  readonly shared?: ReadonlyMap<PlannedObject, SharedObject>;
  /** The operation failed before its first side effect (FailOnSharedResource=true): the inventory stays. */
  readonly refused?: boolean;
}

/**
 * Runs the sync operation (hooks by phase, waves, prune: apply/operation.ts) as far as it goes in
 * this reconcile; an operation that waits (a hook running, a wave not healthy yet) continues next time.
 */
async function runSync(input: Compared, deps: ReconcileDeps, op: { readonly decision: SyncDecision; readonly record: Operation; readonly retryCount: number }): Promise<SyncResult> {
  const { prune } = op.decision;
  const selection = op.record.sync?.resources;
  const { ctx, compared } = input;
  const cluster = ctx.writer;
  const refused = sharedRefusal(ctx.app, compared);
  if (refused) return refused;
  // A selective sync (`tether app sync --resource`) takes only the objects it names, prunes only those and runs no hooks (as Argo CD).
  const owned = compared.filter((p) => p.sharedWith === undefined && isSelected(p.planned.ref, selection)).map((p) => toApply(ctx, p));
  const hooks = selection?.length ? [] : input.hooks;
  const started = op.decision.continuing && ctx.app.status?.operationState
    ? ctx.app.status.operationState
    : await recordStart(input, deps, { ...op, resources: owned.map((p) => p.planned), hooks });
  const shared = new Map<PlannedObject, SharedObject>();
  // Once recorded, the operation is not lost to an error: it stays Running and goes on at the next attempt.
  const operation = await runRecorded(started, async () => {
    await createNamespace(ctx.app, cluster);
    return await runOperation(operationInput(input, deps, { started, owned, hooks, prune, selection, shared }));
  });
  const waiting = operation.phase === "Running" ? operation.message : undefined;
  return {
    changes: operation.changes, after: operation.live, operation, ...(started.tasks ? { tasks: started.tasks } : {}), ...(waiting ? { waiting } : {}),
    ...(shared.size > 0 ? { shared } : {}),
  };
}

/**
 * `FailOnSharedResource=true`: an operation that would meet an object another Application tracks
 * fails before its first side effect, as Argo CD's (`Shared resource found: ...`). Without the option
 * such objects are left as they are and the rest is synced.
 */
function sharedRefusal(app: Application, compared: readonly ComparedPair[]): SyncResult | undefined {
  const shared = compared.flatMap((p) => p.sharedWith === undefined ? [] : [sharedMessage(p.planned.ref, p.sharedWith)]);
  if (shared.length === 0 || !appOptionsOf(app.spec.syncPolicy?.syncOptions).failOnSharedResource) return undefined;
  const now = new Date().toISOString();
  const operation: OperationResult = { phase: "Failed", message: `Shared resource found: ${shared.join("; ")}`, startedAt: now, changes: [], live: new Map(), hooks: [] };
  return { changes: [], after: new Map(), operation, refused: true };
}

async function runRecorded(started: OperationState, run: () => Promise<OperationResult>): Promise<OperationResult> {
  try {
    return await run();
  } catch (err) {
    const hooks = (started.syncResult?.resources ?? []).filter((r) => r.hookType);
    return {
      phase: "Running", message: `${errorMessage(err)}; the operation goes on at the next attempt`, startedAt: started.startedAt ?? new Date().toISOString(),
      changes: [], live: new Map(), hooks,
    };
  }
}

/** What the operation runner is given: the I/O of applying, hooks' cluster, prune, and the record's progress. */
function operationInput(input: Compared, deps: ReconcileDeps, op: {
  readonly started: OperationState; readonly owned: readonly ComparedPair[]; readonly hooks: readonly PlannedObject[];
  readonly prune: boolean; readonly selection: SyncOperationResource[] | undefined;
  /** Filled with the objects an apply found another Application tracks. */
  readonly shared: Map<PlannedObject, SharedObject>;
}): OperationInput {
  const { ctx, stale } = input;
  const { started, owned, hooks, prune, selection, shared } = op;
  const cluster = ctx.writer;
  const appOptions = ctx.app.spec.syncPolicy?.syncOptions ?? [];
  // Only what differs is written, always: Argo CD's ApplyOutOfSyncOnly=true is Tether's only behaviour.
  const unchanged = new Set(owned.filter((p) => p.inSync).map((p) => p.planned));
  const before = new Map(owned.map((p) => [p.planned, p.live]));
  return {
    cluster, revision: input.desired.revision, now: started.startedAt ?? new Date().toISOString(), previous: started,
    resources: owned.map((p) => p.planned), hooks,
    progress: async (results, message) => {
      // Best effort: a hook created but not recorded is still found by its tether.dev/hook-operation stamp.
      const objects = (started.syncResult?.resources ?? []).filter((r) => !r.hookType);
      await deps.record?.({ ...started, message, syncResult: { ...started.syncResult, resources: [...objects, ...results] } }).catch(() => undefined);
    },
    apply: async (objects) => {
      const applied = await applyAll(objects, { cluster, concurrency: deps.concurrency, unchanged, before });
      for (const [obj, manifest] of applied.live) {
        deps.memo.applied(ctx.app, obj, manifest);
        ctx.live.applied(manifest);
      }
      for (const [obj, found] of applied.shared ?? []) {
        shared.set(obj, found);
        ctx.live.found(obj.ref);
      }
      return applied;
    },
    // An object left to the Application that tracks it is not waited on, as when the read had found it.
    ready: (objects, applied) => waveGate(objects.filter((o) => !shared.has(o)).map((o) => applied.live.get(o) ?? before.get(o))),
    prune: async () => {
      const prunable = prune ? prunableOf(ctx.app, stale).filter((st) => isSelected(st.ref, selection)) : [];
      if (prunable.length === 0) return { changes: [] };
      return await pruneAll(prunable.map((s) => ({ ref: s.ref, pruneLast: optionsOf(s.live, appOptions).pruneLast, wave: waveOfLive(s.live) })), {
        cluster, trackingIdOf: (ref) => trackingId(appRef(ctx.app), ref), concurrency: deps.concurrency, appSyncOptions: appOptions,
      });
    },
  };
}

/**
 * A new operation is written as Running, with its steps and the names of its hooks, before its first
 * side effect: an agent that stops after that point resumes it, and never starts a second one. One
 * without hooks may be written only once it runs longer than a moment (`deferrable`, ReconcileDeps.record).
 */
async function recordStart(input: Compared, deps: ReconcileDeps, op: {
  readonly record: Operation; readonly retryCount: number; readonly resources: readonly PlannedObject[]; readonly hooks: readonly PlannedObject[];
}): Promise<OperationState> {
  const { desired } = input;
  const startedAt = new Date().toISOString();
  const state: OperationState = {
    phase: "Running", message: "operation started", startedAt, operation: op.record, ...(op.retryCount > 0 ? { retryCount: op.retryCount } : {}),
    tasks: operationTasks({ resources: op.resources, hooks: op.hooks, revision: desired.revision, startedAt }),
    syncResult: { revision: desired.revision, ...(desired.sources.length > 1 ? { revisions: [...desired.revisions] } : {}), renderKey: desired.renderKey, resources: [] },
  };
  try {
    await deps.record?.(state, { deferrable: op.hooks.length === 0 });
  } catch (err) {
    throw new TetherError("SyncError", `could not record the operation before starting it, so nothing was changed: ${errorMessage(err)}`,
      { retryable: true, cause: err });
  }
  return state;
}

/** With `RespectIgnoreDifferences=true`, the object to apply keeps the live value of every field the app ignores. */
function toApply(ctx: Context, pair: ComparedPair): ComparedPair {
  if (!appOptionsOf(ctx.app.spec.syncPolicy?.syncOptions).respectIgnoreDifferences || !pair.live) return pair;
  const manifest = respectIgnored(pair.planned.manifest, pair.live, ctx.ignoreDifferences);
  return manifest === pair.planned.manifest ? pair : { ...pair, planned: { ...pair.planned, manifest } };
}

/** Stale objects still live and ours that prune may delete: not those with Prune=false or Delete=false (here or on the app). */
export function prunableOf(app: Application, stale: readonly StaleLive[]): StaleLive[] {
  const id = (ref: StaleLive["ref"]) => trackingId(appRef(app), ref);
  return stale.filter((s) => {
    if (!s.live || s.live.metadata.annotations?.[TRACKING_ANNOTATION] !== id(s.ref)) return false;
    const options = optionsOf(s.live, app.spec.syncPolicy?.syncOptions);
    return options.prune && options.delete;
  });
}

/**
 * `CreateNamespace=true`: the destination namespace exists before anything is applied, with the
 * labels and annotations of `syncPolicy.managedNamespaceMetadata` (applied server-side, so removing
 * one from the Application removes it from the namespace and other fields stay someone else's).
 */
async function createNamespace(app: Application, cluster: Cluster): Promise<void> {
  const ns = app.spec.destination.namespace;
  if (!ns || !appOptionsOf(app.spec.syncPolicy?.syncOptions).createNamespace) return;
  const meta = app.spec.syncPolicy?.managedNamespaceMetadata;
  const live = await cluster.get({ group: "", version: "v1", kind: "Namespace", name: ns });
  if (live && !meta) return;
  const wanted = { ...(meta?.labels ? { labels: meta.labels } : {}), ...(meta?.annotations ? { annotations: meta.annotations } : {}) };
  if (live && namespaceHas(live, wanted)) return;
  await cluster.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns, ...wanted } });
}

function namespaceHas(live: Manifest, wanted: { labels?: Record<string, string>; annotations?: Record<string, string> }): boolean {
  const has = (have: Record<string, string> | undefined, want: Record<string, string> | undefined) =>
    Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v);
  return has(live.metadata.labels, wanted.labels) && has(live.metadata.annotations, wanted.annotations);
}

function appRef(app: Application): { name: string; namespace: string } {
  return { name: app.metadata?.name ?? "", namespace: app.metadata?.namespace ?? "" };
}

/** Counts for logs: `created 2, configured 1, deleted 1`. */
export function tally(changes: readonly Change[]): string {
  return (["created", "configured", "deleted", "failed", "skipped"] as const)
    .filter((a) => count(changes, a) > 0).map((a) => `${a} ${count(changes, a)}`).join(", ") || "no changes";
}
