import { describe, expect, it } from "vitest";
import { FINALIZER, REFRESH_ANNOTATION, type Application, type Manifest } from "../api/types.ts";
import { finalizerPatch, rollbackPatch, syncPatch } from "./actions.ts";
import { csrfToken, describePermission, sameSecret } from "./auth.ts";
import { buildTree, detail, matches, summarize } from "./model.ts";
import { MAX_PAGE, parseQuery, queryApps, queryParams, type AppQuery, type AppSummary } from "./view.ts";

const app = (over: Partial<Application> = {}): Application => ({
  apiVersion: "tether.dev/v1alpha1", kind: "Application",
  metadata: { name: "guestbook", namespace: "tether-system", labels: { team: "web" } },
  spec: {
    project: "apps", source: { repoURL: "https://git.example.com/gitops.git", path: "apps/guestbook", targetRevision: "main" },
    destination: { server: "https://kubernetes.default.svc", namespace: "guestbook" },
    syncPolicy: { automated: { prune: true, selfHeal: true } },
  },
  status: {
    sync: { status: "Synced", revision: "abc123" }, health: { status: "Healthy" },
    resources: [
      { group: "apps", version: "v1", kind: "Deployment", namespace: "guestbook", name: "web", status: "Synced", health: { status: "Healthy" } },
      { group: "", version: "v1", kind: "Service", namespace: "guestbook", name: "web", status: "Synced", health: { status: "Healthy" } },
    ],
    history: [{ id: 1, revision: "old111", deployedAt: "2026-01-01T00:00:00Z" }, { id: 2, revision: "abc123", deployedAt: "2026-01-02T00:00:00Z" }],
  },
  ...over,
});

const obj = ([apiVersion, kind]: [string, string], name: string, uid: string, owner?: string): Manifest => ({
  apiVersion, kind,
  metadata: { name, namespace: "guestbook", uid, ...(owner ? { ownerReferences: [{ uid: owner, kind: "x", name: "x", apiVersion: "v1" }] } : {}) },
});

describe("the applications list", () => {
  it("shows sync, health, revision, project, destination and the last deploy of an application", () => {
    expect(summarize(app())).toMatchObject({
      name: "guestbook", project: "apps", sync: "Synced", health: "Healthy", revision: "abc123",
      destination: { namespace: "guestbook" }, lastSync: "2026-01-02T00:00:00Z", automated: true,
    });
  });

  it.each([
    [{ project: "apps" }, true], [{ project: "platform" }, false], [{ sync: "OutOfSync" }, false], [{ health: "Healthy" }, true],
    [{ label: "team=web" }, true], [{ label: "team=db" }, false], [{ label: "team" }, true], [{ search: "GUESTBOOK" }, true], [{ search: "nothing" }, false],
  ])("filters by %o", (filter, expected) => {
    expect(matches(summarize(app()), filter)).toBe(expected);
  });
});

describe("one page of the list (queryApps, decided by the agent)", () => {
  const row = (name: string, fields: Partial<AppSummary> = {}): AppSummary => ({ ...summarize(app({ metadata: { name } })), ...fields });
  const apps = Array.from({ length: 10_000 }, (_, i) => row(`app-${String(i).padStart(5, "0")}`, {
    project: i % 2 === 0 ? "even" : "odd", sync: i % 10 === 0 ? "OutOfSync" : "Synced",
  }));
  const names = (q: AppQuery) => queryApps(apps, q).items.map((a) => a.name);

  it.each<[string, AppQuery, string[]]>([
    ["the first page, by name", { limit: 3 }, ["app-00000", "app-00001", "app-00002"]],
    ["the second page", { limit: 3, offset: 3 }, ["app-00003", "app-00004", "app-00005"]],
    ["by name, descending", { limit: 2, desc: true }, ["app-09999", "app-09998"]],
    ["OutOfSync first when sorted by sync, then by name", { limit: 2, sort: "sync" }, ["app-00000", "app-00010"]],
    ["filtered, then paged", { project: "odd", sync: "OutOfSync", limit: 2 }, []],
    ["a search", { search: "app-0999", limit: 3 }, ["app-09990", "app-09991", "app-09992"]],
    ["one app by name", { name: "app-04242" }, ["app-04242"]],
    ["past the end", { offset: 20_000, limit: 5 }, []],
  ])("%s", (_name, query, expected) => {
    expect(names(query)).toEqual(expected);
  });

  it("counts what matched and what the caller sees, lists the projects, and never sends more than a page's maximum", () => {
    const page = queryApps(apps, { sync: "OutOfSync", limit: 10 });
    expect({ matched: page.matched, total: page.total, projects: page.projects, rows: page.items.length })
      .toEqual({ matched: 1000, total: 10_000, projects: ["even", "odd"], rows: 10 });
    expect(queryApps(apps, { limit: 100_000 }).items).toHaveLength(MAX_PAGE);
  });

  it("reads a query from URL parameters and writes it back", () => {
    const query: AppQuery = { search: "web", project: "apps", sort: "lastSync", desc: true, offset: 50, limit: 50 };
    expect(parseQuery(new URLSearchParams(queryParams(query)))).toEqual(query);
    expect(parseQuery(new URLSearchParams("sort=bogus&limit=-1&offset=x&desc=0"))).toEqual({});
  });
});

