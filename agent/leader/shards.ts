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
import { decide, type LeaseRecord } from "./decide.ts";
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
  /**
   * Told the shards this replica now holds. It resolves once the reconciles of the shards it no
   * longer holds have finished, so a shard's Lease is released only then.
   */
  readonly onChange: (held: ReadonlySet<number>) => Promise<void>;
}

export interface Sharding {
  readonly identity: string;
  /** Whether this replica reconciles `app` now. */
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
    owns: (app) => coordinator.held.has(shardOf(app, opts.shards)),
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
  /** When each held shard was last renewed. */
  private readonly renewedAt = new Map<number, number>();
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

  run(): void {
    this.opts.log(`sharding: ${this.identity} takes part in ${this.opts.shards} shards (Leases ${shardLeaseName(0, this.opts.shards)}…)`);
    const tick = () => {
      if (this.stopped) return;
      this.round = this.once().catch((err: unknown) => this.opts.log(`sharding: ${errorMessage(err)}`)).finally(() => {
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
    for (const i of this.held) await this.giveBack(i, leases.get(shardLeaseName(i, this.opts.shards)));
    const me = leases.get(this.member.name);
    if (me) await this.member.replace(me.resourceVersion, { holder: "", leaseDurationSeconds: 1, transitions: me.transitions, acquired: false }).catch(() => false);
    this.held = new Set();
  }

  /** One round: renew the member Lease, read every Lease, take what is ours and free, give back what is not. */
  private async once(): Promise<void> {
    const selector = `${SHARDS_LABEL}=${this.opts.shards}`;
    const leases = await listLeases(this.http, this.opts.namespace, selector);
    await this.renewMember(leases.get(this.member.name));
    const now = Date.now();
    for (const [name, record] of leases) this.observe(name, record, now);
    const members = [...leases].filter(([name, r]) => this.isMember(name, r, now)).map(([, r]) => r.holder);
    const records = this.stores.map((s) => leases.get(s.name));
    const holders = records.map((r, i) => (r && r.holder !== "" && !this.expired(this.stores[i]!.name, r, now) ? r.holder : undefined));
    const wanted = assignShards(members.includes(this.identity) ? members : [...members, this.identity], holders, this.opts.shards);
    const held = new Set(this.held);
    for (const [i, store] of this.stores.entries()) {
      const record = records[i];
      if (wanted[i] === this.identity) {
        if (await this.takeOrRenew(store, record, now)) {
          held.add(i);
          this.renewedAt.set(i, now);
        } else if (held.has(i) && now - (this.renewedAt.get(i) ?? 0) >= this.opts.timing.renewDeadlineMs) {
          this.opts.log(`sharding: could not renew shard ${i} for ${this.opts.timing.renewDeadlineMs / 1000}s; stopping its reconciles`);
          held.delete(i);
        }
      } else if (held.has(i)) {
        held.delete(i);
        await this.setHeld(held);
        await this.giveBack(i, record);
      }
    }
    await this.setHeld(held);
  }

  private async setHeld(held: ReadonlySet<number>): Promise<void> {
    const same = held.size === this.held.size && [...held].every((i) => this.held.has(i));
    if (same) return;
    const before = this.held;
    this.held = new Set(held);
    const gained = [...held].filter((i) => !before.has(i));
    const lost = [...before].filter((i) => !held.has(i));
    this.opts.log(`sharding: ${this.identity} holds shards [${[...held].sort().join(", ")}]`
      + `${gained.length ? `; took ${gained.join(", ")}` : ""}${lost.length ? `; gave up ${lost.join(", ")}` : ""}`);
    await this.opts.onChange(this.held);
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

  private get leaseSeconds(): number {
    return Math.ceil(this.opts.timing.leaseDurationMs / 1000);
  }
}

/** `tether-agent-shard-0-of-3`: the count in the name, so a deployment changing N never shares a Lease with the old one. */
export function shardLeaseName(i: number, shards: number): string {
  return `tether-agent-shard-${i}-of-${shards}`;
}
