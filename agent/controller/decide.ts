// What a reconcile does with what it compared: start an operation, continue the one that runs, or
// nothing, and why. Argo CD's auto-sync rules (controller/appcontroller.go, autoSync), each a table row
// in decide.test.ts:
// - an operation in progress is a lock: it runs to its end at its own revision, and a new commit, a
//   drift, a refresh or a requested sync wait for it;
// - automated sync starts only when the comparison is OutOfSync: a commit that renders the same
//   objects (outside the app's path, a YAML comment) records its revision and starts nothing;
// - a revision whose last operation failed is not synced again automatically, unless
//   `syncPolicy.retry` allows another attempt (after its backoff); a new revision or a manual sync
//   is needed (condition SyncError "Failed last sync attempt to REV: ...");
// - drift at a revision already synced successfully is reverted only with selfHeal.
// Pure; the reconcile (reconcile.ts) reads the inputs and carries the decision out.
import type { Application, Operation, OperationState, RetryPolicy } from "../api/types.ts";
import { stableHash } from "../hash.ts";
import { DONE, type RunResult } from "./queue.ts";
import { retryDelay } from "./retry.ts";

type SyncPolicy = Application["spec"]["syncPolicy"];
type RequestedSync = NonNullable<Operation["sync"]>;

/** An operation in progress (status.operationState Running). */
export interface RunningOperation {
  /** Whether it deletes what left Git (recorded when it started). */
  readonly prune: boolean;
  /** Whether it is the sync requested in `operation` now (cleared when it ends); else a request waits. */
  readonly isRequest: boolean;
}

/** The last operation that ended. */
export interface EndedOperation {
  readonly phase: "Succeeded" | "Failed" | "Error";
  /** It synced what Git wants now (same revision and render inputs): "already attempted" in Argo CD. */
  readonly sameDesired: boolean;
  /** Its revision(s), as the SyncError condition names them. */
  readonly revision: string;
  readonly message?: string;
  /** Retries `syncPolicy.retry` had spent when it ended. */
  readonly retryCount: number;
  /** When it ended (ms since the epoch): the retry backoff counts from there. */
  readonly finishedAt?: number;
}

export interface DecisionInput {
  readonly syncPolicy: SyncPolicy;
  /** A requested sync (`operation.sync`: `tether app sync`, a rollback). */
  readonly requested: RequestedSync | undefined;
  readonly running?: RunningOperation;
  readonly last?: EndedOperation;
  /** Something differs: an object to apply, or a stale object prune may delete. */
  readonly outOfSync: boolean;
  /** All that differs is stale objects to prune. */
  readonly pruneOnly?: boolean;
  /** `tether app suspend`: automation off until resumed; a requested sync still runs. */
  readonly suspended?: boolean;
  /** Now, in ms since the epoch (the retry backoff). */
  readonly now: number;
}

export interface SyncDecision {
  /** Whether this reconcile runs an operation (a new one, or the one in progress). */
  readonly sync: boolean;
  readonly prune: boolean;
  /** Why, for the log line every reconcile writes (a no-op included). */
  readonly why: string;
  /** The operation goes on from its record (status.operationState) rather than starting. */
  readonly continuing?: boolean;
  /** The operation is the requested one: `operation` is cleared when it ends (or at once, for a dry run). */
  readonly fromRequest?: boolean;
  /** A new operation that retries a failed one: the retries spent with it. */
  readonly retryCount?: number;
  /** Argo CD's SyncError for a revision not synced again ("Failed last sync attempt to ..."). */
  readonly syncError?: string;
  /** Decide again after this long (a retry's backoff not yet over). */
  readonly recheckAfterMs?: number;
}

/** Whether this reconcile syncs (and prunes), and why. */
export function decide(input: DecisionInput): SyncDecision {
  const auto = input.syncPolicy?.automated;
  const { requested, running } = input;
  if (running) {
    const waits = requested && !running.isRequest ? "; the requested sync waits for it" : "";
    return { sync: true, prune: running.prune, continuing: true, fromRequest: running.isRequest, why: `operation in progress${waits}` };
  }
  if (requested) {
    const prune = requested.prune === true;
    if (requested.dryRun === true) return { sync: false, prune, fromRequest: true, why: "sync requested as a dry run: nothing applied" };
    return { sync: true, prune, fromRequest: true, why: "sync requested" };
  }
  const prune = auto?.prune === true;
  if (!auto) return { sync: false, prune, why: input.outOfSync ? "out of sync; automated sync is off, waiting for a sync request" : "in sync" };
  if (input.suspended) {
    return { sync: false, prune, why: input.outOfSync ? "out of sync; the application is suspended (tether app resume turns automation back on)" : "in sync; suspended" };
  }
  if (!input.outOfSync) return { sync: false, prune, why: "in sync" };
  if (input.pruneOnly && !prune) return { sync: false, prune, why: "only objects to prune differ, and automated prune is off" };
  const last = input.last;
  if (last?.sameDesired) return again(input, last);
  return { sync: true, prune, why: "out of sync at a revision not synced yet" };
}

