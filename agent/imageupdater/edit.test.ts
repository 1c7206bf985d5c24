import { describe, expect, it } from "vitest";
import { PREFIX, parseAnnotations, type FollowedImage } from "./annotations.ts";
import {
  commitMessage, currentTags, editHelmValues, editKustomization, editOverride, helmParameters, kustomizeImageStrings,
  type ImageChange, type TagFile,
} from "./edit.ts";

const REGISTRY = "127.0.0.1:5000";

/** The image an app annotated with `image-list: list` (and options) follows. */
function followed(list: string, options: Record<string, string> = {}): FollowedImage {
  const annotations = Object.fromEntries(Object.entries({ "image-list": list, ...options }).map(([k, v]) => [`${PREFIX}${k}`, v]));
  return parseAnnotations(annotations, "apps/web").images[0]!;
}

const web = followed(`web=${REGISTRY}/team/web:~1.2`);
const to = (tag: string, image: FollowedImage = web, digest?: string): ImageChange => ({ image, tag, ...(digest === undefined ? {} : { digest }) });
const DIGEST = `sha256:${"a".repeat(64)}`;

describe("helmParameters", () => {
  it.each<[string, FollowedImage, ImageChange, { name: string; value: string }[]]>([
    ["image.name and image.tag by default", web, to("1.2.3"), [
      { name: "image.name", value: `${REGISTRY}/team/web` }, { name: "image.tag", value: "1.2.3" }]],
    ["the names helm.image-name and helm.image-tag give", followed(`web=${REGISTRY}/team/web`, { "web.helm.image-name": "web.repo", "web.helm.image-tag": "web.version" }),
      to("1.2.3"), [{ name: "web.repo", value: `${REGISTRY}/team/web` }, { name: "web.version", value: "1.2.3" }]],
    ["one parameter with helm.image-spec", followed(`web=${REGISTRY}/team/web`, { "web.helm.image-spec": "image.full" }),
      to("1.2.3"), [{ name: "image.full", value: `${REGISTRY}/team/web:1.2.3` }]],
    ["tag@digest for the digest strategy", web, to("latest", web, DIGEST), [
      { name: "image.name", value: `${REGISTRY}/team/web` }, { name: "image.tag", value: `latest@${DIGEST}` }]],
  ])("%s", (_title, image, change, expected) => {
    expect(helmParameters([{ ...change, image }])).toEqual(expected);
  });
});

describe("kustomizeImageStrings", () => {
  it.each<[string, ImageChange, string]>([
    ["name:tag", to("1.2.3"), `${REGISTRY}/team/web:1.2.3`],
    ["name@digest", to("latest", web, DIGEST), `${REGISTRY}/team/web@${DIGEST}`],
    ["original=new:tag when kustomize.image-name differs", to("1.2.3", followed(`web=${REGISTRY}/team/web`, { "web.kustomize.image-name": "nginx" })),
      `nginx=${REGISTRY}/team/web:1.2.3`],
  ])("%s", (_title, change, expected) => {
    expect(kustomizeImageStrings([change])).toEqual([expected]);
  });
});

