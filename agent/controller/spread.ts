// A poll round's apps spread over a window instead of queued at once (Argo CD's
// timeout.reconciliation.jitter): a round over many apps is a burst of compares and status writes
// that competes with a push arriving then, for the agent, the API server and the user's own `git push`
// on the same machine. Each app keeps one phase within the window (a hash of its name), so it is
// still polled once per interval, and the round's apps still share the round's one fetch.
import { createHash } from "node:crypto";

/** The app's offset within a window of `windowMs`: stable across rounds and replicas. */
export function phaseOf(app: string, windowMs: number): number {
  if (windowMs <= 0) return 0;
  // Salted, so the phase is not the shard (agent/leader/assign.ts hashes the bare name).
  return createHash("sha256").update(`poll:${app}`).digest().readUInt32BE(0) % windowMs;
}

/**
 * Calls `release` with the names whose phase has come, every `tickMs` over `windowMs` (the first batch
 * at once); returns a function that drops what is not yet released (the agent stops).
 */
export function spread(names: readonly string[], windowMs: number, release: (batch: readonly string[]) => void, tickMs = 100): () => void {
  const due = names.map((name) => ({ name, at: phaseOf(name, windowMs) })).sort((a, b) => a.at - b.at);
  const started = Date.now();
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const now = Date.now() - started;
    const batch: string[] = [];
    while (next < due.length && due[next]!.at <= now) batch.push(due[next++]!.name);
    if (batch.length > 0) release(batch);
    timer = next < due.length ? setTimeout(tick, Math.max(tickMs, due[next]!.at - now)) : undefined;
  };
  tick();
  return () => clearTimeout(timer);
}
