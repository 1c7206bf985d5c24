import { describe, expect, it } from "vitest";
import { PREFIX, parseAnnotations, wantsImageUpdates } from "./annotations.ts";

const a = (entries: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(entries).map(([k, v]) => [`${PREFIX}${k}`, v]));

describe("parseAnnotations", () => {
  it("reads the documents' example: an aliased image with a semver constraint, written back to Git", () => {
    const plan = parseAnnotations(a({ "image-list": "app=127.0.0.1:5000/team/app:~1.2", "write-back-method": "git", "write-back-target": "kustomization" }), "apps/web");
    expect(plan.images).toHaveLength(1);
    expect(plan.images[0]).toMatchObject({
      alias: "app", image: { registry: "127.0.0.1:5000", repository: "team/app" }, constraint: "~1.2",
      rule: { strategy: "semver", constraint: "~1.2", ignore: [] }, helm: { imageName: "image.name", imageTag: "image.tag" },
      kustomizeImageName: "127.0.0.1:5000/team/app",
    });
    expect(plan.writeBack).toEqual({ method: "git", target: { kind: "kustomization", path: "apps/web" }, branch: "" });
  });

  it("takes per-alias options over app-wide ones", () => {
    const plan = parseAnnotations(a({
      "image-list": "web=nginx, db=bitnami/postgresql:15.x", "update-strategy": "newest-build", "ignore-tags": "latest",
      "db.update-strategy": "semver", "db.allow-tags": "regexp:^15\\.", "web.helm.image-name": "web.image.repository",
      "web.helm.image-tag": "web.image.tag", "db.kustomize.image-name": "postgres", "db.pull-secret": "pullsecret:tether-system/hub",
    }), "apps/x");
    const [web, db] = plan.images;
    expect(web).toMatchObject({ alias: "web", rule: { strategy: "newest-build", ignore: ["latest"] }, helm: { imageName: "web.image.repository", imageTag: "web.image.tag" } });
    expect(db).toMatchObject({ alias: "db", rule: { strategy: "semver", constraint: "15.x" }, kustomizeImageName: "postgres", pullSecret: { namespace: "tether-system", name: "hub" } });
    expect(db?.rule.allow?.source).toBe("^15\\.");
    expect(plan.writeBack).toEqual({ method: "argocd" });
  });

  it.each([
    ["kustomization:overlays/prod", { kind: "kustomization", path: "apps/web/overlays/prod" }],
    ["kustomization:/base", { kind: "kustomization", path: "base" }],
    ["helmvalues", { kind: "helmvalues", path: "apps/web/values.yaml" }],
    ["helmvalues:./values-prod.yaml", { kind: "helmvalues", path: "apps/web/values-prod.yaml" }],
    ["", { kind: "override" }],
  ])("write-back-target %j", (target, expected) => {
    expect(parseAnnotations(a({ "image-list": "x", "write-back-method": "git", "write-back-target": target }), "apps/web").writeBack)
      .toMatchObject({ target: expected });
  });

  it.each([["main", { branch: "main" }], ["main:image-updates", { branch: "main", pushBranch: "image-updates" }], [":bump", { branch: "", pushBranch: "bump" }]])(
    "git-branch %j", (value, expected) => {
      expect(parseAnnotations(a({ "image-list": "x", "write-back-method": "git", "git-branch": value }), ".").writeBack).toMatchObject(expected);
    });

  it.each<[Record<string, string>, RegExp]>([
    [{ "image-list": "" }, /image-list is empty/],
    [{ "image-list": "a=x, a=y" }, /names 'a' twice/],
    [{ "image-list": "a b=x" }, /alias 'a b'/],
    [{ "image-list": "registry.example/web:>=2.0" }, /needs an alias before it: name=registry.example\/web:>=2.0/],
    [{ "image-list": "Bad/Name" }, /invalid repository name/],
    [{ "image-list": "x:not-a-range" }, /image 'x': 'not-a-range' is not a semver constraint/],
    [{ "image-list": "x", "x.update-strategy": "fastest" }, /unknown update strategy 'fastest'/],
    [{ "image-list": "x", "x.allow-tags": "v*" }, /allow-tags 'v\*' is not understood/],
    [{ "image-list": "x", "x.pull-secret": "env:REGISTRY_CREDS" }, /reading the agent's environment .* is refused; write pullsecret:/],
    [{ "image-list": "x", "x.pull-secret": "secret:ns/s#creds" }, /could go to any registry/],
    [{ "image-list": "x", "write-back-method": "git:secret:ns/git-creds" }, /repository's own credential/],
    [{ "image-list": "x", "write-back-method": "git", "write-back-target": "kustomization:../../other" }, /leaves the repository/],
    [{ "image-list": "x", "write-back-method": "git", "git-branch": "main:up-{{.SHA256}}" }, /templated branch names/],
    [{ "image-list": "x:latest", "x.update-strategy": "digest", "write-back-method": "svn" }, /write-back-method 'svn' is not supported/],
  ])("refuses %j, naming the annotation", (annotations, message) => {
    expect(() => parseAnnotations(a(annotations), "apps/web")).toThrow(message);
  });

  it("knows which apps ask for updates", () => {
    expect(wantsImageUpdates(a({ "image-list": "x" }))).toBe(true);
    expect(wantsImageUpdates({})).toBe(false);
  });
});
