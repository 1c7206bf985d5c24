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

/** `created Deployment/web/api, deleted ConfigMap/web/old`: the line logs and events carry. */
export function summarize(changes: readonly Change[]): string {
  const moved = changes.filter((c) => c.action !== "unchanged");
  if (moved.length === 0) return "no changes";
  return moved.map((c) => `${c.action} ${displayRef(c.ref)}${c.message ? ` (${c.message})` : ""}`).join(", ");
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
