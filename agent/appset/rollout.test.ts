import { describe, expect, it } from "vitest";
import type { AppSetApplicationStatus, Application, ApplicationSet, RollingSyncStep } from "../api/types.ts";
import { allowedToSync, maxUpdateOf, progressing, rollout, stepsOf, withoutAutomated } from "./rollout.ts";

const steps: RollingSyncStep[] = [
  { matchExpressions: [{ key: "env", operator: "In", values: ["dev"] }] },
  { matchExpressions: [{ key: "env", operator: "In", values: ["prod"] }], maxUpdate: "50%" },
];

function set(applicationStatus: AppSetApplicationStatus[] = [], s: RollingSyncStep[] = steps): ApplicationSet {
  return {
    apiVersion: "tether.dev/v1alpha1", kind: "ApplicationSet", metadata: { name: "s" },
    spec: { generators: [], template: {}, strategy: { type: "RollingSync", rollingSync: { steps: s } } },
    status: { applicationStatus },
  };
}

function app(name: string, env: string, sync: "Synced" | "OutOfSync", health: "Healthy" | "Progressing" = "Healthy"): Application {
  return {
    apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name, labels: { env } },
    spec: { destination: {} }, status: { sync: { status: sync, revision: "r1" }, health: { status: health } },
  };
}

const T0 = "2026-12-06T09:00:00.000Z";
const entry = (application: string, status: AppSetApplicationStatus["status"], step: string): AppSetApplicationStatus =>
  ({ application, status, step, message: "", lastTransitionTime: T0, targetRevisions: ["r1"] });

describe("stepsOf", () => {
  it.each<[string, Record<string, string>, number | undefined]>([
    ["In with the value", { env: "dev" }, 0],
    ["In without the label", {}, undefined],
    ["In with another value", { env: "qa" }, undefined],
  ])("%s", (_t, labels, step) => {
    expect(stepsOf(steps, [{ name: "a", labels }]).stepOf.get("a")).toBe(step);
  });

  it("takes NotIn as true without the label and false on a listed value, every expression ANDed", () => {
    const s: RollingSyncStep[] = [{ matchExpressions: [{ key: "env", operator: "NotIn", values: ["prod"] }, { key: "tier", operator: "In", values: ["web"] }] }];
    const result = stepsOf(s, [{ name: "a", labels: { tier: "web" } }, { name: "b", labels: { env: "prod", tier: "web" } }, { name: "c", labels: {} }]);
    expect(result.byStep).toEqual([["a"]]);
  });

  it("names unknown operators, apps selected twice and empty steps", () => {
    const s: RollingSyncStep[] = [{ matchExpressions: [] }, { matchExpressions: [] }, { matchExpressions: [{ key: "x", operator: "Exists" }] }];
    expect(stepsOf(s, [{ name: "a", labels: {} }]).issues).toEqual(
      ["Application a is selected by steps 1 and 2", "step 3: operator Exists is not In or NotIn", "step 3 selects no Application"]);
  });
});

describe("maxUpdateOf", () => {
  it.each<[number | string | undefined, number, number]>([
    [undefined, 7, 7], [2, 7, 2], [0, 7, 0], ["50%", 7, 3], ["10%", 3, 1], ["0%", 3, 0], ["100%", 4, 4],
  ])("maxUpdate %s of %s apps is %s", (value, total, expected) => {
    expect(maxUpdateOf(value, total)).toBe(expected);
  });
});

