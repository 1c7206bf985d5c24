// A work queue keyed by Application name, as client-go's: an app queued twice runs once, an app is
// never reconciled twice at the same time (a request that arrives meanwhile runs after), at most
// `workers` run at once, and failures come back with exponential backoff.
import { errorMessage } from "../errors.ts";

export interface ItemOptions {
  /**
   * A git fetch requested at or after this time (ms) is fresh enough: the poll's start for a poll,
   * the event's time for a change, Infinity (a fetch of its own) for a refresh or webhook.
   */
  readonly freshAfter?: number;
}

/** Runs one item; returns -1 to be retried with backoff, or a delay in ms to run again after it. */
export type Runner = (name: string, opts: ItemOptions) => Promise<number | undefined>;

export interface WorkQueueOptions {
  readonly workers: number;
  readonly run: Runner;
  readonly log: (line: string) => void;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

export class WorkQueue {
  private readonly pending = new Map<string, ItemOptions>();
  private readonly running = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly idle = new Set<() => void>();
  private closed = false;

  constructor(private readonly opts: WorkQueueOptions) {}

  add(name: string, item: ItemOptions = {}): void {
    if (!name || this.closed) return;
    const merged = { freshAfter: Math.max(this.pending.get(name)?.freshAfter ?? 0, item.freshAfter ?? 0) };
    this.pending.set(name, merged);
    this.pump();
  }

  /** Stops taking work and resolves once running reconciles finished. */
  async drain(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.pending.clear();
    if (this.running.size === 0) return;
    await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  private pump(): void {
    for (const [name, item] of this.pending) {
      if (this.running.size >= this.opts.workers) return;
      if (this.running.has(name)) continue;
      this.pending.delete(name);
      this.running.add(name);
      void this.runOne(name, item);
    }
  }

  private async runOne(name: string, item: ItemOptions): Promise<void> {
    let next: number | undefined;
    try {
      next = await this.opts.run(name, item);
    } catch (err) {
      this.opts.log(`${name}: reconcile failed: ${errorMessage(err)}`);
      next = -1;
    }
    this.running.delete(name);
    if (next === -1) {
      this.backoff(name);
    } else {
      this.failures.delete(name);
      if (next !== undefined) this.later(name, next);
    }
    if (this.running.size === 0) for (const resolve of this.idle) resolve();
    this.pump();
  }

  private backoff(name: string): void {
    const n = (this.failures.get(name) ?? 0) + 1;
    this.failures.set(name, n);
    this.later(name, Math.min((this.opts.baseDelayMs ?? 1000) * 2 ** (n - 1), this.opts.maxDelayMs ?? 300_000));
  }

  private later(name: string, delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timers.get(name));
    this.timers.set(name, setTimeout(() => { this.timers.delete(name); this.add(name); }, delayMs));
  }
}
