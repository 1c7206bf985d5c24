// `tether agent --shards N`: several replicas share the Applications. Every app belongs to one of N
// shards (a stable hash of its name, assign.ts); each shard is held through a coordination.k8s.io
// Lease, so Kubernetes decides who reconciles what, as Argo CD's controller sharding does. Each
// replica also renews a member Lease, so every replica sees the same live replicas and deals the
// shards the same way (assignShards). A replica gives a shard back only after its running reconciles
// of that shard finished; a dead replica's member and shard Leases stop being renewed, and after the
// lease duration the survivors take its shards over.
import { createHash, randomBytes } from "node:crypto";
import os from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeHttp } from "../apply/http.ts";
import { errorMessage } from "../errors.ts";
import { assignShards, shardOf } from "./assign.ts";
import { decide, mayWrite, type LeaseRecord } from "./decide.ts";
import { checkTiming, type ElectionTiming } from "./elector.ts";
import { KubeLeaseStore, listLeases, type LeaseWrite } from "./lease.ts";

/** The label every Lease of one sharded deployment carries, with the shard count as its value. */
export const SHARDS_LABEL = "tether.dev/shards";
const ROLE_LABEL = "tether.dev/lease-role";

export interface ShardingOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly shards: number;
  readonly timing: ElectionTiming;
  readonly log: (line: string) => void;
  /** Unique per process; by default the host name and a random suffix, as leader election's. */
  readonly identity?: string;
  /** Told the shards this replica now holds (it queues their apps); never awaited by the renewal loop. */
  readonly onChange: (held: ReadonlySet<number>) => void;
  /**
   * Resolves once no reconcile of an app of `shard` runs any more: its Lease is handed back only then
   * (or after the lease duration at the latest; those reconciles can no longer write anyway).
   */
  readonly drained: (shard: (app: string) => boolean) => Promise<void>;
}

export interface Sharding {
  readonly identity: string;
  /**
   * Whether this replica may reconcile and write for `app` now: its shard is held and was renewed
   * within the renew deadline. Every writer asks right before writing (the fencing check).
   */
  owns(app: string): boolean;
  /** Stops, waits for `drain` (the running reconciles), then hands every Lease back. */
  release(drain: () => Promise<void>): Promise<void>;
}

/** Starts taking part; returns at once. The first shards are held after the first round (one request round trip). */
export function shard(opts: ShardingOptions): Sharding {
  checkTiming(opts.timing);
  const coordinator = new ShardCoordinator(opts);
  coordinator.run();
  return {
    identity: coordinator.identity,
    owns: (app) => coordinator.mayWrite(shardOf(app, opts.shards)),
    release: (drain) => coordinator.release(drain),
  };
}

