import { describe, expect, it } from "vitest";
import type { AppProject } from "../api/types.ts";
import { RbacEnforcer, groupsOf, projectPolicy, rbacSettingsFrom, splitLine, type RbacRequest } from "./rbac.ts";

// The rbac-cm of Argo CD's documentation (docs/operator-manual/rbac.md), carried over unchanged.
const ARGO_DOC_CM = {
  "policy.csv": [
    "p, my-org:team-alpha, applications, sync, my-project/*, allow",
    "g, my-org:team-beta, role:admin",
    "g, user@example.org, role:admin",
    "g, admin, role:admin",
    "g, role:admin, role:readonly",
  ].join("\n"),
  "policy.default": "role:readonly",
  scopes: "[groups, email]",
};

const project = (name: string, roles: NonNullable<AppProject["spec"]["roles"]> = []): AppProject => ({
  apiVersion: "tether.dev/v1alpha1", kind: "AppProject", metadata: { name }, spec: { roles },
});

const projects = new Map<string, AppProject>([
  ["team-a", project("team-a", [
    { name: "ci", policies: ["p, proj:team-a:ci, applications, sync, team-a/*, allow", "p, proj:team-a:ci, applications, get, team-a/*, allow"] },
    { name: "dev", policies: ["p, proj:team-a:dev, applications, *, team-a/*, allow"], groups: ["team-a-devs"] },
  ])],
  ["team-b", project("team-b")],
]);

const req = (resource: string, action: string, object: string): RbacRequest => ({ resource, action, object });