/** Automated sync of what the last operation already synced (Argo CD's `alreadyAttemptedSync`). */
function again(input: DecisionInput, last: EndedOperation): SyncDecision {
  const auto = input.syncPolicy?.automated;
  const prune = auto?.prune === true;
  if (last.phase === "Succeeded") {
    return auto?.selfHeal === true
      ? { sync: true, prune, why: "drift from Git; selfHeal reverts it" }
      : { sync: false, prune, why: "drift from Git; selfHeal is off, so it stays until the next commit or sync" };
  }
  const delay = retryAfter(input.syncPolicy?.retry, last.retryCount);
  if (delay === undefined) {
    const why = input.syncPolicy?.retry ? "syncPolicy.retry allows no more attempts" : "no syncPolicy.retry";
    return {
      sync: false, prune, why: `the last sync of this revision failed (${why}); push a fix or sync by hand`,
      syncError: `Failed last sync attempt to ${last.revision}: ${last.message ?? last.phase}`,
    };
  }
  const wait = (last.finishedAt ?? 0) + delay - input.now;
  const retry = last.retryCount + 1;
  if (wait > 0) return { sync: false, prune, why: `retry ${retry} of the failed sync in ${Math.ceil(wait / 1000)}s (syncPolicy.retry)`, recheckAfterMs: wait };
  return { sync: true, prune, retryCount: retry, why: `retry ${retry} of the failed sync (syncPolicy.retry)` };
}

/**
 * The delay before the next retry of a failed operation that had spent `spent` retries, or undefined
 * when `syncPolicy.retry` allows none (no policy: a failed sync is not repeated).
 */
export function retryAfter(policy: RetryPolicy | undefined, spent: number): number | undefined {
  return retryDelay(policy, spent + 1);
}

/** What Git wants now, as the operation record is compared with it. */
export interface DesiredKey {
  readonly revision: string;
  readonly revisions: readonly string[];
  readonly renderKey: string;
}

/** The operation in progress and the last one that ended, read from `status.operationState`. */
export function operationsOf(app: Application, desired: DesiredKey): { running?: RunningOperation; last?: EndedOperation } {
  const state = app.status?.operationState;
  if (!state) return {};
  return state.phase === "Running" ? { running: runningOf(app, state) } : { last: endedOf(state, state.phase, desired) };
}

function runningOf(app: Application, state: OperationState): RunningOperation {
  const recorded = recordedOperation(state);
  const prune = recorded?.sync?.prune ?? app.operation?.sync?.prune ?? app.spec.syncPolicy?.automated?.prune ?? false;
  const isRequest = app.operation !== undefined && (recorded === undefined || sameOperation(app.operation, recorded));
  return { prune: prune === true, isRequest };
}

function endedOf(state: OperationState, phase: EndedOperation["phase"], desired: DesiredKey): EndedOperation {
  const result = state.syncResult;
  const revisions = result?.revisions ?? (result?.revision !== undefined ? [result.revision] : []);
  const wanted = desired.revisions.length > 1 ? desired.revisions : [desired.revision];
  const sameDesired = result?.renderKey !== undefined ? result.renderKey === desired.renderKey : revisions.join() === wanted.join();
  const finishedAt = state.finishedAt ? Date.parse(state.finishedAt) : Number.NaN;
  return {
    phase, sameDesired, revision: revisions.join(", "), retryCount: state.retryCount ?? 0,
    ...(state.message !== undefined ? { message: state.message } : {}), ...(Number.isNaN(finishedAt) ? {} : { finishedAt }),
  };
}

/** The operation an operation state says it runs (Argo CD's `operationState.operation`). */
export function recordedOperation(state: OperationState): Operation | undefined {
  return state.operation;
}

/** Whether two requested operations are the same request. */
export function sameOperation(a: Operation, b: Operation): boolean {
  return stableHash({ sync: a.sync ?? {}, initiatedBy: a.initiatedBy ?? {} }) === stableHash({ sync: b.sync ?? {}, initiatedBy: b.initiatedBy ?? {} });
}

/**
 * The app as the source stage resolves it: an operation in progress runs at the revision(s) it
 * started with, whatever Git has since, so its hooks and waves see one commit from start to end.
 */
export function pinnedToOperation(app: Application): Application {
  const state = app.status?.operationState;
  const result = state?.syncResult;
  if (state?.phase !== "Running" || (result?.revision === undefined && result?.revisions === undefined)) return app;
  const pin = result.revisions ? { revisions: [...result.revisions] } : { revision: result.revision! };
  const sync = { ...app.operation?.sync };
  delete sync.revision;
  delete sync.revisions;
  return { ...app, operation: { ...app.operation, sync: { ...sync, ...pin } } };
}

/** What the queue does after a reconcile: from the operation's phase when one ran, else the decision. */
export function nextRun(input: {
  readonly phase?: "Running" | "Succeeded" | "Failed";
  /** The operation that ended had started in an earlier reconcile: Git may have moved meanwhile. */
  readonly continued?: boolean;
  /** Retries spent by the operation that failed. */
  readonly retryCount?: number;
  readonly retry?: RetryPolicy;
  readonly recheckAfterMs?: number;
}): RunResult {
  if (input.phase === "Running") return { kind: "requeue", afterMs: 2000 };
  if (input.phase === "Failed") {
    // Without syncPolicy.retry a failed operation is final for its revision: no retry by the queue either.
    const delay = retryAfter(input.retry, input.retryCount ?? 0);
    return delay === undefined ? DONE : { kind: "retry", afterMs: delay };
  }
  if (input.phase === "Succeeded" && input.continued) return { kind: "requeue", afterMs: 0 };
  if (input.recheckAfterMs !== undefined) return { kind: "requeue", afterMs: input.recheckAfterMs };
  return DONE;
}

/**
 * Never a mass prune from a render that came out empty, unless the app says it may be empty: the
 * refusal's message, or undefined when the sync may go on.
 */
export function emptyPruneRefusal(input: {
  readonly planned: number; readonly inventory: number; readonly decision: SyncDecision; readonly allowEmpty: boolean;
  readonly path: string; readonly revision: string;
}): string | undefined {
  if (input.planned > 0 || input.inventory === 0 || !input.decision.sync || !input.decision.prune || input.allowEmpty) return undefined;
  return `${input.path} at ${input.revision.slice(0, 7)} rendered no objects; nothing was pruned. `
    + "If the application really should be empty, set syncPolicy.automated.allowEmpty: true";
}