class ShardCoordinator {
  readonly identity: string;
  held: ReadonlySet<number> = new Set();
  private readonly http: KubeHttp;
  private readonly labels: Record<string, string>;
  private readonly member: KubeLeaseStore;
  private readonly stores: KubeLeaseStore[];
  /** When each Lease was last seen to change (its resourceVersion), on this process's clock: expiry is measured from there. */
  private readonly observed = new Map<string, { resourceVersion: string; atMs: number }>();
  /** When the last successful renewal of each shard was sent: what {@link mayWrite} counts from. */
  private readonly renewedAt = new Map<number, number>();
  /** Shards dealt elsewhere whose reconciles are finishing: still renewed, never written for, then given back. */
  private readonly draining = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private round: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ShardingOptions) {
    this.identity = opts.identity ?? `${os.hostname()}_${randomBytes(4).toString("hex")}`;
    this.http = new KubeHttp(opts.kc);
    this.labels = { [SHARDS_LABEL]: String(opts.shards) };
    const memberName = `tether-agent-member-${createHash("sha256").update(this.identity).digest("hex").slice(0, 12)}`;
    this.member = new KubeLeaseStore(opts.kc, opts.namespace, memberName, { ...this.labels, [ROLE_LABEL]: "member" });
    this.stores = Array.from({ length: opts.shards }, (_, i) =>
      new KubeLeaseStore(opts.kc, opts.namespace, shardLeaseName(i, opts.shards), { ...this.labels, [ROLE_LABEL]: "shard" }));
  }

  mayWrite(shardIndex: number): boolean {
    return this.held.has(shardIndex) && mayWrite(this.renewedAt.get(shardIndex), Date.now(), this.opts.timing.renewDeadlineMs);
  }

  /** The renewal loop: one round every retry period, each round bounded by the renew deadline, never waiting on reconciles. */
  run(): void {
    this.opts.log(`sharding: ${this.identity} takes part in ${this.opts.shards} shards (Leases ${shardLeaseName(0, this.opts.shards)}…)`);
    const tick = () => {
      if (this.stopped) return;
      this.round = this.once().catch((err: unknown) => this.opts.log(`sharding: ${errorMessage(err)}`)).finally(() => {
        this.expire();
        if (!this.stopped) this.timer = setTimeout(tick, this.opts.timing.retryPeriodMs * (1 + Math.random() * 0.1));
      });
    };
    tick();
  }

  async release(drain: () => Promise<void>): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
    await drain();
    const leases = await listLeases(this.http, this.opts.namespace, `${SHARDS_LABEL}=${this.opts.shards}`).catch(() => new Map<string, LeaseRecord>());
    for (const i of new Set([...this.held, ...this.draining])) await this.giveBack(i, leases.get(shardLeaseName(i, this.opts.shards)));
    const me = leases.get(this.member.name);
    if (me) await this.member.replace(me.resourceVersion, { holder: "", leaseDurationSeconds: 1, transitions: me.transitions, acquired: false }).catch(() => false);
    this.held = new Set();
  }

  /**
   * One round: renew the member Lease, read every Lease, take or renew (all at once) what is dealt to
   * this replica or still draining, start giving back what is dealt elsewhere.
   */
  private async once(): Promise<void> {
    const selector = `${SHARDS_LABEL}=${this.opts.shards}`;
    const leases = await this.deadline(listLeases(this.http, this.opts.namespace, selector));
    await this.deadline(this.renewMember(leases.get(this.member.name)));
    const now = Date.now();
    for (const [name, record] of leases) this.observe(name, record, now);
    const members = [...leases].filter(([name, r]) => this.isMember(name, r, now)).map(([, r]) => r.holder);
    const records = this.stores.map((s) => leases.get(s.name));
    const holders = records.map((r, i) => (r && r.holder !== "" && !this.expired(this.stores[i]!.name, r, now) ? r.holder : undefined));
    const wanted = assignShards(members.includes(this.identity) ? members : [...members, this.identity], holders, this.opts.shards);
    await Promise.all(this.stores.map(async (store, i) => {
      if (wanted[i] !== this.identity && !this.draining.has(i)) return;
      const sentAt = Date.now();
      if (await this.deadline(this.takeOrRenew(store, records[i], now)).catch(() => false)) this.renewedAt.set(i, sentAt);
    }));
    const held = new Set<number>();
    for (let i = 0; i < this.opts.shards; i++) {
      if (wanted[i] === this.identity && !this.draining.has(i) && mayWrite(this.renewedAt.get(i), Date.now(), this.opts.timing.renewDeadlineMs)) held.add(i);
      else if (this.held.has(i) && wanted[i] !== this.identity) this.drain(i);
    }
    this.setHeld(held);
  }

  /** Shards whose renewal lapsed stop being held (their writes stopped already: {@link mayWrite}). */
  private expire(): void {
    const lapsed = [...this.held].filter((i) => !mayWrite(this.renewedAt.get(i), Date.now(), this.opts.timing.renewDeadlineMs));
    if (lapsed.length === 0) return;
    this.opts.log(`sharding: could not renew shards [${lapsed.join(", ")}] for ${this.opts.timing.renewDeadlineMs / 1000}s; `
      + "stopped writing for them");
    this.setHeld(new Set([...this.held].filter((i) => !lapsed.includes(i))));
  }

  /** Gives shard `i` back once its running reconciles finished (they cannot write meanwhile), without holding up the loop. */
  private drain(i: number): void {
    if (this.draining.has(i)) return;
    this.draining.add(i);
    const mine = (app: string) => shardOf(app, this.opts.shards) === i;
    const cap = new Promise<void>((resolve) => setTimeout(resolve, this.opts.timing.leaseDurationMs).unref());
    void Promise.race([this.opts.drained(mine).catch(() => undefined), cap])
      .then(async () => {
        if (this.stopped) return;
        await this.giveBack(i, await this.stores[i]!.get().catch(() => undefined));
      })
      .finally(() => {
        this.draining.delete(i);
        this.renewedAt.delete(i);
      });
  }

  private setHeld(held: ReadonlySet<number>): void {
    const same = held.size === this.held.size && [...held].every((i) => this.held.has(i));
    if (same) return;
    const before = this.held;
    this.held = new Set(held);
    const gained = [...held].filter((i) => !before.has(i));
    const lost = [...before].filter((i) => !held.has(i));
    this.opts.log(`sharding: ${this.identity} holds shards [${[...held].sort().join(", ")}]`
      + `${gained.length ? `; took ${gained.join(", ")}` : ""}${lost.length ? `; gave up ${lost.join(", ")}` : ""}`);
    this.opts.onChange(this.held);
  }

  private async renewMember(record: LeaseRecord | undefined): Promise<void> {
    const write: LeaseWrite = { holder: this.identity, leaseDurationSeconds: this.leaseSeconds, transitions: 0, acquired: !record };
    if (record) await this.member.replace(record.resourceVersion, write);
    else await this.member.create(write);
  }

  private async takeOrRenew(store: KubeLeaseStore, record: LeaseRecord | undefined, now: number): Promise<boolean> {
    const decision = decide(record, this.identity, this.observed.get(store.name)?.atMs ?? now, now);
    const write = (acquired: boolean, transitions: number): LeaseWrite => ({
      holder: this.identity, leaseDurationSeconds: this.leaseSeconds, transitions, acquired,
      ...(record?.acquireTime ? { acquireTime: record.acquireTime } : {}),
    });
    try {
      switch (decision.kind) {
        case "create": return await store.create(write(true, 0));
        case "renew": return await store.replace(record!.resourceVersion, write(false, record!.transitions));
        case "take": return await store.replace(record!.resourceVersion, write(true, decision.transitions));
        case "wait": return false;
      }
    } catch (err) {
      this.opts.log(`sharding: ${store.description}: ${errorMessage(err)}`);
      return false;
    }
  }

  private async giveBack(i: number, record: LeaseRecord | undefined): Promise<void> {
    if (record?.holder !== this.identity) return;
    const released = await this.stores[i]!.replace(record.resourceVersion,
      { holder: "", leaseDurationSeconds: 1, transitions: record.transitions, acquired: false }).catch(() => false);
    if (released) this.opts.log(`sharding: ${this.identity} gave shard ${i} back`);
  }

  private observe(name: string, record: LeaseRecord, now: number): void {
    if (this.observed.get(name)?.resourceVersion !== record.resourceVersion) this.observed.set(name, { resourceVersion: record.resourceVersion, atMs: now });
  }

  /** A replica is live while its member Lease is held and was renewed within the lease duration (as seen from here). */
  private isMember(name: string, record: LeaseRecord, now: number): boolean {
    return name.startsWith("tether-agent-member-") && record.holder !== "" && (record.holder === this.identity || !this.expired(name, record, now));
  }

  private expired(name: string, record: LeaseRecord, now: number): boolean {
    return (this.observed.get(name)?.atMs ?? now) + record.leaseDurationSeconds * 1000 <= now;
  }

  /** A request that hangs must not hold up the round past the time the renewals are for. */
  private async deadline<T>(work: Promise<T>): Promise<T> {
    const ms = Math.min(this.opts.timing.retryPeriodMs * 2, this.opts.timing.renewDeadlineMs / 2);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the API server in ${ms / 1000}s`)), ms);
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private get leaseSeconds(): number {
    return Math.ceil(this.opts.timing.leaseDurationMs / 1000);
  }
}

/** `tether-agent-shard-0-of-3`: the count in the name, so a deployment changing N never shares a Lease with the old one. */
export function shardLeaseName(i: number, shards: number): string {
  return `tether-agent-shard-${i}-of-${shards}`;
}
