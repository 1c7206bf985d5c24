import { describe, expect, it } from "vitest";
import { fresher, WorkQueue, type Freshness, type RunResult } from "./queue.ts";

describe("fresher", () => {
  it.each<[Freshness, Freshness, Freshness]>([
    [{ kind: "cached" }, { kind: "shared", since: 5 }, { kind: "shared", since: 5 }],
    [{ kind: "shared", since: 9 }, { kind: "shared", since: 5 }, { kind: "shared", since: 9 }],
    [{ kind: "shared", since: 9 }, { kind: "fresh" }, { kind: "fresh" }],
    [{ kind: "cached" }, { kind: "cached" }, { kind: "cached" }],
    // A push's word outlives a later shared request: it only spares work that would find the same.
    [{ kind: "shared", since: 5, push: "touched" }, { kind: "shared", since: 9 }, { kind: "shared", since: 9, push: "touched" }],
    [{ kind: "shared", since: 5, push: "touched" }, { kind: "shared", since: 9, push: "moved" }, { kind: "shared", since: 9, push: "touched" }],
    [{ kind: "shared", since: 9, push: "moved" }, { kind: "shared", since: 5 }, { kind: "shared", since: 9, push: "moved" }],
    [{ kind: "shared", since: 9, push: "moved" }, { kind: "fresh" }, { kind: "fresh" }],
  ])("%j and %j → %j", (a, b, want) => {
    expect(fresher(a, b)).toEqual(want);
    expect(fresher(b, a)).toEqual(want);
  });
});

