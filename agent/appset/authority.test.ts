import { describe, expect, it } from "vitest";
import type { AppProject, Application, ApplicationSet } from "../api/types.ts";
import { parentOf, refusals } from "./authority.ts";

const project = (name: string, spec: AppProject["spec"] = {}): AppProject => ({
  apiVersion: "tether.dev/v1alpha1", kind: "AppProject", metadata: { name },
  spec: { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "*" }], ...spec },
});
const projects = new Map([["team-a", project("team-a")], ["team-b", project("team-b")],
  ["narrow", project("narrow", { sourceRepos: ["https://example.com/only.git"] })]]);

const app = (name: string, proj: string): Application => ({
  apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name },
  spec: { project: proj, source: { repoURL: "https://example.com/r.git" }, destination: { namespace: "x" } },
});

describe("refusals", () => {
  it.each<[string, AppProject | undefined, string, string | undefined]>([
    ["a set applied directly may generate into any existing project", undefined, "team-b", undefined],
    ["a set from an app of team-a may generate into team-a", projects.get("team-a"), "team-a", undefined],
    ["a set from an app of team-a may not generate into team-b", projects.get("team-a"), "team-b", "may only create Applications in project team-a"],
    ["childProjects lets it", project("team-a", { childProjects: ["team-*"] }), "team-b", undefined],
    ["a project that does not exist", undefined, "ghost", "references project ghost which does not exist"],
    ["the generated app's own project rules", undefined, "narrow", "is not permitted in project narrow"],
  ])("%s", (_t, parentProject, proj, refused) => {
    const result = refusals([app("x", proj)], { ...(parentProject ? { parentProject } : {}), projects, setName: "ApplicationSet s" });
    if (refused === undefined) expect(result.size).toBe(0);
    else expect(result.get("x")).toContain(refused);
  });
});

describe("parentOf", () => {
  it("reads the app that applied the set from its tracking annotation", () => {
    const set = { metadata: { annotations: { "tether.dev/tracking-id": "tether-system/root:tether.dev/ApplicationSet:tether-system/s" } } } as unknown as ApplicationSet;
    expect(parentOf(set)).toEqual({ namespace: "tether-system", name: "root" });
    expect(parentOf({ metadata: {} } as ApplicationSet)).toBeUndefined();
  });
});
