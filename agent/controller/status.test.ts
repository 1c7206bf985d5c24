import { describe, expect, it } from "vitest";
import type { Application, Manifest } from "../api/types.ts";
import type { Change } from "../apply/changeset.ts";
import { inventoryOf } from "../apply/inventory.ts";
import { plan, type PlannedObject } from "../apply/plan.ts";
import { match } from "./match.ts";
import { buildStatus, errorStatus, type ComparedPair, type StatusInput } from "./status.ts";

const NOW = "2026-12-01T10:00:00Z";
const app = (status: Application["status"] = {}): Application => ({
  apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "web", namespace: "tether-system" },
  spec: { source: { repoURL: "https://git.example.com/a.git" }, destination: { namespace: "web" } }, status,
});
const cm = (name: string): Manifest => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });
const planned = (names: string[]): PlannedObject[] =>
  plan({ app: { name: "web", namespace: "tether-system" }, manifests: names.map(cm), defaultNamespace: "web", isNamespaced: () => true });
const live = (o: PlannedObject, owner?: string): Manifest =>
  ({ ...o.manifest, metadata: { ...o.manifest.metadata, ...(owner ? { annotations: { "tether.dev/tracking-id": owner } } : {}) } });

const op = (phase: "Running" | "Succeeded" | "Failed", message = ""): StatusInput["operation"] => ({ phase, message, startedAt: NOW, hooks: [] });

function input(over: Partial<StatusInput> & { pairs: ComparedPair[] }): StatusInput {
  return { app: app(), revision: "abc1234", renderKey: "k1", stale: [], after: new Map(), changes: [], inventory: [], synced: false, now: NOW, ...over };
}

describe("match", () => {
  it("pairs planned and live objects and sets apart those another app tracks", () => {
    const [a, b] = planned(["a", "b"]);
    const m = match([a!, b!], [live(a!, a!.manifest.metadata.annotations?.["tether.dev/tracking-id"]), live(b!, "tether-system/other:/ConfigMap:web/b")], []);
    expect(m.pairs.map((p) => [p.planned.ref.name, p.sharedWith])).toEqual([["a", undefined], ["b", "tether-system/other"]]);
  });
});

