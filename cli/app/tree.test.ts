import { describe, expect, it } from "vitest";
import type { TreeNode } from "../../agent/ui/view.ts";
import { treeTable } from "./tree.ts";

const node = (kind: string, name: string, parents: string[], extra: Partial<TreeNode> = {}): TreeNode => ({
  key: `${kind}/${name}`, ref: { group: "", version: "v1", kind, name, namespace: "shop" }, parents, managed: parents.length === 0, exists: true, ...extra,
});

describe("app get's tree", () => {
  it("puts each object under its owner, with sync on managed objects only", () => {
    const text = treeTable([
      node("Deployment", "web", [], { sync: "Synced", health: "Healthy" }),
      node("ReplicaSet", "web-1", ["Deployment/web"], { health: "Healthy" }),
      node("Pod", "web-1-a", ["ReplicaSet/web-1"], { health: "Healthy" }),
      node("Pod", "web-1-b", ["ReplicaSet/web-1"], { health: "Progressing", healthMessage: "ContainerCreating" }),
      node("Service", "web", [], { sync: "OutOfSync", health: "Healthy" }),
    ]);
    expect(text.split("\n").map((l) => l.replace(/(\S)\s+/g, "$1 ").trimEnd())).toEqual([
      "OBJECT SYNC HEALTH MESSAGE",
      "Deployment/shop/web Synced Healthy",
      "└─ReplicaSet/shop/web-1 Healthy",
      "  ├─Pod/shop/web-1-a Healthy",
      "  └─Pod/shop/web-1-b Progressing ContainerCreating",
      "Service/shop/web OutOfSync Healthy",
      "",
    ]);
  });
});
