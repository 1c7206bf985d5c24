// What a reconcile does with what it compared: sync or not, prune or not, and why. Pure, so each
// policy combination is a table row (decide.test.ts).
import type { Application } from "../api/types.ts";

export interface DecisionInput {
  readonly syncPolicy: Application["spec"]["syncPolicy"];
  readonly operation: NonNullable<Application["operation"]>["sync"];
  /** Something differs: an object to apply, or a stale object still live. */
  readonly outOfSync: boolean;
  /** Git (commit or render inputs) changed since the last completed sync. */
  readonly newDesired: boolean;
  /** The last automated sync of this revision failed and `syncPolicy.retry` allows no more attempts. */
  readonly retriesExhausted?: boolean;
  /**
   * The last sync of this revision failed in a hook and no `syncPolicy.retry` asks for another try:
   * automated sync does not run the hooks again for the same commit, as Argo CD does not.
   */
  readonly hookFailed?: string;
  /** `tether app suspend`: automation off until resumed; a requested sync still runs. */
  readonly suspended?: boolean;
}

export interface SyncDecision {
  readonly sync: boolean;
  readonly prune: boolean;
  /** Why, for the log line every reconcile writes (a no-op included). */
  readonly why: string;
}

/**
 * A requested operation syncs (unless a dry run). Automated sync takes every new commit, even one
 * that changes nothing live, so history and observedRenderKey follow Git; drift under an unchanged
 * commit is reverted only with selfHeal. Prune follows the operation's flag, else the policy's.
 */
export function decide(input: DecisionInput): SyncDecision {
  const auto = input.syncPolicy?.automated;
  const prune = input.operation ? input.operation.prune === true : auto?.prune === true;
  if (input.operation && input.operation.dryRun !== true) return { sync: true, prune, why: "sync requested" };
  if (auto && input.suspended) {
    return { sync: false, prune, why: input.outOfSync ? "out of sync; the application is suspended (tether app resume turns automation back on)" : "in sync; suspended" };
  }
  if (!auto) {
    if (input.operation) return { sync: false, prune, why: "sync requested as a dry run: nothing applied" };
    return { sync: false, prune, why: input.outOfSync ? "out of sync; automated sync is off, waiting for a sync request" : "in sync" };
  }
  if (input.retriesExhausted) return { sync: false, prune, why: "the sync of this revision failed and syncPolicy.retry allows no more attempts; push a fix or sync by hand" };
  if (input.hookFailed) return { sync: false, prune, why: `the last sync of this revision failed: ${input.hookFailed}; push a fix or sync by hand` };
  if (input.newDesired) return { sync: true, prune, why: "new revision or render inputs" };
  if (!input.outOfSync) return { sync: false, prune, why: "in sync" };
  return auto.selfHeal === true
    ? { sync: true, prune, why: "drift from Git; selfHeal reverts it" }
    : { sync: false, prune, why: "drift from Git; selfHeal is off, so it stays until the next commit or sync" };
}
