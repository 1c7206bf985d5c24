import { describe, expect, it } from "vitest";
import type { Application } from "../../agent/api/types.ts";
import { refuseWhileRunning, rollbackTarget } from "./operation.ts";

const app = (ids: number[]): Application => ({
  apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "web" },
  spec: { source: { repoURL: "https://example.com/r.git" }, destination: {} },
  status: { history: ids.map((id) => ({ id, revision: `rev${id}`, deployedAt: "2026-01-01T00:00:00Z" })) },
});

describe("tether app rollback: the history entry", () => {
  it("is the one named, or the one before the current deployment", () => {
    expect(rollbackTarget(app([0, 1, 2]), "0")).toBe(0);
    expect(rollbackTarget(app([0, 1, 2]), undefined)).toBe(1);
  });

  it("refuses an entry that does not exist, a non-number and an app with nothing to go back to", () => {
    expect(() => rollbackTarget(app([0, 1]), "7")).toThrow("web has no history entry 7 (entries: 0, 1); see `tether app history web`");
    expect(() => rollbackTarget(app([0, 1]), "latest")).toThrow(/HISTORY_ID latest: expected a number/);
    expect(() => rollbackTarget(app([0]), undefined)).toThrow(/only one history entry/);
  });
});

describe("tether app sync and rollback while an operation runs", () => {
  const base = app([0]);
  it.each([
    { name: "nothing running: allowed", over: {}, refused: undefined },
    { name: "the last operation ended: allowed", over: { status: { operationState: { phase: "Failed" as const } } }, refused: undefined },
    { name: "an operation running: refused with what it waits for",
      over: { status: { operationState: { phase: "Running" as const, message: "waiting for PreSync hook Job/web/migrate", startedAt: "2026-12-06T06:00:00Z", syncResult: { revision: "abcdef0123" } } } },
      refused: "web: another operation is already in progress: waiting for PreSync hook Job/web/migrate (started 2026-12-06T06:00:00Z at abcdef0); "
        + "wait for it (`tether app wait web`) and try again" },
    { name: "a sync requested and not taken yet: refused", over: { operation: { sync: { prune: true } } }, refused: "another operation is already in progress (requested, not taken yet)" },
  ])("$name", ({ over, refused }) => {
    const subject: Application = { ...base, ...over };
    if (refused === undefined) {
      expect(() => refuseWhileRunning(subject)).not.toThrow();
      return;
    }
    expect(() => refuseWhileRunning(subject)).toThrow(refused);
    try {
      refuseWhileRunning(subject);
    } catch (err) {
      expect((err as { exitCode?: number }).exitCode).toBe(5);
    }
  });
});
