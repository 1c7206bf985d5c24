// The Application status a reconcile leaves, from what it compared and what its sync did. Pure:
// every input comes in (the time too), so each outcome is a fixture in status.test.ts.
import {
  ROLLBACK_ANNOTATION, SUSPEND_ANNOTATION, type Application, type ApplicationSource, type ApplicationStatus, type Condition, type HealthStatusCode, type Manifest,
  type Operation, type OperationTask, type ResourceResult, type ResourceStatus,
} from "../api/types.ts";
import { summarize, type Change } from "../apply/changeset.ts";
import { displayRef, foldInventory, identity, resourceEntry, resourceRef } from "../apply/inventory.ts";
import { invalidObjectOptions, invalidOptions } from "../apply/options.ts";
import { sharedMessage } from "../apply/ownership.ts";
import { resourceHealth, worst } from "../health/index.ts";
import { conditionOf, mergeConditions, type Reported } from "../status/conditions.ts";
import { nextHistory } from "../status/history.ts";
import type { OperationResult } from "../apply/operation.ts";
import { optionsOf } from "../apply/plan.ts";
import { ignoresExtraneous } from "../diff/options.ts";
import type { Pair, StaleLive } from "./match.ts";

/** A matched pair after comparison. */
export interface ComparedPair extends Pair {
  readonly inSync: boolean;
  /** Why it could not be compared (the dry-run was refused): it is out of sync and names the reason. */
  readonly error?: string;
}

export interface StatusInput {
  readonly app: Application;
  readonly revision: string;
  /** With several sources: one revision per source, and the sources (status and history as Argo CD). */
  readonly revisions?: readonly string[];
  readonly sources?: readonly ApplicationSource[];
  /** What the render ignored (Argo CD fields Tether does not implement): one `UnsupportedField` condition. */
  readonly warnings?: readonly string[];
  /** Objects the render holds more than once, identically: one `RepeatedResourceWarning` condition (Argo CD's). */
  readonly repeated?: readonly string[];
  readonly renderKey: string;
  readonly pairs: readonly ComparedPair[];
  readonly stale: readonly StaleLive[];
  /** Live objects as the sync left them (apply responses); the pair's live object otherwise. */
  readonly after: ReadonlyMap<Pair["planned"], Manifest>;
  readonly changes: readonly Change[];
  readonly inventory: readonly string[];
  /** Whether a sync ran (or goes on). */
  readonly synced: boolean;
  /** Retries spent by `syncPolicy.retry` on a failing sync. */
  readonly retryCount?: number;
  /** The sync operation as this reconcile left it: its phase, message, start and hook results. */
  readonly operation?: Pick<OperationResult, "phase" | "message" | "startedAt" | "hooks">;
  /** What the operation runs (`operationState.operation`): the request, or an automated sync. */
  readonly record?: Operation;
  /** The operation's steps as planned when it started (`operationState.tasks`). */
  readonly tasks?: readonly OperationTask[];
  /** Why an automated sync did not repeat a failed revision: Argo CD's "Failed last sync attempt to ...". */
  readonly syncError?: string;
  /** The sync took only some objects (`--resource`): as in Argo CD it is not a deploy (no history entry). */
  readonly selective?: boolean;
  readonly now: string;
}

export function buildStatus(input: StatusInput): ApplicationStatus {
  const previous = input.app.status ?? {};
  const assessed = resourceStatuses(input);
  const health = appHealth(assessed.slice(0, input.pairs.length));
  const resources = withoutUncheckedMissing(assessed, input.pairs);
  const status: ApplicationStatus = {
    ...withoutOldInventory(previous),
    sync: { status: appSynced(input, resources) ? "Synced" : "OutOfSync", revision: input.revision, ...revisionsOf(input) },
    health: { status: health.status, ...(health.message ? { message: health.message } : {}) },
    resources,
    conditions: mergeConditions(previous.conditions, conditions(input)),
    // The inventory rides on `resources` (the old `inventory`, read until now, is not written again).
    inventoryFromResources: foldInventory(input.inventory, resources),
    reconciledAt: input.now,
  };
  if (input.synced) Object.assign(status, operationResult(input));
  // A revision that renders what is already live (a commit outside the app's path, a comment) is recorded, not synced.
  else if (status.sync?.status === "Synced" && previous.operationState?.phase !== "Running") status.observedRenderKey = input.renderKey;
  return status;
}

