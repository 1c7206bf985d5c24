// What was already sent, as Argo CD keeps it: annotation `notified.notifications.argoproj.io` on the
// object, a JSON map from `[oncePer:]trigger:conditionKey:service:recipient` to the Unix time it was sent.
// A key with a oncePer value stays (so a revision is announced once, across restarts); a key without one
// goes when its condition stops holding (so the next time it holds is announced again). Pure.
import type { Destination } from "./subscriptions.ts";

export type NotifiedState = Readonly<Record<string, number>>;

/** Argo CD keeps at most this many keys, dropping the oldest. */
export const STATE_MAX_KEYS = 100;

export interface ConditionOutcome {
  readonly key: string;
  /** The oncePer value as Go's `%v` prints it ("" when the trigger has none). */
  readonly oncePer: string;
  readonly triggered: boolean;
}

export function stateKey(trigger: string, outcome: ConditionOutcome, dest: Destination): string {
  const key = `${trigger}:${outcome.key}:${dest.service}:${dest.recipient}`;
  return outcome.oncePer === "" ? key : `${outcome.oncePer}:${key}`;
}

/** The state the annotation holds; anything unreadable is the empty state, as in Argo CD. */
export function readState(annotation: string | undefined): Record<string, number> {
  if (annotation === undefined || annotation === "") return {};
  try {
    const v: unknown = JSON.parse(annotation);
    if (v === null || typeof v !== "object" || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === "number"));
  } catch {
    return {};
  }
}

/** The newest `STATE_MAX_KEYS` keys, as the annotation's text; undefined when empty (the annotation goes). */
export function writeState(state: NotifiedState): string | undefined {
  const keys = Object.keys(state).sort((a, b) => (state[b] ?? 0) - (state[a] ?? 0)).slice(0, STATE_MAX_KEYS);
  if (keys.length === 0) return undefined;
  return JSON.stringify(Object.fromEntries(keys.sort().map((k) => [k, state[k]])));
}
