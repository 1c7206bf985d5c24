// A work queue keyed by Application name, as client-go's: an app queued twice runs once, an app is
// never reconciled twice at the same time (a request that arrives meanwhile runs after), at most
// `workers` run at once, and failures come back with exponential backoff.
import { errorMessage } from "../errors.ts";

/**
 * How fresh the Git data of a reconcile must be. `fresh`: a fetch of its own (refresh, webhook);
 * `shared`: any fetch started at or after `since` will do (the poll's start, the time of a change);
 * `cached`: what the mirror holds (drift or a child's health changed, Git did not).
 * `push`: a forge's push event queued it: its refs `moved` (the fetch need not ask whether they did),
 * and when the push listed its files, whether one `touched` the app's paths (the render is not kept).
 */
export type Freshness =
  | { readonly kind: "fresh" }
  | { readonly kind: "shared"; readonly since: number; readonly push?: "moved" | "touched" }
  | { readonly kind: "cached" };

/** What a reconcile asks of the queue. */
export type RunResult =
  | { readonly kind: "done" }
  /** Failed: again after `afterMs`, or after the queue's growing backoff when absent. */
  | { readonly kind: "retry"; readonly afterMs?: number }
  /** Not finished (a wave not yet healthy): again after `afterMs`, without counting as a failure. */
  | { readonly kind: "requeue"; readonly afterMs: number };

export const DONE: RunResult = { kind: "done" };
export const CACHED: Freshness = { kind: "cached" };

/** The stronger of two freshness requests: a fresh fetch wins, then the later shared fetch. */
export function fresher(a: Freshness, b: Freshness): Freshness {
  if (a.kind === "fresh" || b.kind === "fresh") return { kind: "fresh" };
  if (a.kind === "shared" && b.kind === "shared") {
    const [later, other] = a.since >= b.since ? [a, b] : [b, a];
    // What a push said stays true of a later fetch: it only spares work that would find the same.
    const push = later.push === "touched" || other.push === "touched" ? "touched" : later.push ?? other.push;
    return push === later.push ? later : { ...later, ...(push ? { push } : {}) };
  }
  return a.kind === "shared" ? a : b;
}

export type Runner = (name: string, freshness: Freshness) => Promise<RunResult>;

export interface WorkQueueOptions {
  readonly workers: number;
  readonly run: Runner;
  readonly log: (line: string) => void;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /**
   * The longest urgent reconciles hold the backlog in a row (default 5 s): then the backlog goes first
   * for the next free worker, so a slow urgent app or a stream of pushes cannot starve the poll's apps.
   */
  readonly urgentHoldMs?: number;
}

const URGENT_HOLD_MS = 5_000;

export class WorkQueue {
  private readonly pending = new Map<string, Freshness>();
  /**
   * Pending apps someone is waiting for (a webhook, a refresh): they run before the poll's backlog, so
   * a commit is applied in seconds however many apps the poll queued.
   */
  private readonly urgent = new Set<string>();
  private readonly running = new Set<string>();
  /** The running reconciles that were urgent. */
  private readonly urgentRunning = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly idle = new Set<() => void>();
  /** Since when urgent reconciles have held the backlog without it starting anything, and the timer that ends the hold. */
  private heldSince: number | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  /** Callers waiting until some apps have run (`ran`), each with the names still to run. */
  private readonly waiters = new Set<{ readonly names: Set<string>; readonly resolve: () => void }>();
  private closed = false;

  constructor(private readonly opts: WorkQueueOptions) {}

  /** Whether a reconcile of an app that `which` names is running now. */
  isRunning(which: (name: string) => boolean): boolean {
    return [...this.running].some(which);
  }

  /** Items waiting to run (not those running or waiting for a timer): the queue-depth metric. */
  get depth(): number {
    return this.pending.size;
  }

  /** Queues `name`; an `urgent` request (a webhook, a refresh) runs before the poll's backlog. */
  add(name: string, freshness: Freshness = CACHED, urgent = false): void {
    if (!name || this.closed) return;
    const queued = this.pending.get(name);
    const next = queued ? fresher(queued, freshness) : freshness;
    this.pending.set(name, next);
    if (urgent || next.kind === "fresh") this.urgent.add(name);
    this.pump();
  }

  /**
   * Resolves once each of `names` that is queued or running now has run and is not queued again (an
   * app queued while it runs counts with its next run). What a webhook waits for before it queues the
   * apps its push did not touch: they must not take the workers from the ones it did.
   */
  ran(names: readonly string[]): Promise<void> {
    const waiting = new Set(names.filter((n) => this.pending.has(n) || this.running.has(n)));
    if (waiting.size === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add({ names: waiting, resolve }));
  }

