import { describe, expect, it } from "vitest";
import { parseDuration } from "../duration.ts";
import { retryDelay } from "./retry.ts";

describe("syncPolicy.retry", () => {
  it.each([
    { policy: undefined, attempt: 1, delay: undefined },
    { policy: {}, attempt: 1, delay: undefined },
    { policy: { limit: 3 }, attempt: 1, delay: 5_000 },
    { policy: { limit: 3 }, attempt: 3, delay: 20_000 },
    { policy: { limit: 3 }, attempt: 4, delay: undefined },
    { policy: { limit: -1 }, attempt: 40, delay: 180_000 },
    { policy: { limit: 5, backoff: { duration: "1s", factor: 3, maxDuration: "10s" } }, attempt: 2, delay: 3_000 },
    { policy: { limit: 5, backoff: { duration: "1s", factor: 3, maxDuration: "10s" } }, attempt: 4, delay: 10_000 },
  ])("retry $attempt of $policy waits $delay ms", ({ policy, attempt, delay }) => {
    expect(retryDelay(policy, attempt)).toBe(delay);
  });
});

describe("parseDuration", () => {
  it.each([["5s", 5000], ["3m", 180_000], ["1m30s", 90_000], ["250ms", 250], ["1h", 3_600_000]])("reads %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "5", "5x", "s5", "1m 30s"])("refuses %j with the accepted form", (text) => {
    expect(() => parseDuration(text)).toThrow(/e\.g\. 5s, 3m, 1m30s/);
  });
});
