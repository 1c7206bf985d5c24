import { describe, expect, it } from "vitest";
import { kustomizeImageName, kustomizeImages, setHelmValue, setKustomizeImage, setSourceOverride } from "./edits.ts";

const KUSTOMIZATION = `# the app's overlay
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml # the app
images:
  - name: nginx
    newTag: "1.25"
  - name: 127.0.0.1:5000/team/app
    newTag: 1.0.0
`;

describe("setKustomizeImage", () => {
  it.each([
    ["updates the entry of that name in place", { name: "127.0.0.1:5000/team/app", newTag: "1.2.0" },
      [{ name: "nginx", newTag: "1.25" }, { name: "127.0.0.1:5000/team/app", newTag: "1.2.0" }]],
    ["appends an image it has not seen", { name: "redis", newTag: "7.2" },
      [{ name: "nginx", newTag: "1.25" }, { name: "127.0.0.1:5000/team/app", newTag: "1.0.0" }, { name: "redis", newTag: "7.2" }]],
    ["a digest replaces the tag", { name: "nginx", digest: `sha256:${"a".repeat(64)}` },
      [{ name: "nginx", digest: `sha256:${"a".repeat(64)}` }, { name: "127.0.0.1:5000/team/app", newTag: "1.0.0" }]],
    ["newName only when it differs from name", { name: "nginx", newName: "ghcr.io/me/nginx", newTag: "1.26" },
      [{ name: "nginx", newName: "ghcr.io/me/nginx", newTag: "1.26" }, { name: "127.0.0.1:5000/team/app", newTag: "1.0.0" }]],
  ])("%s", (_title, image, expected) => {
    expect(kustomizeImages(setKustomizeImage(KUSTOMIZATION, image))).toEqual(expected);
  });

  it("keeps the comments and everything else in the file", () => {
    const out = setKustomizeImage(KUSTOMIZATION, { name: "127.0.0.1:5000/team/app", newTag: "1.2.0" });
    expect(out).toContain("# the app's overlay");
    expect(out).toContain("- deployment.yaml # the app");
    expect(out.replace("newTag: 1.2.0", "newTag: 1.0.0")).toBe(KUSTOMIZATION);
  });

  it("adds images: to a kustomization without it", () => {
    expect(kustomizeImages(setKustomizeImage("resources: [a.yaml]\n", { name: "app", newTag: "2" }))).toEqual([{ name: "app", newTag: "2" }]);
  });

  it.each([["images: nginx\n", /images is not a list/], ["a: [\n", /not valid YAML/], ["- a\n", /not a YAML mapping/]])(
    "refuses %j naming the file", (text, message) => {
      expect(() => setKustomizeImage(text, { name: "x", newTag: "1" }, "apps/web/kustomization.yaml")).toThrow(message);
    });
});

describe("setSourceOverride", () => {
  it("writes Helm parameters as Image Updater does (sorted, forcestring) into a new file", () => {
    const out = setSourceOverride(undefined, { helmParameters: [{ name: "image.tag", value: "1.10" }, { name: "image.name", value: "r/app" }] }, ".argocd-source-web.yaml");
    expect(out).toBe(`helm:
  parameters:
    - name: image.name
      value: r/app
      forcestring: true
    - name: image.tag
      value: "1.10"
      forcestring: true
`);
  });

  it("replaces the parameter of the same name and keeps the others", () => {
    const first = setSourceOverride("helm:\n  parameters:\n    - name: replicas\n      value: \"2\"\n    - name: image.tag\n      value: 1.0.0\n      forcestring: true\n",
      { helmParameters: [{ name: "image.tag", value: "1.1.0" }] }, "f");
    expect(first).toContain("name: replicas");
    expect(first).toContain("value: 1.1.0");
    expect(first).not.toContain("1.0.0");
  });

  it("replaces a Kustomize image of the same name", () => {
    const out = setSourceOverride("kustomize:\n  images:\n    - nginx:1.0\n    - redis:7\n", { kustomizeImages: ["nginx:1.1"] }, "f");
    expect(out).toBe("kustomize:\n  images:\n    - redis:7\n    - nginx:1.1\n");
  });

  it.each([["nginx=ghcr.io/x/nginx:1", "nginx"], ["127.0.0.1:5000/app:1.0", "127.0.0.1:5000/app"], [`app@sha256:${"b".repeat(64)}`, "app"], ["app", "app"]])(
    "the name of %s is %s", (image, name) => expect(kustomizeImageName(image)).toBe(name));
});

describe("setHelmValue", () => {
  it("sets a dotted key, keeping comments and other keys", () => {
    const out = setHelmValue("# defaults\nimage:\n  repository: r/app # where\n  tag: 1.0.0\nreplicas: 2\n", "image.tag", "1.2.0", "values.yaml");
    expect(out).toBe("# defaults\nimage:\n  repository: r/app # where\n  tag: 1.2.0\nreplicas: 2\n");
  });

  it("creates the maps on the way and keeps a tag a string", () => {
    expect(setHelmValue("", "app.image.tag", "1.10", "values.yaml")).toBe('app:\n  image:\n    tag: "1.10"\n');
  });

  it("refuses a path through a value that is not a map", () => {
    expect(() => setHelmValue("image: r/app:1\n", "image.tag", "2", "values.yaml")).toThrow(/values.yaml: image is not a mapping, so 'image.tag' cannot be set/);
  });
});
