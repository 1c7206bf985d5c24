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

  it("names the cluster-wide binding after its role, so another role is another binding", () => {
    expect(rbacManifests("tether-system", {})).toMatchObject([{ metadata: { name: "tether-agent" } }]);
    expect(rbacManifests("tether-system", { clusterRole: "tether-deployer" })).toMatchObject([{ metadata: { name: "tether-agent-tether-deployer" } }]);
  });

  const admin = { kind: "ClusterRoleBinding", name: "tether-agent", roleRef: "cluster-admin" } as const;
  const deployer = { kind: "ClusterRoleBinding", name: "tether-agent-tether-deployer", roleRef: "tether-deployer" } as const;
  it.each([
    ["a narrower role: the old binding goes after the new one exists", [admin], { clusterRole: "tether-deployer" }, { before: [], after: [admin] }],
    ["the same role: nothing", [deployer], { clusterRole: "tether-deployer" }, { before: [], after: [] }],
    ["back to cluster-admin", [deployer], {}, { before: [], after: [deployer] }],
    ["namespaced: the cluster-wide binding goes after the RoleBindings exist", [admin], { mode: "namespaced" as const }, { before: [], after: [admin] }],
    ["a RoleBinding of the same name bound to another role goes first",
      [{ kind: "RoleBinding", name: "tether-agent", namespace: "tether-system", roleRef: "edit" } as const], { mode: "namespaced" as const },
      { before: [{ kind: "RoleBinding", name: "tether-agent", namespace: "tether-system", roleRef: "edit" }], after: [] }],
  ])("%s", (_, live, opts, expected) => {
    expect(staleBindings(live, installManifests(opts))).toEqual(expected);
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
