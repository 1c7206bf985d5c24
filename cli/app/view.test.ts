import { describe, expect, it } from "vitest";
import type { Application } from "../../agent/api/types.ts";
import { appDetails, appTable, withoutManagedFields } from "./view.ts";

const broken: Application = {
  apiVersion: "tether.dev/v1alpha1", kind: "Application",
  metadata: { name: "shop", namespace: "tether-system", managedFields: [{ manager: "tether" }] },
  spec: { project: "apps", source: { repoURL: "https://git.example.com/r.git", path: "components/shop" }, destination: { namespace: "shop" } },
  status: {
    sync: { status: "Unknown" }, health: { status: "Unknown" },
    conditions: [{ type: "PlaintextSecret", message: "Secret shop/db is not encrypted: encrypt it with `tether secret encrypt`", lastTransitionTime: "t" }],
    resources: [{ group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web", status: "Synced", health: { status: "Healthy" } }],
  },
};

describe("how apps look on a terminal", () => {
  it("the default table says why a broken app is broken", () => {
    expect(appTable([broken])).toContain("PlaintextSecret: Secret shop/db is not encrypted");
  });

  it("the wide table adds the source, destination and sync policy", () => {
    const wide = appTable([broken], { wide: true });
    expect(wide).toContain("components/shop");
    expect(wide).toContain("SYNC POLICY");
    expect(appTable([broken], { namespaces: true }).split("\n")[1]).toMatch(/^tether-system\s+shop/);
  });

  it("get -o wide differs from the plain view: versions and transition times", () => {
    expect(appDetails(broken)).not.toContain("VERSION");
    expect(appDetails(broken, true)).toContain("VERSION");
    expect(appDetails(broken, true)).toContain("(since t)");
  });

  it("JSON drops managedFields and keeps the rest", () => {
    const out = withoutManagedFields(broken);
    expect(out.metadata).toEqual({ name: "shop", namespace: "tether-system" });
    expect(broken.metadata?.managedFields).toBeDefined();
  });
});
