import { describe, expect, it } from "vitest";
import type { RenderedObject } from "../render/types.ts";
import { decide } from "./decide.ts";
import { inheritSource } from "./reconcile.ts";

const auto = (prune: boolean, selfHeal: boolean) => ({ automated: { prune, selfHeal } });

describe("decide", () => {
  it.each([
    { name: "manual app, drift", syncPolicy: undefined, operation: undefined, outOfSync: true, newDesired: false, expected: { sync: false, prune: false } },
    { name: "manual app, new commit", syncPolicy: undefined, operation: undefined, outOfSync: true, newDesired: true, expected: { sync: false, prune: false } },
    { name: "manual app, sync requested with prune", syncPolicy: undefined, operation: { prune: true }, outOfSync: true, newDesired: false, expected: { sync: true, prune: true } },
    { name: "manual app, dry-run requested", syncPolicy: undefined, operation: { dryRun: true }, outOfSync: true, newDesired: false, expected: { sync: false, prune: false } },
    { name: "automated, new commit", syncPolicy: auto(true, false), operation: undefined, outOfSync: true, newDesired: true, expected: { sync: true, prune: true } },
    { name: "automated, new commit that changes nothing live", syncPolicy: auto(false, false), operation: undefined, outOfSync: false, newDesired: true, expected: { sync: true, prune: false } },
    { name: "automated without selfHeal, drift only", syncPolicy: auto(true, false), operation: undefined, outOfSync: true, newDesired: false, expected: { sync: false, prune: true } },
    { name: "automated with selfHeal, drift only", syncPolicy: auto(true, true), operation: undefined, outOfSync: true, newDesired: false, expected: { sync: true, prune: true } },
    { name: "automated, nothing new, nothing differs", syncPolicy: auto(true, true), operation: undefined, outOfSync: false, newDesired: false, expected: { sync: false, prune: true } },
    { name: "automated prune, sync requested without prune", syncPolicy: auto(true, true), operation: { prune: false }, outOfSync: true, newDesired: false, expected: { sync: true, prune: false } },
  ])("$name", ({ syncPolicy, operation, outOfSync, newDesired, expected }) => {
    expect(decide({ syncPolicy, operation, outOfSync, newDesired })).toMatchObject(expected);
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
