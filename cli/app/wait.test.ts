import { describe, expect, it } from "vitest";
import type { Application } from "../../agent/api/types.ts";
import { atRevision, satisfied, stuckConditions } from "./wait.ts";

const app = (status: Application["status"]): Application => ({
  apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "a" },
  spec: { source: { repoURL: "https://git.example.com/r.git" }, destination: { namespace: "a" } }, status,
});

describe("waiting for an Application", () => {
  it("stops on a condition only a new commit clears, but not on one that can clear by itself", () => {
    const stuck = app({ conditions: [{ type: "PlaintextSecret", message: "Secret/a/x is not encrypted", lastTransitionTime: "2026-01-01T00:00:10Z" },
      { type: "SourceFailed", message: "unreachable", lastTransitionTime: "2026-01-01T00:00:10Z" }] });
    expect(stuckConditions(stuck).map((c) => c.type)).toEqual(["PlaintextSecret"]);
    expect(stuckConditions(app({ conditions: [{ type: "PolicyViolation", message: "no project", lastTransitionTime: "x" }] }))).toEqual([]);
  });

  it("ignores a stuck condition older than the commit it waits for", () => {
    const stuck = app({ conditions: [{ type: "RenderFailed", message: "bad yaml", lastTransitionTime: "2026-01-01T00:00:10Z" }] });
    expect(stuckConditions(stuck, new Date("2026-01-01T00:01:00Z"))).toEqual([]);
    expect(stuckConditions(stuck, new Date("2026-01-01T00:00:05Z"))).toHaveLength(1);
  });

  it("is satisfied only at the requested revision, matched by prefix", () => {
    const done = app({ sync: { status: "Synced", revision: "0123456789abcdef0123456789abcdef01234567" }, health: { status: "Healthy" } });
    expect(satisfied(done, {})).toBe(true);
    expect(satisfied(done, { revision: "0123456" })).toBe(true);
    expect(satisfied(done, { revision: "fedcba9" })).toBe(false);
    expect(atRevision(app({}), "0123456")).toBe(false);
  });
});
