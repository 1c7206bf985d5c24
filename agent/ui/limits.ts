// Bounds on the UI's expensive calls: a diff fetches, renders and dry-runs; a log or event stream holds
// a connection to the API server open. Each caller gets a rate (a token bucket) and a number of calls
// at once, and all callers together a number at once, so one identity cannot starve the reconciles.
import { HttpError } from "./auth.ts";

export interface GateLimits {
  /** Calls one identity may start in a burst. */
  readonly burst: number;
  /** Calls per second one identity regains, up to `burst`. */
  readonly perSecond: number;
  /** Calls one identity may have running at once. */
  readonly perIdentity: number;
  /** Calls all identities together may have running at once. */
  readonly total: number;
}

/** A diff is a fetch, a render and a dry-run per object: a few at once, a handful a minute each. */
export const DIFF_LIMITS: GateLimits = { burst: 10, perSecond: 0.2, perIdentity: 2, total: 4 };
/** Logs and event streams hold connections: more of them, opened less freely. */
export const STREAM_LIMITS: GateLimits = { burst: 20, perSecond: 0.5, perIdentity: 8, total: 64 };

interface Bucket {
  tokens: number;
  at: number;
  running: number;
}

/** Why a call is refused, or undefined when it may start. Pure: the bucket and the totals in, a verdict out. */
export function refusal(limits: GateLimits, bucket: Readonly<Bucket>, running: number, now: number): { why: string; retryAfterS: number } | undefined {
  const tokens = Math.min(limits.burst, bucket.tokens + ((now - bucket.at) / 1000) * limits.perSecond);
  if (running >= limits.total) return { why: "the agent is serving as many of these calls as it allows at once", retryAfterS: 2 };
  if (bucket.running >= limits.perIdentity) return { why: `you have ${bucket.running} of these calls running already`, retryAfterS: 2 };
  if (tokens < 1) return { why: "too many of these calls in a short time", retryAfterS: Math.ceil((1 - tokens) / limits.perSecond) };
  return undefined;
}

/** One gate per kind of call; `run` answers 429 (HttpError) when the caller is over a limit. */
export class Gate {
  private readonly buckets = new Map<string, Bucket>();
  private running = 0;

  constructor(private readonly limits: GateLimits, private readonly now: () => number = Date.now) {}

  async run<T>(identity: string, call: () => Promise<T>): Promise<T> {
    const now = this.now();
    const bucket = this.buckets.get(identity) ?? { tokens: this.limits.burst, at: now, running: 0 };
    const refused = refusal(this.limits, bucket, this.running, now);
    if (refused) throw new TooManyRequests(refused.why, refused.retryAfterS);
    bucket.tokens = Math.min(this.limits.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limits.perSecond) - 1;
    bucket.at = now;
    bucket.running++;
    this.running++;
    this.buckets.set(identity, bucket);
    try {
      return await call();
    } finally {
      bucket.running--;
      this.running--;
      this.forgetIdle();
    }
  }

  /** Identities back at a full bucket with nothing running hold no memory. */
  private forgetIdle(): void {
    if (this.buckets.size < 1000) return;
    const now = this.now();
    for (const [who, b] of this.buckets) {
      if (b.running === 0 && b.tokens + ((now - b.at) / 1000) * this.limits.perSecond >= this.limits.burst) this.buckets.delete(who);
    }
  }
}

/** 429 with the seconds to wait. */
export class TooManyRequests extends HttpError {
  constructor(why: string, readonly retryAfterS: number) {
    super(429, `${why}; retry in ${retryAfterS}s`);
  }
}
