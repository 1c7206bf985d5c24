// `syncPolicy.retry` as Argo CD reads it: a failed sync is tried again after duration, duration×factor,
// … capped at maxDuration, at most `limit` times (a negative limit retries forever; no policy: no retry
// of a failed sync, but an error before the sync — Git down, a render error — is still retried with the
// queue's own backoff).
import type { RetryPolicy } from "../api/types.ts";
import { parseDuration } from "../duration.ts";

const DEFAULT_DURATION_MS = 5_000;
const DEFAULT_FACTOR = 2;
const DEFAULT_MAX_MS = 180_000;

/** The delay before retry number `attempt` (1-based), or undefined when the policy allows no more. */
export function retryDelay(policy: RetryPolicy | undefined, attempt: number): number | undefined {
  if (!policy) return undefined;
  const limit = policy.limit ?? 0;
  if (limit >= 0 && attempt > limit) return undefined;
  const backoff = policy.backoff ?? {};
  const base = backoff.duration ? parseDuration(backoff.duration) : DEFAULT_DURATION_MS;
  const max = backoff.maxDuration ? parseDuration(backoff.maxDuration) : DEFAULT_MAX_MS;
  const factor = backoff.factor ?? DEFAULT_FACTOR;
  return Math.min(base * factor ** (attempt - 1), max);
}