  /** Stops taking work and resolves once running reconciles finished. */
  async drain(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    clearTimeout(this.holdTimer);
    this.pending.clear();
    this.urgent.clear();
    for (const w of this.waiters) w.resolve();
    this.waiters.clear();
    if (this.running.size === 0) return;
    await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  /**
   * Starts what the workers can take, urgent requests first. While one runs, nothing else starts: the
   * app a push touched has the agent (and the API server) to itself for the second it takes, instead of
   * sharing them with the poll's backlog or the apps a previous push only moved to a new revision.
   */
  private pump(): void {
    // Held too long (urgentHoldMs): the backlog takes the free workers first, then urgent requests.
    if (this.heldTooLong()) this.startBacklog();
    // Iterated in place (a Set or Map skips what is deleted meanwhile): a copy of 10,000 pending names per call was seconds of CPU.
    for (const name of this.urgent) if (!this.start(name, true)) break;
    if (this.urgentRunning.size > 0) return this.hold();
    this.heldSince = undefined;
    this.startBacklog();
  }

  /** Whether urgent runs have held the backlog for {@link WorkQueueOptions.urgentHoldMs} in a row. */
  private heldTooLong(): boolean {
    return this.heldSince !== undefined && Date.now() - this.heldSince >= (this.opts.urgentHoldMs ?? URGENT_HOLD_MS);
  }

  private startBacklog(): void {
    for (const name of this.pending.keys()) {
      if (this.urgent.has(name)) continue;
      if (!this.start(name, false)) return;
      this.heldSince = undefined;
    }
  }

  /** Urgent reconciles run and the backlog waits: at most urgentHoldMs in a row, then pump lets it go first. */
  private hold(): void {
    if (this.pending.size === this.urgent.size) {
      this.heldSince = undefined;
      return;
    }
    this.heldSince ??= Date.now();
    if (this.holdTimer !== undefined) return;
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.pump();
    }, this.heldSince + (this.opts.urgentHoldMs ?? URGENT_HOLD_MS) - Date.now());
  }

  /** Starts `name` unless it runs already; false when the workers are all busy. */
  private start(name: string, urgent: boolean): boolean {
    // Urgent runs (someone waits: the apps of a push) may take as many workers again beyond the
    // backlog's, so they start at once even while the poll's backlog holds every worker and wait for
    // nothing but the CPU; not once they held the backlog too long, so it gets its turn.
    const limit = urgent && !this.heldTooLong() ? 2 * this.opts.workers : this.opts.workers;
    if (this.running.size >= limit) return false;
    const freshness = this.pending.get(name);
    if (freshness === undefined || this.running.has(name)) return true;
    this.pending.delete(name);
    this.urgent.delete(name);
    this.running.add(name);
    if (urgent) this.urgentRunning.add(name);
    void this.runOne(name, freshness);
    return true;
  }

  private async runOne(name: string, freshness: Freshness): Promise<void> {
    let result: RunResult;
    try {
      result = await this.opts.run(name, freshness);
    } catch (err) {
      this.opts.log(`${name}: reconcile failed: ${errorMessage(err)}`);
      result = { kind: "retry" };
    }
    this.running.delete(name);
    this.urgentRunning.delete(name);
    this.settle(name, result);
    this.finished(name);
    if (this.running.size === 0) for (const resolve of this.idle) resolve();
    this.pump();
  }

  /** Tells the callers of `ran` that `name` ran, unless it is queued again (then its next run counts). */
  private finished(name: string): void {
    if (this.pending.has(name)) return;
    for (const w of this.waiters) {
      w.names.delete(name);
      if (w.names.size > 0) continue;
      this.waiters.delete(w);
      w.resolve();
    }
  }

  private settle(name: string, result: RunResult): void {
    if (result.kind === "retry") {
      const n = (this.failures.get(name) ?? 0) + 1;
      this.failures.set(name, n);
      this.later(name, result.afterMs ?? Math.min((this.opts.baseDelayMs ?? 1000) * 2 ** (n - 1), this.opts.maxDelayMs ?? 300_000));
      return;
    }
    this.failures.delete(name);
    if (result.kind === "requeue") this.later(name, result.afterMs);
  }

  private later(name: string, delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timers.get(name));
    this.timers.set(name, setTimeout(() => { this.timers.delete(name); this.add(name); }, delayMs));
  }
}
