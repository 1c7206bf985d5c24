// Leader election over a Lease, as client-go runs it: candidates try every retry period; the leader
// renews every retry period and, when it could not renew for the renew deadline, stops leading (the
// agent then exits, so it never reconciles without the lease); a graceful stop releases the lease so
// a standby takes over at its next try instead of after the lease duration.
import { errorMessage } from "../errors.ts";
import { decide, mayWrite, type LeaseRecord } from "./decide.ts";
import type { LeaseStore, LeaseWrite } from "./lease.ts";

export interface ElectionTiming {
  /** How long a standby waits, from when it last saw the Lease change, before taking it over. */
  readonly leaseDurationMs: number;
  /** How long the leader keeps leading without a successful renewal. Shorter than the lease duration. */
  readonly renewDeadlineMs: number;
  /** How often candidates try and the leader renews. */
  readonly retryPeriodMs: number;
}

/** client-go's defaults, which kube-controller-manager uses. */
export const DEFAULT_TIMING: ElectionTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export interface ElectorOptions {
  readonly store: LeaseStore;
  readonly identity: string;
  readonly timing: ElectionTiming;
  readonly log: (line: string) => void;
}

export interface Callbacks {
  /** Runs once, when this candidate first holds the lease; the controller starts here. */
  readonly onStartedLeading: () => Promise<void>;
  /** Runs once, when the leader could not renew within the renew deadline. */
  readonly onStoppedLeading: () => void;
}

/** Checks the timing the way client-go does, with the flag to change. */
export function checkTiming(t: ElectionTiming): void {
  if (t.retryPeriodMs <= 0) throw new Error("--leader-elect-retry-period must be positive");
  if (t.renewDeadlineMs <= t.retryPeriodMs) throw new Error("--leader-elect-renew-deadline must be longer than --leader-elect-retry-period");
  if (t.leaseDurationMs <= t.renewDeadlineMs) throw new Error("--leader-elect-lease-duration must be longer than --leader-elect-renew-deadline");
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRenewMs = 0;
  /** The record as last read and when it was first seen so: the standby's own clock for expiry. */
  private observed: { record: LeaseRecord | undefined; atMs: number } = { record: undefined, atMs: 0 };

  constructor(private readonly opts: ElectorOptions) {
    checkTiming(opts.timing);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Whether the leader may still write: leading, and its last renewal sent within the renew deadline (decide.ts#mayWrite). */
  get mayWrite(): boolean {
    return this.leading && mayWrite(this.lastRenewMs, Date.now(), this.opts.timing.renewDeadlineMs);
  }

  /** Starts campaigning in the background; returns at once. */
  run(callbacks: Callbacks): void {
    this.opts.log(`leader election: ${this.opts.identity} is a candidate for ${this.opts.store.description}`);
    const tick = async () => {
      if (this.stopped) return;
      const was = this.leading;
      const sentAt = Date.now();
      const held = await this.tryAcquireOrRenew();
      if (this.stopped) return;
      if (held) this.lastRenewMs = sentAt;
      if (held && !was) {
        this.leading = true;
        this.opts.log(`leader election: ${this.opts.identity} leads (${this.opts.store.description})`);
        try {
          await callbacks.onStartedLeading();
        } catch (err) {
          this.opts.log(`leader election: starting to lead failed: ${errorMessage(err)}`);
          this.stopped = true;
          callbacks.onStoppedLeading();
          return;
        }
      } else if (was && !held && Date.now() - this.lastRenewMs >= this.opts.timing.renewDeadlineMs) {
        this.leading = false;
        this.stopped = true;
        this.opts.log(`leader election: ${this.opts.identity} could not renew ${this.opts.store.description} `
          + `for ${this.opts.timing.renewDeadlineMs / 1000}s and stops leading`);
        callbacks.onStoppedLeading();
        return;
      }
      // Jitter keeps candidates that started together from colliding on every try.
      const jitter = this.leading ? 0 : Math.random() * this.opts.timing.retryPeriodMs * 0.2;
      this.timer = setTimeout(() => void tick(), this.opts.timing.retryPeriodMs + jitter);
    };
    void tick();
  }

  /** One round: whether this candidate holds the lease afterwards. Errors count as "not held". */
  async tryAcquireOrRenew(): Promise<boolean> {
    try {
      const record = await this.withDeadline(this.opts.store.get());
      const now = Date.now();
      if (record?.resourceVersion !== this.observed.record?.resourceVersion) this.observed = { record, atMs: now };
      const decision = decide(record, this.opts.identity, this.observed.atMs, now);
      const write = (acquired: boolean, transitions: number): LeaseWrite => ({
        holder: this.opts.identity, leaseDurationSeconds: Math.ceil(this.opts.timing.leaseDurationMs / 1000), transitions, acquired,
        ...(record?.acquireTime ? { acquireTime: record.acquireTime } : {}),
      });
      switch (decision.kind) {
        case "create":
          return await this.withDeadline(this.opts.store.create(write(true, 0)));
        case "renew":
          return await this.withDeadline(this.opts.store.replace(record!.resourceVersion, write(false, record!.transitions)));
        case "take":
          this.opts.log(`leader election: the lease of ${record!.holder || "nobody"} ${decision.why === "released" ? "was released" : "expired"}; taking it over`);
          return await this.withDeadline(this.opts.store.replace(record!.resourceVersion, write(true, decision.transitions)));
        case "wait":
          return false;
      }
    } catch (err) {
      this.opts.log(`leader election: ${this.opts.store.description}: ${errorMessage(err)}`);
      return false;
    }
  }

  /**
   * Stops campaigning, waits for `drain` (the running reconciles), and then, when leading, hands the
   * lease back (empty holder) so a standby takes over at its next try, never while this one applies.
   */
  async release(drain: () => Promise<void>): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await drain();
    if (!this.leading) return;
    this.leading = false;
    try {
      const record = await this.withDeadline(this.opts.store.get());
      if (record?.holder !== this.opts.identity) return;
      const released = await this.withDeadline(this.opts.store.replace(record.resourceVersion,
        { holder: "", leaseDurationSeconds: 1, transitions: record.transitions, acquired: false }));
      this.opts.log(released ? `leader election: ${this.opts.identity} released ${this.opts.store.description}`
        : `leader election: ${this.opts.store.description} changed while releasing it; a standby takes over when it expires`);
    } catch (err) {
      this.opts.log(`leader election: could not release ${this.opts.store.description} (${errorMessage(err)}); a standby takes over when it expires`);
    }
  }

  /** A request that hangs must not keep a leader leading past its renew deadline. */
  private async withDeadline<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the API server in ${this.opts.timing.retryPeriodMs * 2 / 1000}s`)),
        this.opts.timing.retryPeriodMs * 2);
    });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}