/**
 * `health: Missing` left out of a missing object's entry when its kind has no health check (a ConfigMap:
 * its live entry has none either; Argo CD 3 writes no per-object health at all): OutOfSync says it is
 * not there, the app's health still says Missing, and a never-synced 5,000-object app's status stays
 * under 512 KiB (665 KB with it).
 */
function withoutUncheckedMissing(resources: ResourceStatus[], pairs: readonly ComparedPair[]): ResourceStatus[] {
  return resources.map((r, i) => {
    const pair = pairs[i];
    if (r.health?.status !== "Missing" || pair === undefined || resourceHealth(pair.planned.manifest) !== undefined) return r;
    const rest = { ...r };
    delete rest.health;
    return rest;
  });
}

/** The status without `inventory` as written before `inventoryFromResources`: read once, never written again. */
function withoutOldInventory(status: ApplicationStatus): ApplicationStatus {
  const next = { ...status };
  delete next.inventory;
  return next;
}

/**
 * Whether the app is Synced: every object is, except the extraneous ones marked IgnoreExtraneous
 * (Argo CD's compare option: listed OutOfSync themselves, they leave the app's status alone).
 */
function appSynced(input: StatusInput, resources: readonly ResourceStatus[]): boolean {
  const ignored = new Set(input.stale.filter((s) => ignoresExtraneous(s.live)).map((s) => identity(s.ref)));
  return resources.every((r, i) => r.status === "Synced" || (i >= input.pairs.length && ignored.has(identity(resourceRef(r)))));
}

/** The status after a reconcile stopped on an error: nothing was applied or pruned, so the last resources, inventory and health stay. */
export function errorStatus(app: Application, error: Reported, revisions: readonly string[] | undefined, now: string): ApplicationStatus {
  const previous = app.status ?? {};
  const several = revisions !== undefined && revisions.length > 1 ? { revisions: [...revisions] } : previous.sync?.revisions ? { revisions: previous.sync.revisions } : {};
  return {
    ...previous,
    sync: { status: "Unknown", revision: revisions?.[0] ?? previous.sync?.revision ?? "", ...several },
    conditions: mergeConditions(previous.conditions, [conditionOf(error, now)]),
    reconciledAt: now,
  };
}

/** `status.sourceCredential`: the Secret (`namespace/name`) the source was fetched with; dropped when none was. */
export function withSourceCredential(status: ApplicationStatus, secret: string | undefined): ApplicationStatus {
  const next: ApplicationStatus = { ...status };
  if (secret === undefined) delete next.sourceCredential;
  else next.sourceCredential = secret;
  return next;
}

/** `revisions` for an app with several sources, as Argo CD writes it. */
function revisionsOf(input: StatusInput): { revisions?: string[] } {
  return input.revisions === undefined ? {} : { revisions: [...input.revisions] };
}

function resourceStatuses(input: StatusInput): ResourceStatus[] {
  const changed = new Map(input.changes.map((c) => [identity(c.ref), c]));
  const inSync = (p: ComparedPair) => {
    const c = changed.get(identity(p.planned.ref));
    return c ? c.action !== "failed" && c.action !== "skipped" : p.inSync;
  };
  // `health` is left out for a kind without a health check (a ConfigMap), as Argo CD does.
  const resources: ResourceStatus[] = input.pairs.map((p) =>
    resourceEntry(p.planned.ref, p.sharedWith === undefined && inSync(p) ? "Synced" : "OutOfSync", resourceHealth(input.after.get(p.planned) ?? p.live)));
  for (const s of input.stale) {
    if (!s.live || changed.get(identity(s.ref))?.action === "deleted") continue;
    resources.push(resourceEntry(s.ref, "OutOfSync", resourceHealth(s.live)));
  }
  return resources;
}

