import { describe, expect, it } from "vitest";
import { DIFF_LIMITS, Gate, refusal, TooManyRequests } from "./limits.ts";

describe("refusal", () => {
  const limits = { burst: 2, perSecond: 0.5, perIdentity: 1, total: 3 };
  it.each([
    ["a fresh caller", { tokens: 2, at: 0, running: 0 }, 0, 0, undefined],
    ["the agent at its total", { tokens: 2, at: 0, running: 0 }, 3, 0, "as many of these calls as it allows at once"],
    ["a caller with a call running", { tokens: 2, at: 0, running: 1 }, 1, 0, "you have 1 of these calls running already"],
    ["a caller who spent the burst", { tokens: 0, at: 0, running: 0 }, 0, 1000, "too many of these calls in a short time"],
    ["a caller who waited for a token", { tokens: 0, at: 0, running: 0 }, 0, 2000, undefined],
  ])("%s", (_what, bucket, running, now, why) => { // eslint-disable-line max-params -- an it.each row
    expect(refusal(limits, bucket, running, now)?.why).toEqual(why === undefined ? undefined : expect.stringContaining(why));
  });
});

describe("Gate", () => {
  it("refuses an identity over its rate with 429 and a wait, while another identity goes on", async () => {
    let now = 0;
    const gate = new Gate(DIFF_LIMITS, () => now);
    for (let i = 0; i < DIFF_LIMITS.burst; i++) await gate.run("alice", () => Promise.resolve(i));
    const refused = await gate.run("alice", () => Promise.resolve(0)).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(TooManyRequests);
    expect((refused as TooManyRequests).code).toBe(429);
    expect((refused as TooManyRequests).retryAfterS).toBe(5);
    expect(await gate.run("bob", () => Promise.resolve("ok"))).toBe("ok");
    now += 5000;
    expect(await gate.run("alice", () => Promise.resolve("again"))).toBe("again");
  });

  it("caps the calls running at once, per identity and in total", async () => {
    const gate = new Gate(DIFF_LIMITS);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const running = [gate.run("alice", () => held), gate.run("alice", () => held)];
    await expect(gate.run("alice", () => Promise.resolve())).rejects.toThrow(/you have 2 of these calls running/);
    running.push(gate.run("bob", () => held), gate.run("carol", () => held));
    await expect(gate.run("dave", () => Promise.resolve())).rejects.toThrow(/as many of these calls as it allows at once/);
    release();
    await Promise.all(running);
    await expect(gate.run("dave", () => Promise.resolve("ok"))).resolves.toBe("ok");
  });
});