describe("the edited files", () => {
  it.each<[string, () => string, string]>([
    ["a kustomization's entry is updated in place, others and comments kept",
      () => editKustomization(`# app\nimages:\n  - name: other\n    newTag: "1"\n  - name: ${REGISTRY}/team/web\n    newTag: 1.0.0\n`, [to("1.2.3")], "k.yaml"),
      `# app\nimages:\n  - name: other\n    newTag: "1"\n  - name: ${REGISTRY}/team/web\n    newTag: 1.2.3\n`],
    ["a kustomization without images gets the entry",
      () => editKustomization("resources:\n  - deployment.yaml\n", [to("1.2.3")], "k.yaml"),
      `resources:\n  - deployment.yaml\nimages:\n  - name: ${REGISTRY}/team/web\n    newTag: 1.2.3\n`],
    ["a digest replaces the tag in a kustomization",
      () => editKustomization(`images:\n  - name: ${REGISTRY}/team/web\n    newTag: 1.0.0\n`, [to("latest", web, DIGEST)], "k.yaml"),
      `images:\n  - name: ${REGISTRY}/team/web\n    digest: ${DIGEST}\n`],
    ["a new .argocd-source-<app>.yaml for a Helm app: Argo CD's parameters, forcestring",
      () => editOverride(undefined, "helm", [to("1.2.3")], ".argocd-source-web.yaml"),
      `helm:\n  parameters:\n    - name: image.name\n      value: ${REGISTRY}/team/web\n      forcestring: true\n`
      + "    - name: image.tag\n      value: 1.2.3\n      forcestring: true\n"],
    ["an existing override keeps its other parameters",
      () => editOverride("helm:\n  parameters:\n    - name: replicas\n      value: \"2\"\n", "helm", [to("1.2.3")], "o.yaml"),
      `helm:\n  parameters:\n    - name: image.name\n      value: ${REGISTRY}/team/web\n      forcestring: true\n`
      + "    - name: image.tag\n      value: 1.2.3\n      forcestring: true\n    - name: replicas\n      value: \"2\"\n"],
    ["a Kustomize app's override holds Argo CD's image strings",
      () => editOverride(undefined, "kustomize", [to("1.2.3")], "o.yaml"), `kustomize:\n  images:\n    - ${REGISTRY}/team/web:1.2.3\n`],
    ["a values file gets the keys, the tag a string",
      () => editHelmValues("# values\nimage:\n  name: old\n  tag: \"1.0\"\nreplicas: 2\n", [to("1.10")], "values.yaml"),
      `# values\nimage:\n  name: ${REGISTRY}/team/web\n  tag: "1.10"\nreplicas: 2\n`],
  ])("%s", (_title, edit, expected) => {
    expect(edit()).toBe(expected);
  });
});

describe("currentTags: what a change replaces, for the commit message", () => {
  const spec = followed(`web=${REGISTRY}/team/web`, { "web.helm.image-spec": "image.full" });
  it.each<[string, string | undefined, TagFile, ImageChange, string | undefined]>([
    ["a kustomization's newTag", `images:\n  - name: ${REGISTRY}/team/web\n    newTag: 1.0.0\n`, "kustomization", to("1.2.3"), "1.0.0"],
    ["a kustomization's digest", `images:\n  - name: ${REGISTRY}/team/web\n    digest: ${DIGEST}\n`, "kustomization", to("1.2.3"), DIGEST],
    ["a kustomization that does not name the image", "images:\n  - name: other\n    newTag: 1.0.0\n", "kustomization", to("1.2.3"), undefined],
    ["a values file's image.tag (a number read as written)", "image:\n  tag: 1.10\n", "helmvalues", to("1.2.3"), "1.1"],
    ["a values file's quoted tag", "image:\n  tag: \"1.10\"\n", "helmvalues", to("1.2.3"), "1.10"],
    ["a values file's image-spec", `image:\n  full: ${REGISTRY}/team/web:0.9.0\n`, "helmvalues", to("1.2.3", spec), "0.9.0"],
    ["an override's Helm parameter", "helm:\n  parameters:\n    - name: image.tag\n      value: 1.1.0\n      forcestring: true\n", "override", to("1.2.3"), "1.1.0"],
    ["an override's Kustomize image", `kustomize:\n  images:\n    - ${REGISTRY}/team/web:1.1.0\n`, "override", to("1.2.3"), "1.1.0"],
    ["no file", undefined, "override", to("1.2.3"), undefined],
    ["a file that is not YAML", "images: [", "kustomization", to("1.2.3"), undefined],
  ])("%s", (...[, text, file, change, expected]) => {
    expect(currentTags(text, file, [change]).get("web")).toBe(expected);
  });
});

describe("commitMessage", () => {
  it("is Image Updater's: the app, then one line per image with the tag it replaced", () => {
    expect(commitMessage("web", [to("1.2.3")], new Map([["web", "1.0.0"]]))).toBe(
      `build: automatic update of web\n\nupdates image ${REGISTRY}/team/web tag '1.0.0' to '1.2.3'\n`);
  });

  it("says when the tag it replaced is not known", () => {
    expect(commitMessage("web", [to("1.2.3")], new Map())).toContain("tag '(unknown)' to '1.2.3'");
  });
});
