// Writes a reconcile does not wait for (Events: best effort, nothing reads them back), with a bound on
// how many are in flight: a worker goes on to the next app at once, and waits only when the API server
// falls that far behind, so the backlog (and memory) stays bounded.

export class Background {
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly limit: number) {}

  /** Starts `task`; resolves once it started (at once unless `limit` tasks are in flight). Its errors are the task's to handle. */
  async run(task: () => Promise<void>): Promise<void> {
    while (this.inflight.size >= this.limit) await Promise.race(this.inflight);
    const running = task().catch(() => undefined).finally(() => this.inflight.delete(running));
    this.inflight.add(running);
  }

  /** Tasks in flight now. */
  get size(): number {
    return this.inflight.size;
  }

  /** Resolves once every task started so far finished. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all(this.inflight);
  }
}
