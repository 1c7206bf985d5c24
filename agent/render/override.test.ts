import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApplicationSource } from "../api/types.ts";
import { mergePatch, withOverrides } from "./override.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tether-override-"));
  await mkdir(join(root, "apps/web"), { recursive: true });
});
afterEach(async () => rm(root, { recursive: true, force: true }));

const source: ApplicationSource = {
  repoURL: "https://git.example/repo", targetRevision: "main", path: "apps/web",
  helm: { parameters: [{ name: "replicas", value: "2" }], valueFiles: ["values.yaml"] },
};

describe("withOverrides", () => {
  it("merges .argocd-source.yaml, then .argocd-source-<app>.yaml, as Argo CD's repo server does", async () => {
    await writeFile(join(root, "apps/web/.argocd-source.yaml"), "helm:\n  parameters:\n    - name: image.tag\n      value: 1.0.0\n");
    await writeFile(join(root, "apps/web/.argocd-source-web.yaml"),
      "helm:\n  parameters:\n    - name: image.tag\n      value: 1.2.0\n      forcestring: true\nkustomize:\n  images: [nginx:1.2]\n");
    const out = await withOverrides(root, source, "web");
    // Lists replace (a merge patch), maps merge: valueFiles stays, parameters are the app file's.
    expect(out.helm).toEqual({ parameters: [{ name: "image.tag", value: "1.2.0", forceString: true }], valueFiles: ["values.yaml"] });
    expect(out.kustomize).toEqual({ images: ["nginx:1.2"] });
  });

  it("reads only the file of its own app and never moves the source", async () => {
    await writeFile(join(root, "apps/web/.argocd-source-other.yaml"), "helm:\n  parameters: []\n");
    await writeFile(join(root, "apps/web/.argocd-source.yaml"), "repoURL: https://evil.example/x\npath: ../..\n");
    const out = await withOverrides(root, source, "web");
    expect(out).toEqual(source);
  });

  it("names a broken file", async () => {
    await writeFile(join(root, "apps/web/.argocd-source-web.yaml"), "helm: [\n");
    await expect(withOverrides(root, source, "web")).rejects.toThrow(/apps\/web\/.argocd-source-web.yaml is not valid YAML/);
  });

  it("leaves chart sources alone", async () => {
    const chart: ApplicationSource = { repoURL: "https://charts.example", chart: "web", targetRevision: "1.0.0" };
    expect(await withOverrides(root, chart, "web")).toBe(chart);
  });
});

it.each([
  [{ a: 1, b: { c: 2 } }, { b: { d: 3 } }, { a: 1, b: { c: 2, d: 3 } }],
  [{ a: [1, 2] }, { a: [3] }, { a: [3] }],
  [{ a: 1, b: 2 }, { a: null }, { b: 2 }],
])("mergePatch(%j, %j) is %j", (target, patch, expected) => expect(mergePatch(target, patch)).toEqual(expected));
