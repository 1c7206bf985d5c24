import { describe, expect, it } from "vitest";
import type { RenderedObject } from "../render/types.ts";
import { decide, inheritSource } from "./reconcile.ts";

const auto = (prune: boolean, selfHeal: boolean) => ({ automated: { prune, selfHeal } });

describe("decide", () => {
  it.each([
    ["manual app, drift", undefined, undefined, true, false, { sync: false, prune: false }],
    ["manual app, new commit", undefined, undefined, true, true, { sync: false, prune: false }],
    ["manual app, sync requested with prune", undefined, { prune: true }, true, false, { sync: true, prune: true }],
    ["manual app, dry-run requested", undefined, { dryRun: true }, true, false, { sync: false, prune: false }],
    ["automated, new commit", auto(true, false), undefined, true, true, { sync: true, prune: true }],
    ["automated, new commit that changes nothing live", auto(false, false), undefined, false, true, { sync: true, prune: false }],
    ["automated without selfHeal, drift only", auto(true, false), undefined, true, false, { sync: false, prune: true }],
    ["automated with selfHeal, drift only", auto(true, true), undefined, true, false, { sync: true, prune: true }],
    ["automated, nothing new, nothing differs", auto(true, true), undefined, false, false, { sync: false, prune: true }],
    ["automated prune, sync requested without prune", auto(true, true), { prune: false }, true, false, { sync: true, prune: false }],
  ])("%s", (_name, syncPolicy, operation, outOfSync, newDesired, expected) => {
    expect(decide({ syncPolicy, operation, outOfSync, newDesired })).toEqual(expected);
  });
});

describe("inheritSource", () => {
  const parent = {
    apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "root" },
    spec: { source: { repoURL: "https://git.example.com/gitops.git", targetRevision: "v1.2.0", path: "components" }, destination: {} },
  };
  const child = (source: object): RenderedObject => ({
    file: "components/apps/web.yaml", decrypted: false,
    manifest: { apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "web" }, spec: { source, destination: {} } },
  });

  it("gives a child without repoURL the parent's repository and revision", () => {
    const [out] = inheritSource([child({ path: "components/apps/web" })], parent);
    expect(out?.manifest.spec).toMatchObject({ source: { repoURL: "https://git.example.com/gitops.git", targetRevision: "v1.2.0", path: "components/apps/web" } });
  });

  it("keeps a child's own repository and revision", () => {
    const own = child({ repoURL: "https://git.example.com/other.git", targetRevision: "main", path: "." });
    expect(inheritSource([own], parent)[0]).toBe(own);
  });
});
