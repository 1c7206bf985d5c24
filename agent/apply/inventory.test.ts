import { describe, expect, it } from "vitest";
import { parseRefKey, refKey, refOf, staleEntries } from "./inventory.ts";

describe("inventory", () => {
  it("round-trips core, grouped and cluster-scoped references", () => {
    for (const ref of [
      { group: "", version: "v1", kind: "ConfigMap", namespace: "web", name: "settings" },
      { group: "apps", version: "v1", kind: "Deployment", namespace: "web", name: "api" },
      { group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", name: "reader" },
    ]) {
      expect(parseRefKey(refKey(ref))).toEqual(ref);
    }
  });

  it("reads the group and version of a manifest", () => {
    expect(refOf({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "api", namespace: "web" } }))
      .toEqual({ group: "apps", version: "v1", kind: "Deployment", namespace: "web", name: "api" });
  });

  it("finds the objects that left the desired set, whatever version they were applied with", () => {
    const previous = ["apps/v1/Deployment/web/api", "/v1/ConfigMap/web/settings", "/v1/ConfigMap/web/old"];
    const desired = [
      { group: "apps", version: "v1beta1", kind: "Deployment", namespace: "web", name: "api" },
      { group: "", version: "v1", kind: "ConfigMap", namespace: "web", name: "settings" },
    ];
    expect(staleEntries(previous, desired)).toEqual([{ group: "", version: "v1", kind: "ConfigMap", namespace: "web", name: "old" }]);
  });
});
