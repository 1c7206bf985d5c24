import { describe, expect, it } from "vitest";
import { FINALIZER, POST_DELETE_FINALIZER, type Application, type ApplicationSet } from "../api/types.ts";
import { desiredApplication, duplicateNames, planChanges, type ApplicationsSync } from "./plan.ts";

const NS = "tether-system";

function set(policy?: ApplicationsSync, extra: Partial<ApplicationSet["spec"]> = {}, name = "guestbook"): ApplicationSet {
  return {
    apiVersion: "tether.dev/v1alpha1", kind: "ApplicationSet", metadata: { name, namespace: NS, uid: `uid-${name}` },
    spec: { generators: [], template: {}, ...(policy ? { syncPolicy: { applicationsSync: policy } } : {}), ...extra },
  };
}

const spec = (path: string) => ({ project: "default", source: { repoURL: "https://example.com/r.git", path }, destination: { namespace: "x" } });

function want(s: ApplicationSet, name: string, path = name): Application {
  return desiredApplication(s, { metadata: { name, finalizers: [FINALIZER] }, spec: spec(path) }, NS);
}

/** A live Application as the API server returns it: owned by `owner` (a set), or by nothing. */
function live(name: string, owner: ApplicationSet | undefined, path = name): Application {
  const app = owner ? want(owner, name, path) : { apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name, namespace: NS }, spec: spec(path) };
  return { ...app, metadata: { ...app.metadata, resourceVersion: "7", uid: `app-${name}` }, status: { sync: { status: "Synced" } } };
}

const names = (apps: readonly Application[]) => apps.map((a) => a.metadata?.name);

describe("planChanges", () => {
  const s = set();
  // Given a (new), b (changed path), c (unchanged), d (gone): what each policy creates, updates, deletes.
  it.each<{ title: string; policy?: ApplicationsSync; create: string[]; update: string[]; del: string[] }>([
    { title: "sync (default) creates, updates and deletes", create: ["a"], update: ["b"], del: ["d"] },
    { title: "create-only only creates", policy: "create-only", create: ["a"], update: [], del: [] },
    { title: "create-update never deletes", policy: "create-update", create: ["a"], update: ["b"], del: [] },
    { title: "create-delete never updates", policy: "create-delete", create: ["a"], update: [], del: ["d"] },
  ])("$title", ({ policy, create, update, del }) => {
    const p = set(policy);
    const changes = planChanges(p, [want(p, "a"), want(p, "b", "new"), want(p, "c")], [live("b", p), live("c", p), live("d", p)]);
    expect(names(changes.create)).toEqual(create);
    expect(names(changes.update)).toEqual(update);
    expect(changes.delete).toEqual(del);
    expect(changes.unchanged).toEqual(["c"]);
  });

  it("never writes or deletes an Application another set controls: a conflict naming the owner", () => {
    const other = set(undefined, {}, "first");
    const changes = planChanges(s, [want(s, "a")], [live("a", other)]);
    expect(changes).toMatchObject({ create: [], update: [], delete: [], conflicts: [{ name: "a", owner: "first" }] });
  });

  it("never adopts an Application nobody controls (one applied by hand or by an app-of-apps)", () => {
    expect(planChanges(s, [want(s, "a")], [live("a", undefined)]).conflicts).toEqual([{ name: "a", owner: "nobody" }]);
  });

  it("does not take a re-created set's name as the old set's uid", () => {
    const old = { ...s, metadata: { ...s.metadata, uid: "old" } };
    expect(planChanges(s, [want(s, "a")], [live("a", old)]).conflicts).toHaveLength(1);
  });

  it("keeps an Application generated but refused (a project rule): not written, not deleted", () => {
    expect(planChanges(s, [], [live("a", s)], ["a"]).delete).toEqual([]);
  });

  it("leaves the other owners' fields: a refresh annotation, a requested sync, the post-delete finalizer", () => {
    const current = live("a", s);
    current.metadata = { ...current.metadata, annotations: { "tether.dev/refresh": "now" },
      finalizers: [FINALIZER, POST_DELETE_FINALIZER] };
    current.operation = { sync: { prune: true } };
    expect(planChanges(s, [want(s, "a")], [current]).unchanged).toEqual(["a"]);
    const updated = planChanges(s, [want(s, "a", "moved")], [current]).update[0];
    expect(updated?.metadata?.annotations).toEqual({ "tether.dev/refresh": "now" });
    expect(updated?.metadata?.finalizers).toEqual([FINALIZER, POST_DELETE_FINALIZER]);
    expect(updated?.operation).toEqual({ sync: { prune: true } });
    expect(updated?.metadata?.resourceVersion).toBe("7");
  });

  it("keeps preservedFields labels as they are live", () => {
    const p = set(undefined, { preservedFields: { labels: ["team"] } });
    const current = live("a", p);
    current.metadata = { ...current.metadata, labels: { team: "blue" } };
    expect(planChanges(p, [want(p, "a")], [current]).unchanged).toEqual(["a"]);
  });

  it("waits for an Application being deleted instead of writing it", () => {
    const current = live("a", s);
    current.metadata = { ...current.metadata, deletionTimestamp: new Date() };
    expect(planChanges(s, [want(s, "a", "other")], [current])).toMatchObject({ update: [], held: ["a"] });
  });
});

describe("desiredApplication", () => {
  it("puts the Application in the agent namespace with the set as its controller, finalizers as generated", () => {
    const app = desiredApplication(set(), { metadata: { name: "a", namespace: "argocd", finalizers: [FINALIZER] }, spec: spec("a") }, NS);
    expect(app.metadata?.ownerReferences).toEqual([{ apiVersion: "tether.dev/v1alpha1", kind: "ApplicationSet", name: "guestbook",
      uid: "uid-guestbook", controller: true, blockOwnerDeletion: true }]);
    expect(app.metadata?.namespace).toBe(NS);
    expect(app.metadata?.finalizers).toEqual([FINALIZER]);
  });

  it("fills spec.project as the API server defaults it, so an unchanged app is not rewritten", () => {
    const app = desiredApplication(set(), { metadata: { name: "a" }, spec: { destination: {} } }, NS);
    expect(app.spec.project).toBe("default");
  });
});

describe("duplicateNames", () => {
  it("names every Application generated twice", () => {
    expect(duplicateNames(["a", "b", "a", "c", "b"].map((name) => ({ metadata: { name }, spec: {} })))).toEqual(["a", "b"]);
  });
});
