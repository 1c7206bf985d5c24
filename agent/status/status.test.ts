import { describe, expect, it } from "vitest";
import { TetherError } from "../errors.ts";
import { conditionOf, mergeConditions, report } from "./conditions.ts";
import { statusChanged } from "./equal.ts";
import { nextHistory } from "./history.ts";

describe("status", () => {
  it("keeps the newest revisionHistoryLimit deployments with increasing ids", () => {
    let history = nextHistory(undefined, { revision: "a", deployedAt: "t1" }, 2);
    history = nextHistory(history, { revision: "b", deployedAt: "t2" }, 2);
    history = nextHistory(history, { revision: "c", deployedAt: "t3" }, 2);
    expect(history).toEqual([{ id: 1, revision: "b", deployedAt: "t2" }, { id: 2, revision: "c", deployedAt: "t3" }]);
  });

  it("maps a typed error to a condition named by its reason", () => {
    const err = new TetherError("RenderFailed", "components/a.yaml:3: bad indentation", { object: "components/a.yaml" });
    expect(conditionOf(report(err), "now")).toEqual({ type: "RenderFailed", message: "components/a.yaml:3: bad indentation", lastTransitionTime: "now" });
    expect(report(new Error("socket hang up"))).toEqual({ reason: "Unknown", message: "socket hang up", retryable: true });
  });

  it("keeps the transition time of a condition that did not change", () => {
    const previous = [{ type: "SourceFailed", message: "unreachable", lastTransitionTime: "t1" }];
    expect(mergeConditions(previous, [{ type: "SourceFailed", message: "unreachable", lastTransitionTime: "t2" }])).toEqual(previous);
    expect(mergeConditions(previous, [{ type: "SourceFailed", message: "other", lastTransitionTime: "t2" }])[0]?.lastTransitionTime).toBe("t2");
  });

  it("carries over the image updater's conditions, which only it writes", () => {
    const image = { type: "ImageUpdateError", message: "registry 127.0.0.1:5000 is down", lastTransitionTime: "t1" };
    const previous = [image, { type: "SourceFailed", message: "unreachable", lastTransitionTime: "t1" }];
    expect(mergeConditions(previous, [])).toEqual([image]);
  });

  it("does not count a new reconcile time as a change", () => {
    const base = { sync: { status: "Synced" as const, revision: "abc" }, reconciledAt: "t1" };
    expect(statusChanged(base, { ...base, reconciledAt: "t2" })).toBe(false);
    expect(statusChanged(base, { ...base, sync: { status: "OutOfSync", revision: "abc" } })).toBe(true);
  });
});