function conditions(input: StatusInput): Condition[] {
  const out: Condition[] = [];
  const add = (type: string, messages: readonly string[]) => {
    if (messages.length > 0) out.push({ type, message: messages.join("; "), lastTransitionTime: input.now });
  };
  if (input.app.metadata?.annotations?.[SUSPEND_ANNOTATION] === "true") {
    add("Suspended", ["automated sync and self-heal are off (tether app suspend); `tether app resume` turns them back on"]);
  }
  add("UnsupportedField", input.warnings ?? []);
  add("RepeatedResourceWarning", input.repeated ?? []);
  const pruning = requirePruning(input);
  add("PruningRequired", pruning.length === 0 ? [] : [`${pruning.length} object${pruning.length === 1 ? " requires" : "s require"} pruning: `
    + `${pruning.map((s) => displayRef(s.ref)).join(", ")}; sync with --prune (or syncPolicy.automated.prune) to delete them`]);
  add("RolledBack", rolledBack(input.app));
  add("InvalidSyncOption", [
    ...invalidOptions(input.app.spec.syncPolicy?.syncOptions ?? []).map((m) => `spec.syncPolicy.syncOptions: ${m}`),
    ...input.pairs.flatMap((p) => invalidObjectOptions(p.planned.manifest).map((m) => `${displayRef(p.planned.ref)}: ${m}`)),
  ]);
  add("SharedResource", input.pairs.flatMap((p) => p.sharedWith === undefined ? [] : [sharedMessage(p.planned.ref, p.sharedWith)]));
  const failed = input.changes.filter((c) => c.action === "failed");
  const planned = new Set(input.pairs.map((p) => identity(p.planned.ref)));
  // Argo CD's condition for a failed sync: each object the API server refused, and each hook that failed.
  add("SyncError", [
    ...(input.syncError ? [input.syncError, ...failedResults(input.app)] : []),
    ...failed.filter((c) => planned.has(identity(c.ref))).map((c) => `${displayRef(c.ref)}: ${c.message ?? ""}`),
    ...(input.operation?.hooks ?? []).filter((h) => h.hookPhase === "Failed").map(hookFailure),
  ]);
  add("PruneFailed", failed.filter((c) => !planned.has(identity(c.ref))).map((c) => `${displayRef(c.ref)}: ${c.message ?? ""}`));
  // A refused dry-run already shows as SyncError when the sync tried the object; otherwise it is a comparison error.
  if (failed.length === 0) add("ComparisonError", input.pairs.filter((p) => p.error !== undefined).map((p) => `${displayRef(p.planned.ref)}: ${p.error}`));
  return out;
}

const hookFailure = (h: ResourceResult) => `${h.syncPhase ?? ""} hook ${displayRef(h)}: ${h.message ?? "failed"}`;

/** What the last (failed) operation says failed, object by object: kept in SyncError while that revision is not synced again. */
function failedResults(app: Application): string[] {
  const results = app.status?.operationState?.syncResult?.resources ?? [];
  return [
    ...results.filter((r) => !r.hookType && r.status === "SyncFailed").map((r) => `${displayRef(r)}: ${r.message ?? ""}`),
    ...results.filter((r) => r.hookType && r.hookPhase === "Failed").map(hookFailure),
  ];
}

/**
 * After a rollback, while automated sync is off (as the rollback left it): which entry runs and the
 * exact command that turns automated sync back on with the policy the app had before.
 */
