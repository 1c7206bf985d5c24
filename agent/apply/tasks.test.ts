import { describe, expect, it } from "vitest";
import type { Manifest } from "../api/types.ts";
import { plan } from "./plan.ts";
import { isFinal, nextStep, planTasks, waveGate, type Task, type TaskState } from "./tasks.ts";

const cm = (name: string, annotations: Record<string, string> = {}): Manifest => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, annotations } });
const hook = (name: string, type: string, wave?: number) =>
  cm(name, { "argocd.argoproj.io/hook": type, ...(wave === undefined ? {} : { "argocd.argoproj.io/sync-wave": String(wave) }) });
const wave = (name: string, w: number) => cm(name, { "argocd.argoproj.io/sync-wave": String(w) });
const planned = (manifests: Manifest[]) =>
  plan({ app: { name: "web", namespace: "tether-system" }, manifests, defaultNamespace: "web", isNamespaced: (_a, kind) => kind !== "Namespace" });
const tasksOf = (manifests: Manifest[]): Task[] => {
  const all = planned(manifests);
  return planTasks(all.filter((o) => !o.hook), all.filter((o) => o.hook));
};
/** `group phase@wave: what` per task, as a person reads the plan. */
const show = (tasks: readonly Task[]) => tasks.map((t) =>
  `${t.group} ${t.phase}@${t.wave}: ${t.kind === "apply" ? t.objects.map((o) => o.ref.name).join(" ") : t.kind === "hook" ? `hook ${t.run.object.ref.name}` : "prune"}`);

describe("planTasks: one sorted list", () => {
  it("PreSync hooks by wave, Namespaces, each wave with its Sync hooks, prune, PostSync, then SyncFail apart", () => {
    expect(show(tasksOf([
      hook("post", "PostSync"), wave("b", 2), hook("maint", "Sync", 1), cm("a"),
      hook("schema", "PreSync", 1), hook("backup", "PreSync", -1), { apiVersion: "v1", kind: "Namespace", metadata: { name: "web" } },
      hook("notify", "SyncFail"), hook("page", "SyncFail", 3),
    ]))).toEqual([
      "0 PreSync@-1: hook backup", "1 PreSync@1: hook schema", "2 Sync@0: web", "3 Sync@0: a", "4 Sync@1: hook maint", "5 Sync@2: b",
      "6 Prune@0: prune", "7 PostSync@0: hook post", "8 SyncFail@0: hook notify", "9 SyncFail@3: hook page",
    ]);
  });

  it("runs a hook that names two phases in each, and a wave's objects with its Sync hooks in one group", () => {
    expect(show(tasksOf([hook("twice", "PreSync,PostSync"), cm("a"), hook("s", "Sync")]))).toEqual([
      "0 PreSync@0: hook twice", "1 Sync@0: a", "1 Sync@0: hook s", "2 Prune@0: prune", "3 PostSync@0: hook twice",
    ]);
  });

  it("plans a generateName hook under its prefix and leaves Skip and Helm test hooks out", () => {
    const all = planned([
      { apiVersion: "batch/v1", kind: "Job", metadata: { generateName: "migrate-", annotations: { "argocd.argoproj.io/hook": "PreSync" } } },
      hook("skipped", "Skip"), cm("t", { "helm.sh/hook": "test" }),
    ]);
    expect(all.map((o) => [o.ref.name, o.hook?.generateName])).toEqual([["migrate-", "migrate-"]]);
  });

  it("takes the last wave that applies or runs something as final (prune aside): its objects need not be healthy", () => {
    const tasks = tasksOf([cm("a"), wave("b", 1)]);
    expect([isFinal(tasks, 0), isFinal(tasks, 1)]).toEqual([false, true]);
    const withPost = tasksOf([cm("a"), hook("post", "PostSync")]);
    expect(isFinal(withPost, 0)).toBe(false);
  });
});

