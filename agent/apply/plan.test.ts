import { describe, expect, it } from "vitest";
import type { Manifest } from "../api/types.ts";
import { batches, optionsOf, plan } from "./plan.ts";
import { pruneOrder } from "./sync.ts";

const cm = (name: string, annotations: Record<string, string> = {}, namespace?: string): Manifest =>
  ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, annotations, ...(namespace ? { namespace } : {}) } });
const SCOPES: Readonly<Record<string, boolean>> = { "v1/ConfigMap": true, "v1/Namespace": false, "apiextensions.k8s.io/v1/CustomResourceDefinition": false };
const scopes = (apiVersion: string, kind: string): boolean | undefined => SCOPES[`${apiVersion}/${kind}`];
const input = (manifests: Manifest[], appSyncOptions: string[] = []) =>
  ({ app: { name: "web", namespace: "tether-system" }, manifests, defaultNamespace: "web", isNamespaced: scopes, appSyncOptions });

describe("plan", () => {
  it("tells apart objects whose group and name run together (Foo/a in bc.io, Foo/ab in c.io)", () => {
    const foo = (group: string, name: string): Manifest => ({ apiVersion: `${group}/v1`, kind: "Foo", metadata: { name, namespace: "web" } });
    const out = plan({ ...input([foo("bc.io", "a"), foo("c.io", "ab")]), isNamespaced: () => true });
    expect(out.map((o) => `${o.ref.group}:${o.ref.name}`)).toEqual(["bc.io:a", "c.io:ab"]);
  });

  it("puts namespaced objects without a namespace in the destination namespace, and strips it from cluster-scoped ones", () => {
    const out = plan(input([cm("a"), cm("b", {}, "other"), { apiVersion: "v1", kind: "Namespace", metadata: { name: "web", namespace: "x" } }]));
    expect(out.map((o) => `${o.ref.kind}/${o.ref.namespace ?? "-"}/${o.ref.name}`)).toEqual(["Namespace/-/web", "ConfigMap/web/a", "ConfigMap/other/b"]);
  });

  it("orders CRDs and Namespaces first, then by sync wave (either annotation spelling)", () => {
    const out = plan(input([
      cm("late", { "argocd.argoproj.io/sync-wave": "2" }), cm("early", { "tether.dev/sync-wave": "-1" }), cm("default"),
      { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "crontabs.example.com" } },
    ]));
    expect(out.map((o) => o.ref.name)).toEqual(["crontabs.example.com", "early", "default", "late"]);
    expect(batches(out).map((b) => b.map((o) => o.ref.name))).toEqual([["crontabs.example.com"], ["early"], ["default"], ["late"]]);
  });

  it("tracks every object with the app's label and a tracking id naming the object", () => {
    const [o] = plan(input([cm("a")]));
    expect(o?.manifest.metadata.labels).toEqual({ "tether.dev/app": "web" });
    expect(o?.manifest.metadata.annotations?.["tether.dev/tracking-id"]).toBe("tether-system/web:/ConfigMap:web/a");
  });

  it("takes an object rendered twice identically once its namespace is placed (explicit or defaulted) as one, and says so", () => {
    const repeated: string[] = [];
    const ns = (namespace?: string): Manifest => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team", ...(namespace ? { namespace } : {}) } });
    const out = plan({ ...input([cm("a"), cm("a", {}, "web"), ns(), ns("web")]), onRepeated: (m) => repeated.push(m) });
    expect(out.map((o) => `${o.ref.kind}/${o.ref.namespace ?? "-"}/${o.ref.name}`)).toEqual(["Namespace/-/team", "ConfigMap/web/a"]);
    expect(repeated).toEqual(["Resource ConfigMap/web/a appeared 2 times among application resources.", "Resource Namespace/team appeared 2 times among application resources."]);
    expect(plan(input([cm("a"), cm("a", {}, "other")])).map((o) => o.ref.namespace)).toEqual(["web", "other"]);
  });

  it("refuses an object rendered twice with different content, a wave that is not a number, and a kind the server does not serve", () => {
    expect(() => plan(input([cm("a"), cm("a", { "tether.dev/sync-wave": "1" }, "web")]))).toThrow(/ConfigMap\/web\/a is rendered twice with different content/);
    expect(() => plan(input([cm("a", { "tether.dev/sync-wave": "soon" })]))).toThrow(/sync-wave "soon" is not an integer/);
    expect(() => plan(input([{ apiVersion: "example.com/v1", kind: "CronTab", metadata: { name: "x" } }]))).toThrow(/does not serve kind CronTab/);
  });

  it("skips objects marked with the Skip hook", () => {
    expect(plan(input([cm("a", { "argocd.argoproj.io/hook": "Skip" }), cm("b")])).map((o) => o.ref.name)).toEqual(["b"]);
  });
});

describe("sync options", () => {
  it.each([
    { own: undefined, app: [], want: { prune: true, pruneLast: false } },
    { own: "Prune=false", app: [], want: { prune: false, pruneLast: false } },
    { own: "Prune=false, PruneLast=true", app: [], want: { prune: false, pruneLast: true } },
    { own: undefined, app: ["PruneLast=true"], want: { prune: true, pruneLast: true } },
    { own: "PruneLast=false", app: ["PruneLast=true"], want: { prune: true, pruneLast: false } },
  ])("object $own with app options $app", ({ own, app, want }) => {
    const obj = cm("a", own === undefined ? {} : { "argocd.argoproj.io/sync-options": own });
    expect(optionsOf(obj, app)).toMatchObject(want);
  });

  it("prunes contents before their Namespaces and CRDs, and PruneLast objects after everything else", () => {
    const ref = (kind: string, name: string) => ({ group: "", version: "v1", kind, name });
    const order = pruneOrder([
      { ref: ref("Namespace", "ns") }, { ref: ref("ConfigMap", "last"), pruneLast: true }, { ref: ref("ConfigMap", "a") },
      { ref: ref("Namespace", "ns-last"), pruneLast: true },
    ]);
    expect(order.map((g) => g.map((s) => s.ref.name))).toEqual([["a"], ["ns"], ["last"], ["ns-last"]]);
  });
});
