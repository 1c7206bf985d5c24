// One place maps a typed error to what a person sees: the condition on the Application, the Event
// and the log line.
import type { Condition } from "../api/types.ts";
import { TetherError, errorMessage, type Reason } from "../errors.ts";

export interface Reported {
  readonly reason: Reason | "Unknown";
  readonly message: string;
  readonly retryable: boolean;
  /** The foreign error underneath, for the log (never for status or events). */
  readonly cause?: unknown;
}

/** Any thrown value as a reason and a message (an unknown error is retried: it may be transient). */
export function report(err: unknown): Reported {
  if (err instanceof TetherError) return { reason: err.reason, message: err.message, retryable: err.retryable, ...(err.cause === undefined ? {} : { cause: err.cause }) };
  return { reason: "Unknown", message: errorMessage(err), retryable: true };
}

/** The condition for an error; `type` is the reason, as Argo CD names its error conditions. */
export function conditionOf(r: Reported, now: string): Condition {
  return { type: r.reason === "Unknown" ? "ReconcileError" : r.reason, message: r.message, lastTransitionTime: now };
}

/** The Event for an error: a Warning with the reason and message. */
export function eventOf(r: Reported): { type: "Warning"; reason: string; message: string } {
  return { type: "Warning", reason: r.reason, message: r.message };
}

/** The log line for an error. */
export function logLineOf(app: string, r: Reported): string {
  return `${app}: ${r.reason}: ${r.message}${r.retryable ? " (will retry)" : ""}`;
}

/**
 * Condition types written by other loops than the reconcile (agent/imageupdater): the reconcile's
 * status keeps them as they are, and only their own writer changes or removes them.
 */
export const FOREIGN_CONDITION_TYPES: ReadonlySet<string> = new Set(["ImageUpdateError", "ImageUpdateWarning"]);

/**
 * New conditions, keeping the previous transition time of a condition that did not change, so an
 * unchanged state writes an unchanged status (and so no write at all). Conditions of
 * {@link FOREIGN_CONDITION_TYPES} are carried over untouched.
 */
export function mergeConditions(previous: readonly Condition[] | undefined, next: readonly Condition[]): Condition[] {
  const merged = next.map((c) => {
    const same = previous?.find((p) => p.type === c.type && p.message === c.message);
    return same ? { ...c, lastTransitionTime: same.lastTransitionTime } : c;
  });
  const foreign = (previous ?? []).filter((p) => FOREIGN_CONDITION_TYPES.has(p.type) && !next.some((n) => n.type === p.type));
  return [...merged, ...foreign];
}