describe("buildStatus", () => {
  const [a, b] = planned(["a", "b"]);

  it("is Synced and Healthy when every object is in sync; a ConfigMap is listed without health, as in Argo CD", () => {
    const s = buildStatus(input({ pairs: [{ planned: a!, live: live(a!), inSync: true }] }));
    expect(s).toMatchObject({ sync: { status: "Synced", revision: "abc1234" }, health: { status: "Healthy" }, conditions: [] });
    expect(s.resources).toEqual([{ version: "v1", kind: "ConfigMap", namespace: "web", name: "a", status: "Synced" }]);
  });

  it("writes the inventory as exceptions to the resources, and drops the old inventory it read", () => {
    const previous = app({ inventory: ["web_a__ConfigMap_v1", "web_gone__ConfigMap_v1"], resources: [] });
    const s = buildStatus(input({ app: previous, pairs: [{ planned: a!, live: live(a!), inSync: true }, { planned: b!, live: undefined, inSync: false }],
      inventory: ["web_a__ConfigMap_v1", "web_gone__ConfigMap_v1"] }));
    expect(s.inventory).toBeUndefined();
    expect(s.inventoryFromResources).toEqual({ except: ["web_b__ConfigMap_v1"], also: ["web_gone__ConfigMap_v1"] });
    expect(inventoryOf(s)).toEqual(["web_a__ConfigMap_v1", "web_gone__ConfigMap_v1"]);
  });

  it("is OutOfSync with a missing object, and Missing is its health", () => {
    const s = buildStatus(input({ pairs: [{ planned: a!, live: undefined, inSync: false }] }));
    expect(s).toMatchObject({ sync: { status: "OutOfSync" }, health: { status: "Missing" } });
  });

  it("lists a missing object's health Missing only for a kind with a health check, as a live one's", () => {
    const [deployment] = plan({ app: { name: "web", namespace: "tether-system" }, defaultNamespace: "web", isNamespaced: () => true,
      manifests: [{ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "api" }, spec: { replicas: 1 } }] });
    const s = buildStatus(input({ pairs: [{ planned: a!, live: undefined, inSync: false }, { planned: deployment!, live: undefined, inSync: false }] }));
    expect(s.resources?.map((r) => [r.kind, r.status, r.health?.status])).toEqual([["ConfigMap", "OutOfSync", undefined], ["Deployment", "OutOfSync", "Missing"]]);
    expect(s.health?.status).toBe("Missing");
  });

  it("names a failed apply in SyncError and a failed prune in PruneFailed, and records a Failed operation without history", () => {
    const stale = { group: "", version: "v1", kind: "ConfigMap", namespace: "web", name: "old" };
    const changes: Change[] = [{ ref: a!.ref, action: "failed", message: "HTTP 422: field is immutable" }, { ref: stale, action: "failed", message: "HTTP 403" }];
    const s = buildStatus(input({ pairs: [{ planned: a!, live: live(a!), inSync: false }], stale: [{ ref: stale, live: cm("old") }], changes, synced: true, operation: op("Failed") }));
    expect(s.conditions?.map((c) => `${c.type}: ${c.message}`)).toEqual(["SyncError: ConfigMap/web/a: HTTP 422: field is immutable", "PruneFailed: ConfigMap/web/old: HTTP 403"]);
    expect(s.operationState?.phase).toBe("Failed");
    expect(s.history).toBeUndefined();
    expect(s.observedRenderKey).toBeUndefined();
  });

  it("reports a refused dry-run as a ComparisonError when no sync ran", () => {
    const s = buildStatus(input({ pairs: [{ planned: a!, live: live(a!), inSync: false, error: "HTTP 422: spec.selector: field is immutable" }] }));
    expect(s.conditions?.[0]).toMatchObject({ type: "ComparisonError", message: "ConfigMap/web/a: HTTP 422: spec.selector: field is immutable" });
  });

  it("shows objects another app manages as OutOfSync with a SharedResource condition", () => {
    const s = buildStatus(input({ pairs: [{ planned: b!, live: live(b!), inSync: false, sharedWith: "tether-system/other" }] }));
    expect(s.resources?.[0]?.status).toBe("OutOfSync");
    expect(s.conditions?.[0]?.message).toBe("ConfigMap/web/b is already managed by tether-system/other; not taken over");
  });

  it("adds a history entry for a sync that changed something at a new revision, and none for one that changed nothing", () => {
    const previous = app({ history: [{ id: 0, revision: "old0000", deployedAt: "2026-11-30T00:00:00Z" }], observedRenderKey: "k0" });
    const created = buildStatus(input({ app: previous, pairs: [{ planned: a!, live: undefined, inSync: false }], changes: [{ ref: a!.ref, action: "created" }], synced: true, operation: op("Succeeded") }));
    expect(created.history?.map((h) => [h.id, h.revision])).toEqual([[0, "old0000"], [1, "abc1234"]]);
    expect(created.observedRenderKey).toBe("k1");
    const quiet = buildStatus(input({ app: previous, pairs: [{ planned: a!, live: live(a!), inSync: true }], changes: [{ ref: a!.ref, action: "unchanged" }], synced: true, operation: op("Succeeded") }));
    expect(quiet.history).toEqual(previous.status?.history);
    expect(quiet.observedRenderKey).toBe("k1");
  });

  it("records a new revision that renders what is live without an operation or a history entry", () => {
    const previous = app({ history: [{ id: 0, revision: "old0000", deployedAt: "2026-11-30T00:00:00Z" }], observedRenderKey: "k0",
      operationState: { phase: "Succeeded", syncResult: { revision: "old0000" } } });
    const s = buildStatus(input({ app: previous, pairs: [{ planned: a!, live: live(a!), inSync: true }] }));
    expect(s).toMatchObject({ sync: { status: "Synced", revision: "abc1234" }, observedRenderKey: "k1", operationState: { syncResult: { revision: "old0000" } } });
    expect(s.history).toEqual(previous.status?.history);
  });

  it("names the revision an automated sync does not repeat in SyncError, with what failed in its last operation", () => {
    const failedOp = app({ operationState: { phase: "Failed", syncResult: { revision: "abc1234", resources: [
      { ...a!.ref, status: "SyncFailed", message: "HTTP 422" },
      { group: "batch", version: "v1", kind: "Job", namespace: "web", name: "check", status: "Synced", hookType: "PreSync", syncPhase: "PreSync", hookPhase: "Failed", message: "Job has reached the specified backoff limit" },
    ] } } });
    const s = buildStatus(input({ app: failedOp, pairs: [{ planned: a!, live: live(a!), inSync: false }], syncError: "Failed last sync attempt to abc1234: boom" }));
    expect(s.conditions?.map((c) => `${c.type}: ${c.message}`)).toEqual([
      "SyncError: Failed last sync attempt to abc1234: boom; ConfigMap/web/a: HTTP 422; PreSync hook Job/web/check: Job has reached the specified backoff limit",
    ]);
    expect(s.observedRenderKey).toBeUndefined();
  });

  it("keeps a running operation's start while a wave is held", () => {
    const running = app({ operationState: { phase: "Running", startedAt: "2026-12-01T09:59:00Z" } });
    const s = buildStatus(input({ app: running, pairs: [{ planned: a!, live: live(a!), inSync: true }], synced: true, operation: { ...op("Running", "waiting for wave 1 to become healthy")!, startedAt: "2026-12-01T09:59:00Z" } }));
    expect(s.operationState).toEqual({
      phase: "Running", message: "waiting for wave 1 to become healthy", startedAt: "2026-12-01T09:59:00Z", syncResult: { revision: "abc1234", renderKey: "k1", resources: [] },
    });
  });
});