describe("rollout", () => {
  const now = "2026-12-06T09:00:05.000Z";
  const run = (s: ApplicationSet, live: Application[]) => rollout({ set: s, live, desiredSpecs: new Map(live.map((a) => [a.metadata?.name ?? "", a.spec])), now });

  it("syncs the first step only, while a later step waits", () => {
    const r = run(set(), [app("dev-1", "dev", "OutOfSync"), app("prod-1", "prod", "OutOfSync"), app("prod-2", "prod", "OutOfSync")]);
    expect([...r.sync]).toEqual(["dev-1"]);
    expect(r.applicationStatus.map((s) => [s.application, s.status, s.step])).toEqual([
      ["dev-1", "Pending", "1"], ["prod-1", "Waiting", "2"], ["prod-2", "Waiting", "2"]]);
    expect(r.condition).toEqual({ status: "True", reason: "ApplicationSetModified", message: "ApplicationSet is performing rollout of step 1" });
  });

  it("moves to the next step once every app of the earlier one is Healthy and Synced, at most maxUpdate at once", () => {
    const prev = [entry("dev-1", "Progressing", "1"), entry("prod-1", "Waiting", "2"), entry("prod-2", "Waiting", "2")];
    const r = run(set(prev), [app("dev-1", "dev", "Synced"), app("prod-1", "prod", "OutOfSync"), app("prod-2", "prod", "OutOfSync")]);
    expect(r.applicationStatus.map((s) => s.status)).toEqual(["Healthy", "Pending", "Waiting"]);
    expect([...r.sync]).toEqual(["prod-1"]);
    expect(r.condition.message).toBe("ApplicationSet is performing rollout of step 2");
  });

  it("holds the next step while an earlier app is Synced but not Healthy", () => {
    const prev = [entry("dev-1", "Progressing", "1"), entry("prod-1", "Waiting", "2")];
    const r = run(set(prev), [app("dev-1", "dev", "Synced", "Progressing"), app("prod-1", "prod", "OutOfSync")]);
    expect(r.sync.size).toBe(0);
    expect(r.applicationStatus.map((s) => s.status)).toEqual(["Progressing", "Waiting"]);
  });

  it("takes a Pending app to Progressing once its sync started after the transition, and asks no second sync", () => {
    const prev = [entry("dev-1", "Pending", "1")];
    const started = app("dev-1", "dev", "OutOfSync", "Progressing");
    started.status = { ...started.status, operationState: { phase: "Running", startedAt: "2026-12-06T09:00:01.000Z" } };
    const r = run(set(prev), [started]);
    expect(r.applicationStatus[0]?.status).toBe("Progressing");
    expect(r.sync.size).toBe(0);
  });

  it("does not ask again while the requested sync is still on the app", () => {
    const pending = { ...app("dev-1", "dev", "OutOfSync"), operation: { sync: {} } };
    expect(run(set([entry("dev-1", "Pending", "1")]), [pending]).sync.size).toBe(0);
  });

  it("puts an app back to Waiting when its revision changed", () => {
    const moved = app("dev-1", "dev", "OutOfSync");
    moved.status = { ...moved.status, sync: { status: "OutOfSync", revision: "r2" } };
    const r = run(set([entry("dev-1", "Healthy", "1")]), [moved]);
    expect(r.applicationStatus[0]?.status).toBe("Pending");
    expect(r.applicationStatus[0]?.targetRevisions).toEqual(["r2"]);
  });

  it("says the rollout completed when every step is Healthy", () => {
    expect(progressing(2, [entry("a", "Healthy", "1"), entry("b", "Healthy", "2")]))
      .toEqual({ status: "False", reason: "ApplicationSetRolloutComplete", message: "ApplicationSet Rollout has completed" });
  });

  it("never syncs an app no step selects", () => {
    const r = run(set(), [app("qa-1", "qa", "OutOfSync")]);
    expect(r.sync.size).toBe(0);
    expect(r.applicationStatus[0]?.step).toBe("-1");
  });
});

describe("allowedToSync", () => {
  it("allows steps up to the first not wholly Healthy", () => {
    const plan = stepsOf(steps, [{ name: "d", labels: { env: "dev" } }, { name: "p", labels: { env: "prod" } }]);
    const healthy = new Map([["d", entry("d", "Healthy", "1")]]);
    expect([...allowedToSync(plan, healthy, new Set(["d", "p"]))]).toEqual(["d", "p"]);
    expect([...allowedToSync(plan, new Map(), new Set(["d", "p"]))]).toEqual(["d"]);
  });
});

describe("withoutAutomated", () => {
  it("takes automated sync off and remembers its prune for the sync the set requests", () => {
    expect(withoutAutomated({ destination: {}, syncPolicy: { automated: { prune: true }, syncOptions: ["CreateNamespace=true"] } }))
      .toEqual({ spec: { destination: {}, syncPolicy: { syncOptions: ["CreateNamespace=true"] } }, prune: true });
  });
});
