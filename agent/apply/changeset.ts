import type { ObjectRef } from "../api/types.ts";
import { displayRef } from "./inventory.ts";

export type Action = "created" | "configured" | "unchanged" | "deleted" | "skipped" | "failed";

/** What one sync did to one object. One change set feeds logs, events, status and CLI output. */
export interface Change {
  readonly ref: ObjectRef;
  readonly action: Action;
  /** Why it was skipped or failed, for a person. */
  readonly message?: string;
}

/** The most objects {@link summarize} names; the rest are counted (the message is kept in the status: etcd's limit). */
const SUMMARY_NAMES = 20;

/**
 * `created Deployment/web/api, deleted ConfigMap/web/old`: the line logs, events and the operation's
 * message carry. Failures are named first; past {@link SUMMARY_NAMES} objects the rest are counted.
 */
export function summarize(changes: readonly Change[]): string {
  const moved = changes.filter((c) => c.action !== "unchanged");
  if (moved.length === 0) return "no changes";
  const ordered = moved.length <= SUMMARY_NAMES ? moved : [...moved.filter((c) => c.action === "failed"), ...moved.filter((c) => c.action !== "failed")];
  const named = ordered.slice(0, SUMMARY_NAMES).map((c) => `${c.action} ${displayRef(c.ref)}${c.message ? ` (${c.message})` : ""}`);
  const rest = ordered.slice(SUMMARY_NAMES);
  if (rest.length === 0) return named.join(", ");
  const byAction = [...new Set(rest.map((c) => c.action))].map((a) => `${count(rest, a)} ${a}`).join(", ");
  return `${named.join(", ")}, and ${rest.length} more (${byAction})`;
}

export function count(changes: readonly Change[], action: Action): number {
  return changes.filter((c) => c.action === action).length;
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