function rolledBack(app: Application): string[] {
  const raw = app.metadata?.annotations?.[ROLLBACK_ANNOTATION];
  if (raw === undefined || app.spec.syncPolicy?.automated !== undefined) return [];
  let note: { id?: number; revision?: string; automated?: unknown } = {};
  try {
    note = JSON.parse(raw) as typeof note;
  } catch {
    // A hand-edited annotation: still say that automated sync is off.
  }
  const automated = JSON.stringify({ spec: { syncPolicy: { automated: note.automated ?? {} } } });
  const name = app.metadata?.name ?? "";
  return [`rolled back to history entry ${note.id ?? "?"} (${(note.revision ?? "").slice(0, 7)}); automated sync is off so the next commit does not `
    + `undo it. Turn it back on with: kubectl -n ${app.metadata?.namespace ?? ""} patch applications.tether.dev ${name} --type merge -p '${automated}'`];
}

function operationResult(input: StatusInput): Pick<ApplicationStatus, "operationState" | "observedRenderKey" | "history"> {
  const previous = input.app.status ?? {};
  const op = input.operation;
  if (!op) return {};
  const { phase, message } = op;
  const running = previous.operationState?.phase === "Running" ? previous.operationState : undefined;
  const continuing = running !== undefined && (running.syncResult?.revision ?? input.revision) === input.revision;
  const startedAt = input.operation?.startedAt ?? (continuing ? previous.operationState?.startedAt ?? input.now : input.now);
  const results = resourceResults(input, continuing);
  const syncResult = { revision: input.revision, ...revisionsOf(input), renderKey: input.renderKey, resources: phase === "Running" ? results : boundedResults(results) };
  const common = {
    ...(input.record ? { operation: input.record } : {}), ...(input.retryCount ? { retryCount: input.retryCount } : {}), ...(input.tasks ? { tasks: [...input.tasks] } : {}),
  };
  if (phase === "Running") return { operationState: { phase, message, startedAt, ...common, syncResult } };
  const operationState = {
    phase, message: phase === "Succeeded" && op.hooks.length === 0 ? summarize(input.changes) : message, startedAt, finishedAt: input.now,
    ...common, syncResult,
  };
  if (phase !== "Succeeded" || input.selective) return { operationState };
  return { operationState, observedRenderKey: input.renderKey, ...historyAfter(input) };
}

/**
 * What the operation did to each object, as Argo CD's `syncResult.resources`: results of earlier
 * reconciles of the same operation kept, this reconcile's changes and hook results over them, and
 * stale objects left in place marked PruneSkipped (with "requires pruning" unless Prune=false).
 */
function resourceResults(input: StatusInput, continuing: boolean): ResourceResult[] {
  const results = new Map<string, ResourceResult>();
  const key = (r: ResourceResult) => `${r.syncPhase ?? "Sync"}:${identity(r)}`;
  const put = (r: ResourceResult) => results.set(key(r), r);
  if (continuing) (input.app.status?.operationState?.syncResult?.resources ?? []).forEach(put);
  const planned = new Set(input.pairs.map((p) => identity(p.planned.ref)));
  for (const c of input.changes) {
    const result = resultOf(c, planned.has(identity(c.ref)));
    if (result) put(result);
  }
  const pruned = new Set(input.changes.map((c) => identity(c.ref)));
  for (const s of input.stale) {
    if (!s.live || pruned.has(identity(s.ref))) continue;
    put({ ...s.ref, status: "PruneSkipped", message: prunable(input.app, s) ? "ignored (requires pruning)" : "ignored (no prune)" });
  }
  for (const h of input.operation?.hooks ?? []) put(h);
  return [...results.values()];
}

/**
 * How many plainly applied objects (`Synced`, created / configured / unchanged, no hook) a finished
 * operation lists in `syncResult.resources`. Past it none is listed: the operation's message counts
 * them, and every hook, failure, prune and skipped prune stays. A 5,000-object app's status held
 * 650 KB of such entries, against etcd's 1.5 MiB per object. An operation still running keeps them all
 * (the next reconcile continues from them).
 */
