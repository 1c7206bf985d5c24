// The notifications' own queue: sends run here, never in a reconcile. Each delivery is tried with a
// deadline, and again after a backoff (1s, 2s, 4s, ... up to a minute) until it is sent or its attempts
// are spent; a PermanentError is not tried again. Nothing here logs a service's options or a URL.
import { errorMessage } from "../errors.ts";
import type { LogFn } from "../log.ts";
import type { Notification } from "./render.ts";
import { PermanentError, type Sender } from "./services/index.ts";
import type { Destination } from "./subscriptions.ts";

export interface DeliveryJob {
  /** The app and trigger, for log lines. */
  readonly app: string;
  readonly trigger: string;
  readonly destination: Destination;
  readonly notification: Notification;
  readonly send: Sender;
  /** Called once: true when sent, false when given up. */
  readonly done: (sent: boolean) => void;
}

export interface DeliveryOptions {
  readonly log: LogFn;
  /** Sends at once; default 4. */
  readonly concurrency?: number;
  /** Attempts per notification; default 8 (about four minutes of backoff). */
  readonly maxAttempts?: number;
  /** First backoff; doubled per attempt up to `maxBackoffMs` (default 1s and 60s). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Deadline of one attempt; default 30s. */
  readonly timeoutMs?: number;
}

/** How long to wait before attempt `attempt` (2, 3, ...): doubling from `base`, at most `max`. */
export function retryDelay(attempt: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.max(0, attempt - 2));
}

export class DeliveryQueue {
  private readonly waiting: Array<{ job: DeliveryJob; attempt: number }> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly controllers = new Set<AbortController>();
  private running = 0;
  private stopped = false;
  private idle: Array<() => void> = [];

  constructor(private readonly opts: DeliveryOptions) {}

  add(job: DeliveryJob): void {
    if (this.stopped) return;
    this.waiting.push({ job, attempt: 1 });
    this.pump();
  }

  /** Sends in flight and waiting, retries included. */
  get pending(): number {
    return this.waiting.length + this.running + this.timers.size;
  }

  /** Resolves when nothing is pending (tests, `tether notifications test`). */
  drained(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Drops what waits and aborts what runs: a notification not sent by then is not sent (at most once). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.controllers) c.abort(new Error("the agent is stopping"));
    this.waiting.length = 0;
  }

  private pump(): void {
    while (!this.stopped && this.running < (this.opts.concurrency ?? 4)) {
      const next = this.waiting.shift();
      if (next === undefined) break;
      this.running++;
      void this.attempt(next.job, next.attempt).finally(() => {
        this.running--;
        this.pump();
        if (this.pending === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async attempt(job: DeliveryJob, attempt: number): Promise<void> {
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${(this.opts.timeoutMs ?? 30_000) / 1000}s`)), this.opts.timeoutMs ?? 30_000);
    const what = `${job.app}: notification ${job.trigger} to ${job.destination.service}${job.destination.recipient ? `:${job.destination.recipient}` : ""}`;
    try {
      await job.send(job.notification, job.destination, controller.signal);
      this.opts.log(`${what} sent${attempt > 1 ? ` (attempt ${attempt})` : ""}`, { app: job.app });
      job.done(true);
    } catch (err) {
      const why = controller.signal.aborted && !(err instanceof PermanentError) ? errorMessage(controller.signal.reason) : errorMessage(err);
      const max = this.opts.maxAttempts ?? 8;
      if (err instanceof PermanentError || attempt >= max || this.stopped) {
        this.opts.log(`${what} failed: ${why}; ${err instanceof PermanentError ? "not retried" : `gave up after ${attempt} attempts`}`, { app: job.app });
        job.done(false);
        return;
      }
      const delay = retryDelay(attempt + 1, this.opts.backoffMs ?? 1000, this.opts.maxBackoffMs ?? 60_000);
      this.opts.log(`${what} failed (attempt ${attempt} of ${max}): ${why}; retrying in ${delay / 1000}s`, { app: job.app });
      const retry = setTimeout(() => {
        this.timers.delete(retry);
        this.waiting.push({ job, attempt: attempt + 1 });
        this.pump();
      }, delay);
      this.timers.add(retry);
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }
}
