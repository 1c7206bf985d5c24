// Who may hold the Lease, decided from what was read and when: pure, as client-go's leaderelection
// decides it. Expiry is measured on this process's own clock from the moment it last saw the record
// change, never from the holder's renewTime, so clock skew between machines cannot hand the lease over
// early.

/** The fields of a coordination.k8s.io/v1 Lease that leader election reads. */
export interface LeaseRecord {
  /** Empty when the last holder released it. */
  readonly holder: string;
  readonly leaseDurationSeconds: number;
  readonly transitions: number;
  readonly resourceVersion: string;
  /** Kept across renewals, so the Lease shows since when its holder leads. */
  readonly acquireTime?: string;
}

export type Decision =
  | { readonly kind: "create" }
  | { readonly kind: "renew" }
  /** The holder released it or let it expire: take it over, counting one more transition. */
  | { readonly kind: "take"; readonly transitions: number; readonly why: "released" | "expired" }
  | { readonly kind: "wait"; readonly holder: string; readonly expiresInMs: number };

/** `observedAtMs`: when this process first saw `record` as it is now (its resourceVersion). */
export function decide(record: LeaseRecord | undefined, me: string, observedAtMs: number, nowMs: number): Decision {
  if (!record) return { kind: "create" };
  if (record.holder === me) return { kind: "renew" };
  if (record.holder === "") return { kind: "take", transitions: record.transitions + 1, why: "released" };
  const expiresInMs = observedAtMs + record.leaseDurationSeconds * 1000 - nowMs;
  if (expiresInMs <= 0) return { kind: "take", transitions: record.transitions + 1, why: "expired" };
  return { kind: "wait", holder: record.holder, expiresInMs };
}

/** The Lease's MicroTime format: RFC 3339 with six fractional digits, which the API server requires. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * Whether a holder may still write: its last successful renewal was sent less than the renew deadline
 * ago. A peer takes a Lease over only after it saw it unchanged for the lease duration, which is
 * longer, so a holder that stopped (a pause, a partition, a hung request) stops writing first. The
 * time counted is when the renewal was sent, not when its answer came back.
 */
export function mayWrite(renewSentAtMs: number | undefined, nowMs: number, renewDeadlineMs: number): boolean {
  return renewSentAtMs !== undefined && nowMs - renewSentAtMs < renewDeadlineMs;
}
