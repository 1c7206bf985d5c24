import { describe, expect, it } from "vitest";
import type { Manifest } from "../api/types.ts";
import { planSteps, syncFailSteps } from "./phases.ts";
import { plan } from "./plan.ts";

const cm = (name: string, annotations: Record<string, string> = {}): Manifest => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, annotations } });
const hook = (name: string, type: string, wave?: number) =>
  cm(name, { "argocd.argoproj.io/hook": type, ...(wave === undefined ? {} : { "argocd.argoproj.io/sync-wave": String(wave) }) });
const planned = (manifests: Manifest[]) =>
  plan({ app: { name: "web", namespace: "tether-system" }, manifests, defaultNamespace: "web", isNamespaced: (_a, kind) => kind !== "Namespace" });

function steps(manifests: Manifest[]): string[] {
  const all = planned(manifests);
  return planSteps(all.filter((o) => !o.hook), all.filter((o) => o.hook)).map((s) =>
    `${s.phase}@${s.wave}: ${[...s.resources.map((o) => o.ref.name), ...s.hooks.map((h) => `hook ${h.object.ref.name}`)].join(" ")}`);
}

describe("planSteps", () => {
  it("runs PreSync hooks by wave, then Namespaces, then each wave with its Sync hooks, then PostSync", () => {
    expect(steps([
      hook("post", "PostSync"), cm("b", { "argocd.argoproj.io/sync-wave": "2" }), hook("maint", "Sync", 1), cm("a"),
      hook("schema", "PreSync", 1), hook("backup", "PreSync", -1), { apiVersion: "v1", kind: "Namespace", metadata: { name: "web" } },
      hook("notify", "SyncFail"),
    ])).toEqual([
      "PreSync@-1: hook backup", "PreSync@1: hook schema", "Sync@0: web", "Sync@0: a", "Sync@1: hook maint", "Sync@2: b", "PostSync@0: hook post",
    ]);
  });

  it("runs a hook that names two phases in each of them", () => {
    expect(steps([hook("twice", "PreSync,PostSync"), cm("a")])).toEqual(["PreSync@0: hook twice", "Sync@0: a", "PostSync@0: hook twice"]);
  });

  it("keeps SyncFail hooks apart, by wave", () => {
    const all = planned([hook("late", "SyncFail", 2), hook("early", "SyncFail"), hook("pre", "PreSync")]);
    expect(syncFailSteps(all.filter((o) => o.hook)).map((w) => w.map((h) => h.object.ref.name))).toEqual([["early"], ["late"]]);
  });

  it("plans a generateName hook under its prefix and leaves Skip and Helm test hooks out", () => {
    const all = planned([
      { apiVersion: "batch/v1", kind: "Job", metadata: { generateName: "migrate-", annotations: { "argocd.argoproj.io/hook": "PreSync" } } },
      hook("skipped", "Skip"), cm("t", { "helm.sh/hook": "test" }),
    ]);
    expect(all.map((o) => [o.ref.name, o.hook?.generateName])).toEqual([["migrate-", "migrate-"]]);
  });
});
