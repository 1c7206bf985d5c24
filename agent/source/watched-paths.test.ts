import { describe, expect, it } from "vitest";
import type { Application, ApplicationSource } from "../api/types.ts";
import { renderReach, touches, watchedPaths, type TreeEntry } from "./watched-paths.ts";

const app = (source: ApplicationSource, annotations?: Record<string, string>): Application => ({
  apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "a", ...(annotations ? { annotations } : {}) },
  spec: { project: "default", source, destination: { namespace: "x" } },
});
const file = (path: string): TreeEntry => ({ path, mode: "100644" });
const git = (path: string, more: Partial<ApplicationSource> = {}): ApplicationSource => ({ repoURL: "https://git.example/r.git", path, ...more });

describe("watchedPaths", () => {
  it.each([
    ["the source path", "apps/web", undefined, ["apps/web"]],
    ["the root for ./", "./", undefined, [""]],
    ["the annotation, relative to the path and from the root", "apps/web", ".;../base;/shared/", ["apps/web", "apps/base", "shared"]],
  ])("%s", (_name, path, annotation, expected) => {
    expect(watchedPaths(app(git(path), annotation === undefined ? undefined : { "argocd.argoproj.io/manifest-generate-paths": annotation }), git(path)))
      .toEqual(expected);
  });
});

describe("touches", () => {
  it.each([
    [["apps/web/cm.yaml"], ["apps/web"], true],
    [["apps/web-two/cm.yaml"], ["apps/web"], false],
    [["apps/web"], ["apps/web"], true],
    [["README.md"], [""], true],
    [[], ["apps/web"], false],
  ])("%j under %j: %s", (files, dirs, expected) => {
    expect(touches(files, dirs)).toBe(expected);
  });
});

describe("renderReach", () => {
  it.each<[string, ApplicationSource, Record<string, string> | undefined, readonly TreeEntry[], "paths" | "whole"]>([
    ["a directory of manifests reads only its path", git("apps/web"), undefined, [file("apps/web/cm.yaml"), file("apps/web/sub/d.yaml")], "paths"],
    ["a kustomization may read ../base", git("apps/web"), undefined, [file("apps/web/kustomization.yaml")], "whole"],
    ["a Chart.yaml makes it Helm", git("apps/web"), undefined, [file("apps/web/Chart.yaml")], "whole"],
    ["a kustomization in a subdirectory is only a file", git("apps/web"), undefined, [file("apps/web/sub/kustomization.yaml")], "paths"],
    ["a symlink may lead elsewhere", git("apps/web"), undefined, [{ path: "apps/web/cm.yaml", mode: "120000" }], "whole"],
    ["Jsonnet may import elsewhere", git("apps/web"), undefined, [file("apps/web/main.jsonnet")], "whole"],
    ["spec.source.kustomize names the renderer", git("apps/web", { kustomize: {} }), undefined, [file("apps/web/cm.yaml")], "whole"],
    ["spec.source.helm names the renderer", git("apps/web", { helm: {} }), undefined, [], "whole"],
    ["the annotation is the user's word, whatever the renderer", git("apps/web", { helm: {} }), { "argocd.argoproj.io/manifest-generate-paths": "." },
      [file("apps/web/Chart.yaml")], "paths"],
    ["the root path", git(""), undefined, [file("cm.yaml"), file("apps/x.yaml")], "paths"],
    ["the root path with a kustomization", git("."), undefined, [file("kustomization.yaml")], "whole"],
  ])("%s", (_name, source, annotations, entries, expected) => { // eslint-disable-line max-params -- an it.each row
    expect(renderReach(app(source, annotations), source, entries).kind).toBe(expected);
  });
});
