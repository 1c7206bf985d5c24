import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { Background } from "./background.ts";

describe("Background: writes a reconcile does not wait for", () => {
  it("starts a task at once while fewer than the limit are in flight, and waits for one to finish past it", async () => {
    const background = new Background(2);
    const finished: number[] = [];
    const task = (n: number, ms: number) => async () => { await sleep(ms); finished.push(n); };
    await background.run(task(1, 50));
    await background.run(task(2, 10));
    expect(finished).toEqual([]);
    await background.run(task(3, 0));
    // The third waited for the quicker of the two in flight, not for both.
    expect(finished).toEqual([2]);
    await background.drain();
    expect(finished.sort()).toEqual([1, 2, 3]);
    expect(background.size).toBe(0);
  });

  it("keeps going after a task that fails", async () => {
    const background = new Background(1);
    await background.run(() => Promise.reject(new Error("refused")));
    let ran = false;
    await background.run(() => {
      ran = true;
      return Promise.resolve();
    });
    await background.drain();
    expect(ran).toBe(true);
  });
});