describe("Argo CD's RBAC", () => {
  const doc = new RbacEnforcer(rbacSettingsFrom(ARGO_DOC_CM), (n) => projects.get(n));

  it.each([
    ["a member of team-alpha syncs in my-project", { groups: ["my-org:team-alpha"] }, req("applications", "sync", "my-project/guestbook"), true],
    ["team-alpha does not sync elsewhere", { groups: ["my-org:team-alpha"] }, req("applications", "sync", "other/guestbook"), false],
    ["team-alpha may not delete (only the default readonly)", { groups: ["my-org:team-alpha"] }, req("applications", "delete", "my-project/guestbook"), false],
    ["anyone authenticated reads (policy.default role:readonly)", { groups: [] }, req("applications", "get", "any/app"), true],
    ["readonly reads logs", { groups: [] }, req("logs", "get", "any/app"), true],
    ["readonly does not sync", { groups: [] }, req("applications", "sync", "any/app"), false],
    ["team-beta is admin through its group", { groups: ["my-org:team-beta"] }, req("applications", "delete", "x/y"), true],
    ["admin may run any action", { groups: ["my-org:team-beta"] }, req("applications", "action/apps/Deployment/restart", "x/y"), true],
    ["an email in scopes is a subject too", { email: "user@example.org" }, req("projects", "delete", "team-b"), true],
    ["a claim not in scopes gives nothing", { roles: ["my-org:team-beta"] }, req("applications", "delete", "x/y"), false],
  ])("%s", async (_what, claims, request, allowed) => {
    expect(await doc.enforce({ subject: "someone", claims }, request)).toBe(allowed);
  });

  it.each([
    ["an explicit deny wins over an allow", "p, u, applications, delete, default/prod-app, deny\ng, u, role:admin", req("applications", "delete", "default/prod-app"), false],
    ["update/* does not grant update", "p, u, applications, update/*, default/prod-app, allow", req("applications", "update", "default/prod-app"), false],
    ["fine-grained delete of a Pod", "p, u, applications, delete/*/Pod/*/*, default/prod-app, allow", req("applications", "delete//Pod/ns/p1", "default/prod-app"), true],
    ["apps in any namespace: proj/ns/app", "p, u, applications, get, */app-namespace/*, allow", req("applications", "get", "p/app-namespace/a"), true],
    ["globs match across '/' as Argo's", "p, u, applications, get, *, allow", req("applications", "get", "p/a"), true],
    ["braces are alternatives", 'p, u, applications, sync, "team-{a,b}/*", allow', req("applications", "sync", "team-b/x"), true],
    ["no policy, no access (no default role)", "", req("applications", "get", "p/a"), false],
  ])("%s", async (_what, csv, request, allowed) => {
    const enforcer = new RbacEnforcer(rbacSettingsFrom({ "policy.csv": csv }), (n) => projects.get(n));
    expect(await enforcer.enforce({ subject: "u" }, request)).toBe(allowed);
  });

  it("merges policy overlays after policy.csv in key order, as Argo's PolicyCSV", async () => {
    const settings = rbacSettingsFrom({ "policy.csv": "g, u, role:x", "policy.team-b.csv": "p, role:x, applications, sync, b/*, allow", "policy.overlay.csv": "p, role:x, applications, sync, o/*, allow" });
    expect(settings.policyCsv).toBe("g, u, role:x\np, role:x, applications, sync, o/*, allow\np, role:x, applications, sync, b/*, allow");
    const enforcer = new RbacEnforcer(settings, () => undefined);
    expect(await enforcer.enforce({ subject: "u" }, req("applications", "sync", "b/app"))).toBe(true);
  });

  it("regex mode matches as Go's regexp.MatchString (unanchored)", async () => {
    const enforcer = new RbacEnforcer(rbacSettingsFrom({ "policy.csv": 'p, u, applications, get, "^team-[ab]/.*$", allow', "policy.matchMode": "regex" }), () => undefined);
    expect(await enforcer.enforce({ subject: "u" }, req("applications", "get", "team-a/x"))).toBe(true);
    expect(await enforcer.enforce({ subject: "u" }, req("applications", "get", "team-c/x"))).toBe(false);
  });

  describe("project roles", () => {
    const enforcer = new RbacEnforcer(rbacSettingsFrom({}), (n) => projects.get(n));

    it.each([
      ["a project token syncs its project's apps", "proj:team-a:ci", req("applications", "sync", "team-a/web"), true],
      ["a project token reads its project", "proj:team-a:ci", req("projects", "get", "team-a"), true],
      ["a project token does nothing in another project", "proj:team-a:ci", req("applications", "sync", "team-b/web"), false],
      ["a project token cannot delete when its role does not say so", "proj:team-a:ci", req("applications", "delete", "team-a/web"), false],
      ["a token naming a role of another project is refused", "proj:team-b:ci", req("applications", "sync", "team-a/web"), false],
      ["a token of a role that does not exist gets nothing", "proj:team-a:ghost", req("applications", "get", "team-a/web"), false],
    ])("%s", async (_what, subject, request, allowed) => {
      expect(await enforcer.enforce({ subject }, request)).toBe(allowed);
    });

    it("a project role's groups get its policies in that project only", async () => {
      const caller = { subject: "alice", claims: { groups: ["team-a-devs"] } };
      expect(await enforcer.enforce(caller, req("applications", "delete", "team-a/web"))).toBe(true);
      expect(await enforcer.enforce(caller, req("applications", "get", "team-b/web"))).toBe(false);
    });

    it("a project's policy cannot reach into another project's objects", async () => {
      const rogue = project("team-b", [{ name: "x", policies: ["p, proj:team-b:x, applications, *, team-a/*, allow"], groups: ["b"] }]);
      const e = new RbacEnforcer(rbacSettingsFrom({}), (n) => (n === "team-b" ? rogue : projects.get(n)));
      // The rogue line is only loaded for requests on team-b's objects, so team-a's apps stay out of reach.
      expect(await e.enforce({ subject: "bob", claims: { groups: ["b"] } }, req("applications", "delete", "team-a/web"))).toBe(false);
    });

    it("writes Argo's ProjectPoliciesString", () => {
      expect(projectPolicy(projects.get("team-a")!)).toBe([
        "p, proj:team-a:ci, projects, get, team-a, allow",
        "p, proj:team-a:ci, applications, sync, team-a/*, allow",
        "p, proj:team-a:ci, applications, get, team-a/*, allow",
        "p, proj:team-a:dev, projects, get, team-a, allow",
        "p, proj:team-a:dev, applications, *, team-a/*, allow",
        "g, team-a-devs, proj:team-a:dev",
      ].join("\n"));
    });
  });

  it.each([
    [{ "policy.csv": "p, u, applications, get, */*" }, "policy line 1 'p, u, applications, get, */*' is not"],
    [{ "policy.csv": "p, u, applications, get, */*, maybe" }, "ends with 'maybe': the effect is allow or deny"],
    [{ "policy.csv": "g, u" }, "is not 'p, subject"],
    [{ "policy.matchMode": "fuzzy" }, "policy.matchMode 'fuzzy' is not glob or regex"],
    [{ scopes: "groups: x" }, "scopes 'groups: x' is not a list of claim names"],
  ])("refuses a malformed setting, naming it: %j", (data, message) => {
    expect(() => rbacSettingsFrom(data)).toThrow(message);
  });

  it("reads quoted tokens and groups from string or list claims", () => {
    expect(splitLine('p, u, applications, get, "a/{b,c}", allow', "t")).toEqual(["p", "u", "applications", "get", "a/{b,c}", "allow"]);
    expect(groupsOf({ groups: ["a", 3, "b"], email: "e@x" }, ["groups", "email"])).toEqual(["a", "b", "e@x"]);
  });
});