describe("errorStatus", () => {
  it("keeps the last resources and inventory and adds the error's condition", () => {
    const previous = app({ inventory: ["/v1/ConfigMap/web/a"], resources: [], sync: { status: "Synced", revision: "abc" } });
    const s = errorStatus(previous, { reason: "RenderFailed", message: "kustomization.yaml: bad", retryable: false }, undefined, NOW);
    expect(s).toMatchObject({ sync: { status: "Unknown", revision: "abc" }, inventory: ["/v1/ConfigMap/web/a"], conditions: [{ type: "RenderFailed", message: "kustomization.yaml: bad" }] });
  });
});

describe("several sources", () => {
  const [a] = planned(["a"]);
  const sources = [{ repoURL: "https://git.example.com/a.git", path: "plain" }, { repoURL: "oci://registry.example.com/charts", chart: "web", targetRevision: "0.3.*" }];

  it("records one revision per source in sync, the operation and a history entry with the sources, as Argo CD", () => {
    const changes: Change[] = [{ ref: a!.ref, action: "created" }];
    const s = buildStatus(input({ pairs: [{ planned: a!, live: live(a!), inSync: true }], revisions: ["abc1234", "0.3.1"], sources, changes, synced: true, operation: op("Succeeded") }));
    expect(s.sync).toEqual({ status: "Synced", revision: "abc1234", revisions: ["abc1234", "0.3.1"] });
    expect(s.operationState?.syncResult).toMatchObject({ revision: "abc1234", revisions: ["abc1234", "0.3.1"] });
    expect(s.history).toEqual([{ id: 0, revision: "abc1234", revisions: ["abc1234", "0.3.1"], sources, deployedAt: NOW, initiatedBy: { automated: true } }]);
  });

  it("records a new history entry when only the chart version moved", () => {
    const previous = { history: [{ id: 0, revision: "abc1234", revisions: ["abc1234", "0.3.0"], deployedAt: "earlier" }] };
    const s = buildStatus(input({
      app: app(previous), pairs: [{ planned: a!, live: live(a!), inSync: true }], revisions: ["abc1234", "0.3.1"], sources,
      changes: [{ ref: a!.ref, action: "configured" }], synced: true, operation: op("Succeeded"),
    }));
    expect(s.history?.map((h) => h.revisions)).toEqual([["abc1234", "0.3.0"], ["abc1234", "0.3.1"]]);
  });

  it("names what the render ignored in one UnsupportedField condition", () => {
    const s = buildStatus(input({ pairs: [{ planned: a!, live: live(a!), inSync: true }], warnings: ["Application/argocd/x: spec.source.plugin is not implemented by Tether; the field is ignored"] }));
    expect(s.conditions).toEqual([{ type: "UnsupportedField", message: "Application/argocd/x: spec.source.plugin is not implemented by Tether; the field is ignored", lastTransitionTime: NOW }]);
  });

  it("keeps the revisions the reconcile resolved when it stops on an error", () => {
    const s = errorStatus(app(), { reason: "SourceFailed", message: "registry down", retryable: true }, ["abc1234", "0.3.1"], NOW);
    expect(s.sync).toEqual({ status: "Unknown", revision: "abc1234", revisions: ["abc1234", "0.3.1"] });
  });
});

describe("IgnoreExtraneous (Argo CD's compare option)", () => {
  const [a] = planned(["a"]);
  const owner = a!.manifest.metadata.annotations?.["tether.dev/tracking-id"]?.replace("/a", "/extra");
  const extra = (annotations: Record<string, string>) => ({
    ref: { group: "", version: "v1", kind: "ConfigMap", namespace: "web", name: "extra" },
    live: { ...cm("extra"), metadata: { name: "extra", namespace: "web", annotations: { "tether.dev/tracking-id": owner ?? "", ...annotations } } },
  });

  it.each([
    ["an extraneous object makes the app OutOfSync and requires pruning", {}, "OutOfSync", true],
    ["one marked IgnoreExtraneous leaves it Synced, listed OutOfSync itself", { "argocd.argoproj.io/compare-options": "IgnoreExtraneous" }, "Synced", false],
  ])("%s", (_what, annotations, sync, pruning) => {
    const s = buildStatus(input({ pairs: [{ planned: a!, live: live(a!), inSync: true }], stale: [extra(annotations)] }));
    expect(s.sync?.status).toBe(sync);
    expect(s.resources?.find((r) => r.name === "extra")?.status).toBe("OutOfSync");
    expect((s.conditions ?? []).some((c) => c.type === "PruningRequired")).toBe(pruning);
  });

  it("does not hide an object Git holds that differs, whatever it carries", () => {
    const s = buildStatus(input({ pairs: [{ planned: a!, live: { ...live(a!), metadata: { ...live(a!).metadata, annotations: { "argocd.argoproj.io/compare-options": "IgnoreExtraneous" } } }, inSync: false }] }));
    expect(s.sync?.status).toBe("OutOfSync");
  });
});
