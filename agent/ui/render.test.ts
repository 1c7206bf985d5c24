import { describe, expect, it } from "vitest";
import type { Application } from "../api/types.ts";
import { BadRequest } from "./actions.ts";
import { overridesFrom, withOverrides } from "./render.ts";

const app: Application = {
  apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "web", namespace: "tether-system" },
  spec: { project: "default", source: { repoURL: "https://git.example.com/r.git", targetRevision: "main", path: "web", helm: { releaseName: "web", valueFiles: ["a.yaml"] } },
    destination: { namespace: "web" } },
};

describe("rendering an app with the caller's overrides (tether app diff --revision, tether preview)", () => {
  it.each([
    ["nothing", "", {}],
    ["a revision", "revision=feature%2Fx", { revision: "feature/x" }],
    ["a path and Helm values", `source=${encodeURIComponent(JSON.stringify({ path: "web2", helm: { valuesObject: { a: 1 } } }))}`,
      { source: { path: "web2", helm: { valuesObject: { a: 1 } } } }],
  ])("reads %s from the query", (_what, q, want) => {
    expect(overridesFrom(new URLSearchParams(q))).toEqual(want);
  });

  it.each([
    ["another repository", { repoURL: "https://evil.example.com/x.git" }, /repoURL cannot be overridden \(only path, helm, kustomize, directory\)/],
    ["another chart", { chart: "other" }, /chart cannot be overridden/],
    ["a list", [], /expected a JSON object/],
  ])("refuses an override of %s: the repository and chart stay the app's", (_what, source, message) => {
    const q = new URLSearchParams({ source: JSON.stringify(source) });
    expect(() => overridesFrom(q)).toThrow(BadRequest);
    expect(() => overridesFrom(q)).toThrow(message);
  });

  it("refuses a revision that is no ref name", () => {
    expect(() => overridesFrom(new URLSearchParams({ revision: "main; rm -rf /" }))).toThrow(/expected a branch, tag or commit SHA/);
  });

  it("sets the revision and merges Helm options field by field, keeping the repository", () => {
    const out = withOverrides(app, { revision: "abc123", source: { helm: { valuesObject: { replicas: 2 } } } });
    expect(out.spec.source).toEqual({ repoURL: "https://git.example.com/r.git", targetRevision: "abc123", path: "web",
      helm: { releaseName: "web", valueFiles: ["a.yaml"], valuesObject: { replicas: 2 } } });
    expect(app.spec.source?.targetRevision).toBe("main");
  });

  it("takes no overrides for a multi-source app, and leaves any app as it is without them", () => {
    const multi = { ...app, spec: { ...app.spec, source: undefined, sources: [app.spec.source!, app.spec.source!] } } as Application;
    expect(() => withOverrides(multi, { revision: "x" })).toThrow(/several sources/);
    expect(withOverrides(multi, {})).toBe(multi);
  });
});
