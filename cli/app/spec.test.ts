import { describe, expect, it } from "vitest";
import { chooseType, detectType, isRemoteSpec, needsRecurse, parseRemoteSpec } from "./spec.ts";

describe("--app SPEC", () => {
  it.each([
    ["https://github.com/org/repo/apps/web?ref=v1.2.0", { repoURL: "https://github.com/org/repo", path: "apps/web", ref: "v1.2.0" }],
    ["https://github.com/org/repo", { repoURL: "https://github.com/org/repo", path: "" }],
    ["github.com/argoproj-labs/argocd-autopilot/examples/demo-app/", { repoURL: "https://github.com/argoproj-labs/argocd-autopilot", path: "examples/demo-app" }],
    ["https://gitlab.com/group/sub/repo.git/deploy/base?ref=main", { repoURL: "https://gitlab.com/group/sub/repo.git", path: "deploy/base", ref: "main" }],
    ["https://gitlab.com/group/sub/repo//deploy", { repoURL: "https://gitlab.com/group/sub/repo", path: "deploy" }],
    ["git@github.com:org/repo.git/apps/web?ref=abc1234", { repoURL: "git@github.com:org/repo.git", path: "apps/web", ref: "abc1234" }],
    ["ssh://git@host:2222/org/repo.git//apps", { repoURL: "ssh://git@host:2222/org/repo.git", path: "apps" }],
    ["file:///srv/git/catalog.git/apps/hello?ref=v1", { repoURL: "file:///srv/git/catalog.git", path: "apps/hello", ref: "v1" }],
    ["http://127.0.0.1:8080/catalog.git?version=v2", { repoURL: "http://127.0.0.1:8080/catalog.git", path: "", ref: "v2" }],
  ])("reads %s as another repository's directory", (spec, expected) => {
    expect(isRemoteSpec(spec)).toBe(true);
    expect(parseRemoteSpec(spec)).toEqual(expected);
  });

  it.each(["./hello", "apps/hello", "/home/me/charts/hello", "hello", "components/apps/hello"])("reads %s as a path", (spec) => {
    expect(isRemoteSpec(spec)).toBe(false);
  });

  it.each([
    ["https://me:token@github.com/org/repo/x", /remove the credentials/],
    ["file:///srv/git/catalog/apps", /cannot tell where the repository ends/],
    ["https://github.com/org/repo.git/../etc", /must not contain '\.\.'/],
    ["https://github.com/org", /expected https:\/\/host\/org\/repo/],
  ])("refuses %s with a fix", (spec, message) => {
    expect(() => parseRemoteSpec(spec)).toThrow(message);
  });
});

describe("app types", () => {
  it.each([
    [["kustomization.yaml", "deploy.yaml"], "kustomize"],
    [["Kustomization"], "kustomize"],
    [["Chart.yaml", "values.yaml", "templates/deploy.yaml"], "helm"],
    [["deploy.yaml", "svc.json"], "dir"],
    [["base/kustomization.yaml", "x.yaml"], "dir"],
  ])("guesses %j as %s, as the agent does", (files, type) => {
    expect(detectType(files)).toBe(type);
  });

  it("recurses into subdirectories only when manifests live there", () => {
    expect(needsRecurse(["a.yaml", "docs/README.md"])).toBe(false);
    expect(needsRecurse(["a.yaml", "db/statefulset.yaml"])).toBe(true);
  });

  it("refuses a --type the files cannot back", () => {
    expect(() => chooseType(["a.yaml"], "helm", "./x")).toThrow(/--type helm: \.\/x has no Chart\.yaml/);
    expect(() => chooseType(["README.md"], undefined, "./x")).toThrow(/holds no manifest/);
    expect(() => chooseType(["README.md"], "dir", "./x")).toThrow(/--type dir: \.\/x holds no/);
    expect(chooseType(["kustomization.yaml", "a.yaml"], "dir", "./x")).toBe("dir");
  });
});
