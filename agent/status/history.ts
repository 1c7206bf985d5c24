import type { ApplicationStatus } from "../api/types.ts";

type History = NonNullable<ApplicationStatus["history"]>;

/** Appends a deployment of `revision` and keeps the newest `limit` entries (Argo CD's revisionHistoryLimit). */
export function nextHistory(history: History | undefined, entry: Omit<History[number], "id">, limit = 10): History {
  const previous = history ?? [];
  const id = previous.reduce((max, h) => Math.max(max, h.id), -1) + 1;
  return [...previous, { id, ...entry }].slice(-Math.max(limit, 1));
}
