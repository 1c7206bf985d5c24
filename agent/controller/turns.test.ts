import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { inTurn, Turns } from "./turns.ts";

/** Starts `work` for each name and records the order in which their turns begin. */
function recorder() {
  const order: string[] = [];
  return { order, mark: (name: string) => () => { order.push(name); return Promise.resolve(); } };
}

describe("Turns", () => {
  it("lets as many in as it has slots; the next waits until one ends", async () => {
    const turns = new Turns({ slots: 2, holdMs: 60_000 });
    const a = await turns.take();
    await turns.take();
    let third = false;
    const waiting = turns.take().then((end) => { third = true; return end; });
    await sleep(10);
    expect(third).toBe(false);
    a();
    (await waiting)();
    expect(third).toBe(true);
  });

  it("gives a freed turn to an app finishing what it started before apps starting", async () => {
    const turns = new Turns({ slots: 1, holdMs: 60_000 });
    const held = await turns.take();
    const { order, mark } = recorder();
    const runs = [
      inTurn(turns, "start", mark("start 1")), inTurn(turns, "start", mark("start 2")),
      inTurn(turns, "finish", mark("finish 1")), inTurn(turns, "finish", mark("finish 2")),
    ];
    held();
    await Promise.all(runs);
    expect(order).toEqual(["finish 1", "finish 2", "start 1", "start 2"]);
  });

  it("frees a slot held too long by itself, once", async () => {
    const turns = new Turns({ slots: 1, holdMs: 20 });
    const slow = await turns.take();
    const next = await turns.take(); // within holdMs, by itself
    slow(); // too late to free another slot: already freed
    let third = false;
    const waiting = turns.take().then((end) => { third = true; return end; });
    await sleep(5);
    expect(third).toBe(false);
    next();
    (await waiting)();
    expect(third).toBe(true);
  });

  it("ends the turn when the work throws", async () => {
    const turns = new Turns({ slots: 1, holdMs: 60_000 });
    await expect(inTurn(turns, "start", () => Promise.reject(new Error("render failed")))).rejects.toThrow("render failed");
    const end = await Promise.race([turns.take(), sleep(1000).then(() => undefined)]);
    expect(end).toBeTypeOf("function");
  });

  it("runs the work at once without turns", async () => {
    expect(await inTurn(undefined, "start", () => Promise.resolve(42))).toBe(42);
  });
});
