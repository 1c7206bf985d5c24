import { describe, expect, it } from "vitest";
import type { Manifest } from "../api/types.ts";
import { builtinActions, mergePatch, RESTARTED_AT, runBuiltin } from "./builtin.ts";

const NOW = new Date("2026-12-06T09:30:00.123Z");
const workload = (kind: string, spec: Record<string, unknown> = {}): Manifest => ({
  apiVersion: "apps/v1", kind, metadata: { name: "web", namespace: "shop" }, spec: { replicas: 2, template: { metadata: { labels: { app: "web" } } }, ...spec },
});
const cronJob = (suspend?: boolean): Manifest => ({ apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "nightly" }, spec: { schedule: "@daily", ...(suspend === undefined ? {} : { suspend }) } });

describe("built-in resource actions, as Argo CD ships them", () => {
  it.each([
    ["a Deployment", workload("Deployment"), ["restart", "scale"]],
    ["a StatefulSet", workload("StatefulSet"), ["restart", "scale"]],
    ["a DaemonSet", workload("DaemonSet"), ["restart"]],
    ["a CronJob", cronJob(), ["suspend", "resume"]],
    ["a ConfigMap", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }, []],
    ["a Deployment of another group", { ...workload("Deployment"), apiVersion: "example.com/v1" }, []],
  ] as const)("lists for %s: %j", (_what, obj, names) => {
    expect(builtinActions(obj).map((a) => a.name)).toEqual(names);
  });

  it("restart sets the pod template's kubectl.kubernetes.io/restartedAt (kubectl rollout restart's annotation), keeping the others", () => {
    const obj = workload("Deployment", { template: { metadata: { annotations: { keep: "me" } } } });
    const out = runBuiltin("restart", obj, {}, NOW)!;
    expect((out.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations)
      .toEqual({ keep: "me", [RESTARTED_AT]: "2026-12-06T09:30:00Z" });
    expect(mergePatch(obj, out)).toEqual({ spec: { template: { metadata: { annotations: { [RESTARTED_AT]: "2026-12-06T09:30:00Z" } } } } });
  });

  it("scale sets replicas from its parameter, defaulting the form to the current count, and refuses a count that is not one", () => {
    expect(builtinActions(workload("Deployment")).find((a) => a.name === "scale")?.params).toEqual([{ name: "replicas", default: "2" }]);
    expect(mergePatch(workload("Deployment"), runBuiltin("scale", workload("Deployment"), { replicas: "5" }, NOW))).toEqual({ spec: { replicas: 5 } });
    expect(() => runBuiltin("scale", workload("Deployment"), { replicas: "many" }, NOW)).toThrow(/--param replicas=N/);
    expect(() => runBuiltin("scale", workload("Deployment"), {}, NOW)).toThrow(/got none/);
  });

  it.each([
    [undefined, { suspend: false, resume: true }, "suspend", { spec: { suspend: true } }],
    [true, { suspend: true, resume: false }, "resume", { spec: { suspend: false } }],
  ] as const)("a CronJob with suspend=%s has %j disabled; %s patches %j", (suspend, disabled, action, patch) => {
    const obj = cronJob(suspend);
    expect(Object.fromEntries(builtinActions(obj).map((a) => [a.name, a.disabled]))).toEqual(disabled);
    expect(mergePatch(obj, runBuiltin(action, obj, {}, NOW))).toEqual(patch);
  });

  it("runs no action a kind does not have", () => {
    expect(runBuiltin("restart", cronJob(), {}, NOW)).toBeUndefined();
    expect(runBuiltin("toString", workload("Deployment"), {}, NOW)).toBeUndefined();
  });

  it("mergePatch removes a field with null and leaves equal ones out", () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 } }, { a: 1, b: { c: 2 } })).toEqual({ b: { d: null } });
  });
});
