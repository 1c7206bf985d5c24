import { describe, expect, it } from "vitest";
import type { TreeNode } from "../../agent/ui/view.ts";
import { podsOf, prefixed } from "./logs.ts";

const node = (kind: string, name: string, extra: Partial<TreeNode> = {}): TreeNode => ({
  key: `${kind}/${name}`, ref: { group: kind === "Deployment" ? "apps" : "", version: "v1", kind, name, namespace: "shop" }, parents: [], managed: false, exists: true, ...extra,
});

describe("app logs", () => {
  it("reads the pods of the tree, also those a Deployment created, and not the missing ones", () => {
    expect(podsOf([node("Deployment", "web"), node("Pod", "web-1"), node("Pod", "gone", { exists: false }), node("ConfigMap", "cfg")]))
      .toEqual([{ namespace: "shop", name: "web-1" }]);
  });

  it("prefixes every line with pod and container", () => {
    expect(prefixed("a\nb\n", "[shop/web-1/app] ")).toBe("[shop/web-1/app] a\n[shop/web-1/app] b\n");
    expect(prefixed("", "[x] ")).toBe("");
  });
});