describe("nextStep: from the tasks' states to what happens next", () => {
  const tasks = tasksOf([hook("pre", "PreSync"), cm("a"), wave("b", 1), hook("post", "PostSync"), hook("onfail", "SyncFail")]);
  const id = (what: string) => tasks.find((t) => show([t])[0]!.endsWith(what))!.id;
  type Given = Record<string, TaskState["state"] | [TaskState["state"], string]>;
  const states = (entries: Given) =>
    new Map(Object.entries(entries).map(([k, v]) => [id(k), Array.isArray(v) ? { state: v[0], message: v[1] } : { state: v }]));
  const ran = (next: ReturnType<typeof nextStep>) => next.kind === "run" ? next.tasks.map((t) => show([t])[0]!.replace(/^\d+ /, "")) : next;

  it.each<{ name: string; given: Given; expected: unknown }>([
    { name: "nothing run yet: the PreSync hooks", given: {}, expected: ["PreSync@0: hook pre"] },
    { name: "a PreSync hook running: wait for it", given: { "hook pre": ["running", "PreSync hook ConfigMap/web/pre to complete"] },
      expected: { kind: "wait", message: "PreSync hook ConfigMap/web/pre to complete" } },
    { name: "PreSync done: wave 0", given: { "hook pre": "succeeded" }, expected: ["Sync@0: a"] },
    { name: "wave 0 not healthy yet: wait", given: { "hook pre": "succeeded", ": a": ["running", "wave 0 to become healthy: x"] },
      expected: { kind: "wait", message: "wave 0 to become healthy: x" } },
    { name: "wave 0 healthy: wave 1", given: { "hook pre": "succeeded", ": a": "succeeded" }, expected: ["Sync@1: b"] },
    { name: "all waves done: prune", given: { "hook pre": "succeeded", ": a": "succeeded", ": b": "succeeded" }, expected: ["Prune@0: prune"] },
    { name: "pruned objects still terminating: wait", given: { "hook pre": "succeeded", ": a": "succeeded", ": b": "succeeded", prune: ["running", "deletion of ConfigMap/web/old"] },
      expected: { kind: "wait", message: "deletion of ConfigMap/web/old" } },
    { name: "pruned: PostSync", given: { "hook pre": "succeeded", ": a": "succeeded", ": b": "succeeded", prune: "succeeded" }, expected: ["PostSync@0: hook post"] },
    { name: "everything succeeded: the operation Succeeded (SyncFail never runs)",
      given: { "hook pre": "succeeded", ": a": "succeeded", ": b": "succeeded", prune: "succeeded", "hook post": "succeeded" },
      expected: { kind: "done", phase: "Succeeded", message: "successfully synced (all tasks run)" } },
    { name: "a failed PreSync hook: the SyncFail hooks run", given: { "hook pre": ["failed", "PreSync hook ConfigMap/web/pre failed: boom"] }, expected: ["SyncFail@0: hook onfail"] },
    { name: "a SyncFail hook running: wait, naming the failure",
      given: { "hook pre": ["failed", "PreSync hook ConfigMap/web/pre failed: boom"], "hook onfail": "running" },
      expected: { kind: "wait", message: "PreSync hook ConfigMap/web/pre failed: boom; SyncFail hook ConfigMap/web/onfail running" } },
    { name: "SyncFail hooks done: the operation Failed with the first failure",
      given: { ": a": ["failed", "ConfigMap/web/a: HTTP 422"], "hook onfail": "succeeded" }, expected: { kind: "done", phase: "Failed", message: "ConfigMap/web/a: HTTP 422" } },
    { name: "a SyncFail hook failed too: both named",
      given: { ": a": ["failed", "ConfigMap/web/a: HTTP 422"], "hook onfail": ["failed", "SyncFail hook ConfigMap/web/onfail failed: x"] },
      expected: { kind: "done", phase: "Failed", message: "ConfigMap/web/a: HTTP 422; one or more SyncFail hooks failed: SyncFail hook ConfigMap/web/onfail failed: x" } },
    { name: "a failure wins over a task still running", given: { "hook pre": "succeeded", ": a": ["failed", "wave 0: Deployment/web/a is Degraded"], ": b": "running" },
      expected: ["SyncFail@0: hook onfail"] },
  ])("$name", ({ given, expected }) => {
    expect(ran(nextStep(tasks, states(given)))).toEqual(expected);
  });

  it("an operation without SyncFail hooks ends Failed at once", () => {
    const bare = tasksOf([cm("a")]);
    expect(nextStep(bare, new Map([[bare[0]!.id, { state: "failed", message: "ConfigMap/web/a: HTTP 403" }]]))).toEqual({ kind: "done", phase: "Failed", message: "ConfigMap/web/a: HTTP 403" });
  });
});

describe("waveGate", () => {
  const deployment = (name: string, status: Record<string, unknown>): Manifest => ({
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: "web", generation: 1 },
    spec: { replicas: 1 }, status: { observedGeneration: 1, ...status },
  });
  const available = deployment("ok", { replicas: 1, updatedReplicas: 1, availableReplicas: 1, readyReplicas: 1 });
  const rolling = deployment("rolling", { replicas: 1, updatedReplicas: 0 });
  const stuck = deployment("stuck", { conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: "deadline exceeded" }] });

  it.each([
    { name: "all healthy: the next group starts", live: [available, cm("a")], expected: { kind: "ready" } },
    { name: "one progressing: wait, naming it", live: [available, rolling], expected: { kind: "wait", reason: expect.stringMatching(/^Deployment\/web\/rolling is Progressing/) } },
    { name: "one missing: wait", live: [undefined], expected: { kind: "wait", reason: "an object is Missing" } },
    { name: "one Degraded: the operation fails, even with another still progressing", live: [rolling, stuck], expected: { kind: "failed", reason: expect.stringMatching(/^Deployment\/web\/stuck is Degraded/) } },
  ])("$name", ({ live, expected }) => {
    expect(waveGate(live)).toEqual(expected);
  });
});
