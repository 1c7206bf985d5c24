// `tether agent --leader-elect`: several agent replicas, one reconciling. See README.md.
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { LeaderElector, type ElectionTiming } from "./elector.ts";
import { KubeLeaseStore } from "./lease.ts";

export { DEFAULT_TIMING, type ElectionTiming } from "./elector.ts";

/** The Lease the agents of one namespace compete for. */
export const LEASE_NAME = "tether-agent-leader";

export interface Leadership {
  readonly isLeader: () => boolean;
  /** Whether this replica may write now: leading and renewed within the renew deadline (the fencing check). */
  readonly mayWrite: () => boolean;
  /** Stops campaigning, waits for `drain`, then releases the lease when leading. */
  release(drain: () => Promise<void>): Promise<void>;
}

export interface ElectionOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly timing: ElectionTiming;
  readonly log: (line: string) => void;
  /** Unique per process: the pod name (the hostname in a pod) and a random suffix for a restarted container. */
  readonly identity?: string;
}

/**
 * Runs `lead` once this process holds the lease. Losing it (no renewal within the renew deadline)
 * ends the process with exit code 1, as controllers built on client-go do: a restarted agent rejoins
 * as a standby, and an agent that may no longer hold the lease never goes on applying.
 */
export function campaign(opts: ElectionOptions, lead: () => Promise<void>): Leadership {
  const identity = opts.identity ?? `${os.hostname()}_${randomBytes(4).toString("hex")}`;
  const elector = new LeaderElector({ store: new KubeLeaseStore(opts.kc, opts.namespace, LEASE_NAME), identity, timing: opts.timing, log: opts.log });
  elector.run({
    onStartedLeading: lead,
    onStoppedLeading: () => {
      opts.log("leader election: exiting so that this agent restarts as a standby");
      process.exit(1);
    },
  });
  return { isLeader: () => elector.isLeader, mayWrite: () => elector.mayWrite, release: (drain) => elector.release(drain) };
}
