import { describe, expect, it } from "vitest";
import type { Application } from "../../agent/api/types.ts";
import { rollbackTarget } from "./operation.ts";

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
