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

  it("a suspended app says so in the table, the wide sync policy and get", () => {
    const suspended: Application = { ...broken, metadata: { name: "web", annotations: { "tether.dev/suspend": "true" } },
      spec: { ...broken.spec, syncPolicy: { automated: { prune: true } } }, status: { sync: { status: "Synced" }, health: { status: "Healthy" } } };
    expect(appTable([suspended])).toContain("Suspended: automated sync is off (tether app resume web)");
    expect(appTable([suspended], { wide: true })).toMatch(/\ssuspended\s/);
    expect(appDetails(suspended)).toContain("Sync Policy:   automated (prune=true, selfHeal=false), suspended");
  });

  it("JSON drops managedFields and keeps the rest", () => {
    const out = withoutManagedFields(broken);
    expect(out.metadata).toEqual({ name: "shop", namespace: "tether-system" });
    expect(broken.metadata?.managedFields).toBeDefined();
  });
});
