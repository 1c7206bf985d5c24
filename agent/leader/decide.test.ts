import { describe, expect, it } from "vitest";
import { decide, mayWrite, microTime, type LeaseRecord } from "./decide.ts";

const held = (holder: string, over: Partial<LeaseRecord> = {}): LeaseRecord =>
  ({ holder, leaseDurationSeconds: 15, transitions: 3, resourceVersion: "10", ...over });

describe("who may hold the Lease", () => {
  it("creates a Lease nobody made yet", () => {
    expect(decide(undefined, "a", 0, 0)).toEqual({ kind: "create" });
  });

  it("renews its own", () => {
    expect(decide(held("a"), "a", 0, 60_000)).toEqual({ kind: "renew" });
  });

  it("waits while another holder's lease runs, counted from when this candidate saw it change", () => {
    expect(decide(held("b"), "a", 100_000, 110_000)).toEqual({ kind: "wait", holder: "b", expiresInMs: 5_000 });
  });

  it("takes over a lease not renewed for its duration, counting one more transition", () => {
    expect(decide(held("b"), "a", 100_000, 115_000)).toEqual({ kind: "take", transitions: 4, why: "expired" });
  });

  it("takes over a released lease at once", () => {
    expect(decide(held("", { leaseDurationSeconds: 1 }), "a", 100_000, 100_001)).toEqual({ kind: "take", transitions: 4, why: "released" });
  });

  it("writes MicroTime with six fractional digits, as the API server requires", () => {
    expect(microTime(new Date("2026-12-01T16:40:00.123Z"))).toBe("2026-12-01T16:40:00.123000Z");
  });
});

describe("whether a holder may still write", () => {
  it.each([
    { what: "just renewed", sentAt: 100_000, now: 100_500, expected: true },
    { what: "renewed just under the deadline ago", sentAt: 100_000, now: 109_999, expected: true },
    { what: "not renewed for the renew deadline (paused, partitioned, or its renewals hang)", sentAt: 100_000, now: 110_000, expected: false },
    { what: "woken from a pause longer than the lease", sentAt: 100_000, now: 160_000, expected: false },
    { what: "never renewed", sentAt: undefined, now: 100_000, expected: false },
  ])("$what: $expected", ({ sentAt, now, expected }) => {
    expect(mayWrite(sentAt, now, 10_000)).toBe(expected);
  });
});