export const PLAIN_RESULTS_LISTED = 1000;
const PLAIN_MESSAGES: ReadonlySet<string | undefined> = new Set(["created", "configured", "unchanged"]);

function boundedResults(results: readonly ResourceResult[]): ResourceResult[] {
  const plain = (r: ResourceResult) => r.hookType === undefined && r.status === "Synced" && PLAIN_MESSAGES.has(r.message);
  const count = results.reduce((n, r) => n + (plain(r) ? 1 : 0), 0);
  return count <= PLAIN_RESULTS_LISTED ? [...results] : results.filter((r) => !plain(r));
}

const prunable = (app: Application, s: StaleLive) => optionsOf(s.live, app.spec.syncPolicy?.syncOptions).prune;

/** Stale objects still live that a sync with prune would delete (Prune=false ones are not counted, as in Argo CD). */
export function requirePruning(input: Pick<StatusInput, "app" | "stale" | "changes">): StaleLive[] {
  const tried = new Set(input.changes.filter((c) => c.action === "deleted" || c.action === "failed").map((c) => identity(c.ref)));
  return input.stale.filter((s) => s.live && !tried.has(identity(s.ref)) && prunable(input.app, s) && !ignoresExtraneous(s.live));
}

function resultOf(c: Change, planned: boolean): ResourceResult | undefined {
  const message = c.message ? `${c.action}: ${c.message}` : c.action;
  if (planned) {
    if (c.action === "failed") return { ...c.ref, status: "SyncFailed", ...(c.message ? { message: c.message } : {}) };
    return c.action === "skipped" ? undefined : { ...c.ref, status: "Synced", message };
  }
  if (c.action === "deleted") return { ...c.ref, status: "Pruned", message: "pruned" };
  if (c.action === "failed") return { ...c.ref, status: "SyncFailed", ...(c.message ? { message: c.message } : {}) };
  return { ...c.ref, status: "PruneSkipped", ...(c.message ? { message: c.message } : {}) };
}

/**
 * A history entry for a sync that deployed a revision the app had not deployed yet and changed
 * something in the cluster: a commit that did not touch the app, or a selfHeal revert, is not a deploy.
 */
function historyAfter(input: StatusInput): Pick<ApplicationStatus, "history"> {
  const previous = input.app.status?.history ?? [];
  const moved = input.changes.some((c) => c.action !== "unchanged");
  const last = previous[previous.length - 1];
  const same = last?.revision === input.revision && (input.revisions === undefined || last.revisions?.join() === input.revisions.join());
  if (same || (last !== undefined && !moved)) return {};
  const initiatedBy = input.app.operation?.initiatedBy ?? { automated: true };
  const entry = {
    revision: input.revision, deployedAt: input.now,
    ...(input.revisions && input.sources ? { revisions: [...input.revisions], sources: input.sources.map((s) => ({ ...s })) } : sourceOf(input.app)),
    initiatedBy,
  };
  return { history: nextHistory(previous, entry, input.app.spec.revisionHistoryLimit ?? 10) };
}

/** The single source a history entry records, as Argo CD's `source` (targetRevision spelled out). */
function sourceOf(app: Application): { source?: Record<string, unknown> } {
  return app.spec.source === undefined ? {} : { source: { ...app.spec.source, targetRevision: app.spec.source.targetRevision ?? "HEAD" } };
}

/**
 * The worst health of the app's resources, with the message of the first resource in that state. A
 * resource without health (its kind has no health check) does not count, as in Argo CD: an app of
 * ConfigMaps alone is Healthy.
 */
export function appHealth(resources: readonly ResourceStatus[]): { status: HealthStatusCode; message?: string } {
  const status = worst(...resources.flatMap((r) => (r.health ? [r.health.status] : [])));
  const culprit = resources.find((r) => r.health?.status === status && status !== "Healthy");
  return culprit ? { status, message: `${displayRef(culprit)}: ${culprit.health?.message ?? status}` } : { status };
}
