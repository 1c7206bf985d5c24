import { describe, expect, it } from "vitest";
import { installManifests, rbacManifests, staleBindings } from "./install.ts";

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
