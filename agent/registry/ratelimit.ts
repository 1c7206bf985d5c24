// At most N requests a second to one registry, however many images and apps ask: registries throttle
// (Docker Hub by the hour) and a burst of polls must not spend a whole quota at once.

/** Spaces requests to each registry host evenly; one instance is shared by every client of the agent. */
export class RateLimiter {
  private readonly intervalMs: number;
  private readonly next = new Map<string, number>();
  private readonly now: () => number;

  /** `perSecond` ≤ 0 disables the limit. `now` is the clock (tests pass their own). */
  constructor(perSecond: number, now: () => number = Date.now) {
    this.intervalMs = perSecond > 0 ? 1000 / perSecond : 0;
    this.now = now;
  }

  /** How long the caller must wait before its request to `host`; reserves that slot. */
  reserve(host: string): number {
    if (this.intervalMs === 0) return 0;
    const now = this.now();
    const slot = Math.max(now, this.next.get(host) ?? 0);
    this.next.set(host, slot + this.intervalMs);
    return slot - now;
  }

  /** Waits for a slot to `host`. */
  async wait(host: string): Promise<void> {
    const delay = this.reserve(host);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
