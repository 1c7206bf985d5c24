import { describe, expect, it } from "vitest";
import { foldInventory, identity, inventoryEntry, inventoryListed, inventoryOf, nextInventory, parseInventoryEntry, parseRefKey, refKey, refOf, staleEntries } from "./inventory.ts";

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

  it.each([
    [{ group: "", version: "v1", kind: "ConfigMap", namespace: "web", name: "settings" }, "web_settings__ConfigMap_v1"],
    [{ group: "apps", version: "v1", kind: "Deployment", namespace: "web", name: "api" }, "web_api_apps_Deployment_v1"],
    [{ group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", name: "system:a_b" }, "_system:a_b_rbac.authorization.k8s.io_ClusterRole_v1"],
  ])("writes %j as Flux's %s and reads it back, a name with _ included", (ref, entry) => {
    expect(inventoryEntry(ref)).toBe(entry);
    expect(parseInventoryEntry(entry)).toEqual(ref);
  });

  it("reads an inventory written in the first spelling (group/version/kind/namespace/name)", () => {
    expect(parseInventoryEntry("apps/v1/Deployment/web/api")).toEqual({ group: "apps", version: "v1", kind: "Deployment", namespace: "web", name: "api" });
    expect(parseInventoryEntry("/v1/Namespace//web")).toEqual({ group: "", version: "v1", kind: "Namespace", name: "web" });
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
    expect(staleEntries(["web_api_apps_Deployment_v1", "web_old__ConfigMap_v1"], desired)).toEqual([{ group: "", version: "v1", kind: "ConfigMap", namespace: "web", name: "old" }]);
  });
});

describe("nextInventory", () => {
  const cm = (name: string) => ({ group: "", version: "v1", kind: "ConfigMap", namespace: "web", name });
  // The previous inventory in the first spelling: a status written before the migration is read as is.
  const key = (name: string) => `/v1/ConfigMap/web/${name}`;
  const entry = (name: string) => `web_${name}__ConfigMap_v1`;

  it.each([
    { name: "owns what it applied", previous: [], desired: ["a", "b"], stale: [], changes: [["a", "created"], ["b", "unchanged"]], want: ["a", "b"] },
    { name: "does not own a create that failed", previous: [], desired: ["a"], stale: [], changes: [["a", "failed"]], want: [] },
    { name: "keeps owning an object whose update failed", previous: ["a"], desired: ["a"], stale: [], changes: [["a", "failed"]], want: ["a"] },
    { name: "drops a pruned object", previous: ["a", "old"], desired: ["a"], stale: [["old", true]], changes: [["old", "deleted"]], want: ["a"] },
    { name: "keeps a stale object not pruned (prune off)", previous: ["a", "old"], desired: ["a"], stale: [["old", true]], changes: [], want: ["a", "old"] },
    { name: "keeps a stale object whose prune failed", previous: ["old"], desired: [], stale: [["old", true]], changes: [["old", "failed"]], want: ["old"] },
    { name: "keeps a stale object with Prune=false (it shows OutOfSync, as in Argo CD)", previous: ["old"], desired: [], stale: [["old", true]], changes: [["old", "skipped"]], want: ["old"] },
    { name: "drops a stale object another app now tracks", previous: ["old"], desired: [], stale: [["old", false]], changes: [["old", "skipped"]], want: [] },
  ] as const)("$name", ({ previous, desired, stale, changes, want }) => {
    expect(nextInventory({
      previous: previous.map(key),
      desired: desired.map(cm),
      stale: stale.map(([n, owned]) => ({ ref: cm(n), owned })),
      changes: changes.map(([n, action]) => ({ ref: cm(n), action })),
    })).toEqual(want.map(entry).sort());
  });
});

describe("the inventory folded into status.resources", () => {
  const cm = (name: string, version = "v1") => ({ group: "", version, kind: "ConfigMap", namespace: "web", name });
  const listed = (...refs: ReturnType<typeof cm>[]) => refs.map((r) => ({ ...r, status: "Synced" as const }));
  const entries = (...refs: ReturnType<typeof cm>[]) => refs.map(inventoryEntry);

  it.each([
    { title: "every listed object owned: nothing but the list", inventory: entries(cm("a"), cm("b")), resources: listed(cm("a"), cm("b")), fold: {} },
    { title: "a listed object not owned (a failed create, another app's, not applied yet) is an exception",
      inventory: entries(cm("a"), cm("c")), resources: listed(cm("a"), cm("b"), cm("c")), fold: { except: entries(cm("b")) } },
    { title: "an owned object the list leaves out (gone from Git and the cluster) is kept beside it",
      inventory: entries(cm("a"), cm("gone")), resources: listed(cm("a")), fold: { also: entries(cm("gone")) } },
    { title: "an app that owns nothing yet (its first sync has not run) says so in a few bytes", inventory: [], resources: listed(cm("a"), cm("b")), fold: { only: [] } },
    { title: "when most listed objects are not owned, the owned ones are named instead",
      inventory: entries(cm("a"), cm("gone")), resources: listed(cm("a"), cm("b"), cm("c")), fold: { only: entries(cm("a")), also: entries(cm("gone")) } },
    { title: "half not owned: the exceptions are named", inventory: entries(cm("a")), resources: listed(cm("a"), cm("b")), fold: { except: entries(cm("b")) } },
  ])("$title", ({ inventory, resources, fold }) => {
    expect(foldInventory(inventory, resources)).toEqual(fold);
    expect(inventoryOf({ resources, inventoryFromResources: fold })).toEqual([...inventory].sort());
  });

  it("matches an entry applied under another version by identity: the object is owned, under the version listed now", () => {
    const fold = foldInventory(entries(cm("a", "v1beta1")), listed(cm("a", "v1")));
    expect(fold).toEqual({});
    expect(inventoryOf({ resources: listed(cm("a", "v1")), inventoryFromResources: fold }).map((e) => identity(parseInventoryEntry(e)))).toEqual([identity(cm("a"))]);
  });

  it("reads the inventory a status written before the fold holds, in either spelling (an upgraded agent prunes what the old one applied)", () => {
    expect(inventoryOf({ inventory: ["web_a__ConfigMap_v1", "/v1/ConfigMap/web/b"], resources: listed(cm("c")) })).toEqual(["web_a__ConfigMap_v1", "/v1/ConfigMap/web/b"]);
  });

  it("owns nothing when the status holds neither: resources alone (a status copied from elsewhere) never make objects prunable", () => {
    expect(inventoryOf({ resources: listed(cm("a")) })).toEqual([]);
    expect(inventoryOf(undefined)).toEqual([]);
  });
});

describe("inventoryListed (for an Application CRD that drops the fold)", () => {
  it("writes the same inventory as the old list, which inventoryOf reads back", () => {
    const resources = [{ version: "v1", kind: "ConfigMap", namespace: "web", name: "a", status: "Synced" as const },
      { version: "v1", kind: "ConfigMap", namespace: "web", name: "b", status: "OutOfSync" as const }];
    const status = { resources, inventoryFromResources: { except: ["web_b__ConfigMap_v1"], also: ["web_gone__ConfigMap_v1"] } };
    const listed = inventoryListed(status);
    expect(listed).toEqual({ resources, inventory: ["web_a__ConfigMap_v1", "web_gone__ConfigMap_v1"] });
    expect(inventoryOf(listed)).toEqual(inventoryOf(status));
  });
});
