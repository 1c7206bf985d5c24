import { describe, expect, it } from "vitest";
import type { AppSetCondition, Application } from "../api/types.ts";
import { conditionsOf, resourcesOf } from "./status.ts";

const T0 = "2026-12-06T09:00:00.000Z";
const T1 = "2026-12-06T09:05:00.000Z";
const brief = (cs: AppSetCondition[]) => cs.map((c) => [c.type, c.status, c.reason]);

describe("conditionsOf", () => {
  it("says a failed generator on ErrorOccurred, ParametersGenerated and ResourcesUpToDate, with its reason", () => {
    const cs = conditionsOf({ kind: "generation-failed", reason: "ApplicationGenerationFromParamsError", message: "generators[0].git: unreachable" }, [], T0);
    expect(brief(cs)).toEqual([["ErrorOccurred", "True", "ApplicationGenerationFromParamsError"],
      ["ParametersGenerated", "False", "ErrorOccurred"], ["ResourcesUpToDate", "False", "ErrorOccurred"]]);
    expect(cs.every((c) => c.message === "generators[0].git: unreachable")).toBe(true);
  });

  it("says all is up to date after a clean generation, and the rollout when RollingSync", () => {
    const cs = conditionsOf({ kind: "generated" }, [], T0, { status: "True", reason: "ApplicationSetModified", message: "step 1" });
    expect(brief(cs)).toEqual([["ErrorOccurred", "False", "ApplicationSetUpToDate"], ["ParametersGenerated", "True", "ParametersGenerated"],
      ["ResourcesUpToDate", "True", "ApplicationSetUpToDate"], ["RolloutProgressing", "True", "ApplicationSetModified"],
      ["InvalidRolloutConfig", "False", "ApplicationSetValidRolloutConfig"]]);
  });

  it("names what is wrong with the steps in InvalidRolloutConfig", () => {
    const cs = conditionsOf({ kind: "generated" }, [], T0, { status: "False", reason: "ApplicationSetRolloutComplete", message: "done",
      issues: ["step 2 selects no Application"] });
    expect(cs.find((c) => c.type === "InvalidRolloutConfig")).toMatchObject({ status: "True", reason: "ApplicationSetInvalidRolloutConfig",
      message: "step 2 selects no Application" });
  });

  it("keeps parameters generated but not up to date when an Application was refused", () => {
    const cs = conditionsOf({ kind: "generated", error: { reason: "ApplicationValidationError", message: "a: conflict" } }, [], T0);
    expect(brief(cs)).toEqual([["ErrorOccurred", "True", "ApplicationValidationError"], ["ParametersGenerated", "True", "ParametersGenerated"],
      ["ResourcesUpToDate", "False", "ErrorOccurred"]]);
  });

  it("keeps lastTransitionTime while a condition's status stays", () => {
    const first = conditionsOf({ kind: "generated" }, [], T0);
    const again = conditionsOf({ kind: "generated" }, first, T1);
    expect(again.map((c) => c.lastTransitionTime)).toEqual([T0, T0, T0]);
    const failed = conditionsOf({ kind: "generation-failed", reason: "RenderTemplateParamsError", message: "x" }, first, T1);
    expect(failed.map((c) => c.lastTransitionTime)).toEqual([T1, T1, T1]);
  });
});

describe("resourcesOf", () => {
  it("lists each Application with its sync and health, Unknown before its first reconcile", () => {
    const apps = [
      { metadata: { name: "b", namespace: "ns" }, spec: { destination: {} }, status: { sync: { status: "Synced" }, health: { status: "Healthy" } } },
      { metadata: { name: "a", namespace: "ns" }, spec: { destination: {} } },
    ] as Application[];
    expect(resourcesOf(apps)).toEqual([
      { group: "tether.dev", version: "v1alpha1", kind: "Application", name: "a", namespace: "ns", status: "Unknown", health: { status: "Unknown" } },
      { group: "tether.dev", version: "v1alpha1", kind: "Application", name: "b", namespace: "ns", status: "Synced", health: { status: "Healthy" } },
    ]);
  });
});