describe("the application page", () => {
  it("lists history newest first and says whether deleting cascades", () => {
    const d = detail(app({ metadata: { name: "guestbook", finalizers: [FINALIZER] } }), FINALIZER);
    expect(d.history.map((h) => h.id)).toEqual([2, 1]);
    expect(d.cascadeDelete).toBe(true);
  });

  it("builds the tree from the managed objects down to Pods through owner references, and Endpoints by Service name", () => {
    const live = new Map<string, Manifest>([
      ["apps/v1/Deployment/guestbook/web", { ...obj(["apps/v1", "Deployment"], "web", "d1"), metadata: { name: "web", namespace: "guestbook", uid: "d1", annotations: { "argocd.argoproj.io/sync-wave": "2" } } }],
      ["/v1/Service/guestbook/web", obj(["v1", "Service"], "web", "s1")],
    ]);
    const nodes = buildTree({
      app: app(), live,
      candidates: [
        obj(["v1", "Pod"], "web-abc-1", "p1", "r1"), obj(["apps/v1", "ReplicaSet"], "web-abc", "r1", "d1"),
        obj(["v1", "Endpoints"], "web", "e1"), obj(["v1", "Pod"], "stranger", "p9", "r9"),
      ],
    });
    const byKey = new Map(nodes.map((n) => [n.key, n]));
    expect(byKey.get("apps/v1/Deployment/guestbook/web")).toMatchObject({ managed: true, wave: 2, exists: true });
    expect(byKey.get("apps/v1/ReplicaSet/guestbook/web-abc")?.parents).toEqual(["apps/v1/Deployment/guestbook/web"]);
    expect(byKey.get("/v1/Pod/guestbook/web-abc-1")?.parents).toEqual(["apps/v1/ReplicaSet/guestbook/web-abc"]);
    expect(byKey.get("/v1/Endpoints/guestbook/web")?.parents).toEqual(["/v1/Service/guestbook/web"]);
    expect(byKey.has("/v1/Pod/guestbook/stranger")).toBe(false);
  });

  it("marks a managed Application as a link to its own page (app-of-apps)", () => {
    const root = app({ status: { resources: [{ group: "tether.dev", version: "v1alpha1", kind: "Application", namespace: "tether-system", name: "guestbook", status: "Synced" }] } });
    expect(buildTree({ app: root, live: new Map(), candidates: [] })[0]).toMatchObject({ application: "guestbook", exists: false });
  });
});

describe("the buttons", () => {
  const now = new Date("2026-02-03T04:05:06Z");

  it("sync writes operation.sync with prune, dry-run and the selected resources, and asks for a refresh", () => {
    const patch = syncPatch(app(), { prune: true, dryRun: false, resources: ["apps/v1/Deployment/guestbook/web"] }, "alice", now);
    expect(patch[0]).toEqual({
      op: "add", path: "/operation",
      value: { sync: { prune: true, dryRun: false, resources: [{ group: "apps", kind: "Deployment", namespace: "guestbook", name: "web" }] }, initiatedBy: { username: "alice" } },
    });
    expect(patch[1]).toEqual({ op: "add", path: "/metadata/annotations", value: { [REFRESH_ANNOTATION]: now.toISOString() } });
  });

  it("rollback syncs to the entry's revision and turns automated sync off", () => {
    const patch = rollbackPatch(app(), 1, "alice", now);
    expect(patch).toContainEqual({ op: "remove", path: "/spec/syncPolicy/automated" });
    expect(patch).toContainEqual({ op: "add", path: "/operation", value: { sync: { revision: "old111", prune: false }, initiatedBy: { username: "alice" } } });
  });

  it("rollback of an app with several sources sends every source's revision of the entry", () => {
    const status = { history: [{ id: 3, revision: "abc1234", revisions: ["abc1234", "0.3.0"], deployedAt: "then" }] };
    const patch = rollbackPatch(app({ status }), 3, "alice", now);
    expect(patch).toContainEqual({ op: "add", path: "/operation", value: { sync: { revision: "abc1234", revisions: ["abc1234", "0.3.0"], prune: false }, initiatedBy: { username: "alice" } } });
  });

  it("rollback to an entry that does not exist says which to pick", () => {
    expect(() => rollbackPatch(app(), 7, "alice", now)).toThrow(/history entry 7 of guestbook does not exist/);
  });

  it.each([
    [undefined, true, [{ op: "add", path: "/metadata/finalizers", value: [FINALIZER] }]],
    [["other"], true, [{ op: "add", path: "/metadata/finalizers/-", value: FINALIZER }]],
    [[FINALIZER], true, []],
    [["other", FINALIZER], false, [{ op: "test", path: "/metadata/finalizers/1", value: FINALIZER }, { op: "remove", path: "/metadata/finalizers/1" }]],
    [undefined, false, []],
  ])("delete with finalizers %o and cascade %s patches %o first", (finalizers, cascade, expected) => {
    const a = app({ metadata: { name: "guestbook", ...(finalizers ? { finalizers } : {}) } });
    expect(finalizerPatch(a, cascade)).toEqual(expected);
  });
});

describe("access", () => {
  it("binds the CSRF token to the bearer token", () => {
    const key = Buffer.alloc(32, 1);
    expect(csrfToken(key, "a")).toBe(csrfToken(key, "a"));
    expect(csrfToken(key, "a")).not.toBe(csrfToken(key, "b"));
    expect(csrfToken(Buffer.alloc(32, 2), "a")).not.toBe(csrfToken(key, "a"));
  });

  it("compares session tokens of any length without throwing", () => {
    expect(sameSecret("abc", "abc")).toBe(true);
    expect(sameSecret("abc", "abcd")).toBe(false);
  });

  it("names a refused permission as RBAC spells it", () => {
    expect(describePermission({ verb: "update", group: "tether.dev", resource: "applications", namespace: "tether-system", name: "web" }))
      .toBe("update applications.tether.dev/web in namespace tether-system");
  });
});
