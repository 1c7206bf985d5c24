import { describe, expect, it } from "vitest";
import { installManifests, rbacManifests, staleBindings } from "./install.ts";
import { crds } from "./crds.ts";

const kinds = (objects: { kind?: string; metadata?: { name?: string; namespace?: string } }[]) =>
  objects.map((o) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`);

describe("the agent's RBAC", () => {
  it("binds cluster-admin cluster-wide by default, or the ClusterRole named", () => {
    expect(rbacManifests("tether-system", {})).toMatchObject([{ kind: "ClusterRoleBinding", roleRef: { name: "cluster-admin" } }]);
    expect(rbacManifests("tether-system", { clusterRole: "tether-deployer" })).toMatchObject([{ roleRef: { name: "tether-deployer" } }]);
  });

  it("grants nothing cluster-wide in namespaced mode: RoleBindings in the agent and target namespaces only", () => {
    const objects = rbacManifests("tether-system", { mode: "namespaced", namespaces: ["shop", "web"] });
    expect(objects.some((o) => o.kind === "ClusterRoleBinding")).toBe(false);
    expect(kinds(objects.filter((o) => o.kind === "RoleBinding"))).toEqual([
      "RoleBinding/tether-system/tether-agent-namespaced",
      "RoleBinding/shop/tether-agent", "RoleBinding/shop/tether-agent-impersonate",
      "RoleBinding/web/tether-agent", "RoleBinding/web/tether-agent-impersonate",
    ]);
  });

  it("deletes a binding whose role changed, and the cluster-wide one when going namespaced", () => {
    const narrower = installManifests({ clusterRole: "tether-deployer" });
    expect(staleBindings([{ kind: "ClusterRoleBinding", name: "tether-agent", roleRef: "cluster-admin" }], narrower))
      .toEqual([{ kind: "ClusterRoleBinding", name: "tether-agent", roleRef: "cluster-admin" }]);
    expect(staleBindings([{ kind: "ClusterRoleBinding", name: "tether-agent", roleRef: "tether-deployer" }], narrower)).toEqual([]);
    const namespaced = installManifests({ mode: "namespaced" });
    expect(staleBindings([{ kind: "ClusterRoleBinding", name: "tether-agent", roleRef: "cluster-admin" }], namespaced)).toHaveLength(1);
  });
});

describe("the CRDs as a declarative tool compares them", () => {
  /** Paths of empty lists: the API server drops them, so `pulumi preview` and Argo CD would see a change at every run. */
  const emptyLists = (value: unknown, at = ""): string[] => {
    if (Array.isArray(value)) return value.length === 0 ? [at] : value.flatMap((v, i) => emptyLists(v, `${at}[${i}]`));
    if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => emptyLists(v, `${at}.${k}`));
    return [];
  };

  it.each(crds.map((c) => [c.metadata.name, c] as const))("%s has no empty list the API server would drop", (_, crd) => {
    expect(emptyLists(crd)).toEqual([]);
  });
});
