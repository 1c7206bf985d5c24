import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { phaseOf, spread } from "./spread.ts";

describe("phaseOf", () => {
  it("keeps an app's phase from round to round, within the window", () => {
    const phases = Array.from({ length: 1000 }, (_, i) => phaseOf(`app-${i}`, 5000));
    expect(phases.map((_, i) => phaseOf(`app-${i}`, 5000))).toEqual(phases);
    expect(Math.min(...phases)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...phases)).toBeLessThan(5000);
  });

  it("spreads many apps evenly: no second of a 5 s window gets more than a quarter of them", () => {
    const perSecond = [0, 0, 0, 0, 0];
    for (let i = 0; i < 1000; i++) perSecond[Math.floor(phaseOf(`app-${i}`, 5000) / 1000)]!++;
    for (const n of perSecond) expect(n).toBeGreaterThan(150);
    for (const n of perSecond) expect(n).toBeLessThan(250);
  });

  it("is 0 without a window", () => {
    expect(phaseOf("app", 0)).toBe(0);
  });
});

describe("spread", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("releases every name once, each when its phase comes, in ticks", () => {
    const names = Array.from({ length: 200 }, (_, i) => `app-${i}`);
    const released = new Map<string, number>();
    const batches: number[] = [];
    const t0 = Date.now();
    spread(names, 2000, (batch) => {
      batches.push(batch.length);
      for (const name of batch) released.set(name, Date.now() - t0);
    });
    vi.advanceTimersByTime(2100);
    expect([...released.keys()].sort()).toEqual([...names].sort());
    for (const [name, at] of released) {
      expect(at).toBeGreaterThanOrEqual(phaseOf(name, 2000));
      expect(at).toBeLessThan(phaseOf(name, 2000) + 100 + 1);
    }
    // About 20 ticks of about 10 apps, not one burst of 200.
    expect(batches.length).toBeGreaterThan(10);
    expect(Math.max(...batches)).toBeLessThan(40);
  });

  it("releases all at once without a window", () => {
    const batches: (readonly string[])[] = [];
    spread(["a", "b", "c"], 0, (batch) => batches.push(batch));
    expect(batches).toEqual([["a", "b", "c"]]);
  });

  it("releases nothing more once cancelled", () => {
    const released: string[] = [];
    const cancel = spread(Array.from({ length: 100 }, (_, i) => `app-${i}`), 5000, (batch) => released.push(...batch));
    vi.advanceTimersByTime(1000);
    const soFar = released.length;
    cancel();
    vi.advanceTimersByTime(10_000);
    expect(released.length).toBe(soFar);
    expect(soFar).toBeLessThan(100);
  });
});