describe("WorkQueue", () => {
  function queue(results: RunResult[], baseDelayMs = 20) {
    const runs: { name: string; freshness: Freshness; at: number }[] = [];
    const start = Date.now();
    const q = new WorkQueue({
      workers: 2, baseDelayMs, maxDelayMs: baseDelayMs * 5, log: () => undefined,
      run: async (name, freshness) => {
        runs.push({ name, freshness, at: Date.now() - start });
        await new Promise((r) => setTimeout(r, 5));
        return results.shift() ?? { kind: "done" };
      },
    });
    return { q, runs };
  }
  const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("runs an app queued twice once, with the stronger freshness", async () => {
    const { q, runs } = queue([]);
    q.add("a", { kind: "shared", since: 1 });
    q.add("b");
    q.add("c", { kind: "shared", since: 1 });
    q.add("c", { kind: "fresh" });
    await settle(50);
    expect(runs.map((r) => [r.name, r.freshness.kind])).toEqual([["a", "shared"], ["b", "cached"], ["c", "fresh"]]);
    await q.drain();
  });

  it("runs an urgent request (a webhook, a refresh) before the backlog the poll queued", async () => {
    const { q, runs } = queue([]);
    for (const name of ["a", "b", "c", "d"]) q.add(name, { kind: "shared", since: 1 });
    q.add("pushed", { kind: "shared", since: 2 }, true);
    while (runs.length < 5) await settle(10);
    expect(runs.map((r) => r.name)).toEqual(["a", "b", "pushed", "c", "d"]);
    await q.drain();
  });

  it("retries a failure after a growing backoff, or after the delay the result names", async () => {
    // Delays far above a loaded machine's timer jitter: 150 ms, then 300 ms, then the 10 ms it names.
    const { q, runs } = queue([{ kind: "retry" }, { kind: "retry" }, { kind: "retry", afterMs: 10 }], 150);
    q.add("a");
    while (runs.length < 4) await settle(20);
    const gaps = runs.slice(1).map((r, i) => r.at - runs[i]!.at);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]!).toBeLessThan(gaps[1]!);
    await q.drain();
  });

  it("runs a requeue again after its delay, and a done result not at all", async () => {
    const { q, runs } = queue([{ kind: "requeue", afterMs: 30 }]);
    q.add("a");
    await settle(120);
    expect(runs).toHaveLength(2);
    await q.drain();
  });

  it("tells when the named apps have run, counting an app queued again while it ran with its next run", async () => {
    const { q, runs } = queue([]);
    q.add("a");
    q.add("b");
    await settle(1);
    q.add("a"); // while a runs: its next run is the one waited for
    let ranAt = -1;
    const ran = q.ran(["a", "b", "idle"]).then(() => { ranAt = runs.length; });
    await ran;
    expect(runs.map((r) => r.name)).toEqual(["a", "b", "a"]);
    expect(ranAt).toBe(3);
    await expect(q.ran(["nothing-queued"])).resolves.toBeUndefined();
    await q.drain();
  });

  it("starts an urgent request at once while the backlog holds every worker, and the backlog only in its workers", async () => {
    const finish = new Map<string, () => void>();
    const started: string[] = [];
    const q = new WorkQueue({
      workers: 2, log: () => undefined,
      run: async (name) => {
        started.push(name);
        await new Promise<void>((resolve) => finish.set(name, resolve));
        return { kind: "done" };
      },
    });
    for (const name of ["a", "b", "c"]) q.add(name, { kind: "shared", since: 1 });
    expect(started).toEqual(["a", "b"]);
    q.add("pushed", { kind: "shared", since: 2 }, true);
    expect(started).toEqual(["a", "b", "pushed"]);
    finish.get("a")!();
    await settle(5);
    // The backlog waits for the urgent run, and then for a worker of its own.
    expect(started).toEqual(["a", "b", "pushed"]);
    finish.get("pushed")!();
    await settle(5);
    expect(started).toEqual(["a", "b", "pushed", "c"]);
    finish.get("b")!();
    finish.get("c")!();
    await q.drain();
  });

  it("starts nothing from the backlog while an urgent request runs", async () => {
    const { q, runs } = queue([]);
    q.add("pushed", { kind: "shared", since: 2 }, true);
    for (const name of ["a", "b", "c"]) q.add(name, { kind: "shared", since: 1 });
    await settle(1);
    // Two workers, but the backlog waits for the urgent run to end.
    expect(runs.map((r) => r.name)).toEqual(["pushed"]);
    while (runs.length < 4) await settle(10);
    expect(runs.map((r) => r.name)).toEqual(["pushed", "a", "b", "c"]);
    expect(runs[1]!.at).toBeGreaterThanOrEqual(runs[0]!.at + 4);
    await q.drain();
  });

  /** A queue whose runs take `msOf(name)`, logging `start NAME` and `end NAME` in the order they happen. */
  function timed(msOf: (name: string) => number, opts: { readonly urgentHoldMs: number; readonly onStart?: (name: string) => void }) {
    const log: string[] = [];
    const q = new WorkQueue({
      workers: 2, log: () => undefined, urgentHoldMs: opts.urgentHoldMs,
      run: async (name) => {
        log.push(`start ${name}`);
        opts.onStart?.(name);
        await settle(msOf(name));
        log.push(`end ${name}`);
        return { kind: "done" };
      },
    });
    return { q, log };
  }

  it("lets the backlog start beside a slow urgent reconcile once it has held it for a while", async () => {
    // A webhook for an app of 5,000 objects: the poll's backlog waits a moment, not the whole reconcile.
    const { q, log } = timed((name) => (name === "big" ? 1500 : 5), { urgentHoldMs: 50 });
    q.add("big", { kind: "fresh" }, true);
    q.add("a");
    q.add("b");
    while (!log.includes("end big")) await settle(10);
    expect(log.indexOf("start a")).toBeGreaterThan(log.indexOf("start big"));
    expect(log.indexOf("start a"), log.join(", ")).toBeLessThan(log.indexOf("end big"));
    expect(log.indexOf("start b"), log.join(", ")).toBeLessThan(log.indexOf("end big"));
    await q.drain();
  });

  it("does not let urgent requests that keep coming starve the backlog", async () => {
    // Each urgent run brings the next one (pushes, refreshes): without a bound the backlog never starts.
    let n = 0;
    const { q, log } = timed(() => 40, {
      urgentHoldMs: 100,
      onStart: (name) => { if (name.startsWith("push-") && n < 40) q.add(`push-${++n}`, { kind: "fresh" }, true); },
    });
    q.add("push-0", { kind: "fresh" }, true);
    q.add("polled");
    while (!log.includes("end polled") && n < 40) await settle(10);
    expect(log.includes("start polled"), log.join(", ")).toBe(true);
    expect(n, "the backlog ran while pushes still came").toBeLessThan(40);
    await q.drain();
  });
});
