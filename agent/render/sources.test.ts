import { describe, expect, it } from "vitest";
import type { Application, ApplicationSource } from "../api/types.ts";
import { checkRefs, sourcesOf } from "./sources.ts";

const git = (extra: Partial<ApplicationSource> = {}): ApplicationSource => ({ repoURL: "https://git.example.com/a.git", ...extra });

describe("checkRefs", () => {
  it.each<[string, ApplicationSource[], string]>([
    ["two sources with one ref", [git({ ref: "values" }), git({ ref: "values" })], "spec.sources[0] and spec.sources[1] both have ref: values; give each a name of its own"],
    ["a ref on a chart source", [{ repoURL: "https://charts.example.com", chart: "c", ref: "values" }], "spec.sources[0] has both ref and chart: a ref lends the files of a Git repository; move the values into one"],
    ["a ref that is no name", [git({ ref: "../x" })], "spec.sources[0].ref '../x' may hold only letters, digits, '-' and '_'"],
    ["a $ref nobody has", [git({ helm: { valueFiles: ["$values/a.yaml"] } })], "spec.sources[0].helm.valueFiles: $values/a.yaml refers to no source with ref: values (refs: none); add ref: values to the source that holds the file"],
  ])("refuses %s", (_what, sources, message) => {
    expect(() => checkRefs(sources)).toThrow(message);
  });

  it("accepts value files of the chart, of the repository root and of a ref", () => {
    expect(() => checkRefs([git({ helm: { valueFiles: ["values.yaml", "/envs/a.yaml", "$values/b.yaml"] } }), git({ ref: "values" })])).not.toThrow();
  });
});

describe("sourcesOf", () => {
  const app = (spec: Partial<Application["spec"]>): Application => ({ metadata: { name: "a" }, spec: { source: git(), destination: {}, ...spec } });

  it("takes spec.sources when it has entries, as Argo CD does, else spec.source", () => {
    expect(sourcesOf(app({ sources: [git({ path: "x" }), git({ path: "y" })] })).map((s) => s.path)).toEqual(["x", "y"]);
    expect(sourcesOf(app({ sources: [] }))).toEqual([git()]);
    expect(sourcesOf(app({}))).toEqual([git()]);
  });
});
