// `tether app get`: the live objects of an Application as a tree (owner references), as
// `argocd app resources --output tree` shows them.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Application } from "../../agent/api/types.ts";
import { KubeCluster } from "../../agent/apply/cluster.ts";
import { KubeHttp } from "../../agent/apply/http.ts";
import { readTree } from "../../agent/ui/reads.ts";
import type { TreeNode } from "../../agent/ui/view.ts";
import { table } from "../output.ts";

/** The app's tree, read live: managed objects and what they created. */
export async function liveTree(app: Application, kc: KubeConfig): Promise<TreeNode[]> {
  return await readTree(app, { http: new KubeHttp(kc), cluster: new KubeCluster(kc) });
}

const label = (n: TreeNode) => `${n.ref.kind}/${n.ref.namespace ? `${n.ref.namespace}/` : ""}${n.ref.name}`;

/** The tree as a table: each object under its owner, with sync, health and why. Pure. */
export function treeTable(nodes: readonly TreeNode[], wide = false): string {
  const children = new Map<string, TreeNode[]>();
  for (const n of nodes) for (const p of n.parents) children.set(p, [...(children.get(p) ?? []), n]);
  const rows: string[][] = [];
  const visit = (n: TreeNode, prefix: string, branch: string, depth: number) => {
    rows.push([`${prefix}${branch}${label(n)}`, n.managed ? (n.sync ?? "") : "", n.exists ? (n.health ?? "") : "Missing",
      ...(wide ? [n.wave === undefined ? "" : String(n.wave), n.hook ?? ""] : []), n.healthMessage ?? ""]);
    const kids = children.get(n.key) ?? [];
    kids.forEach((k, i) => visit(k, depth === 0 ? "" : `${prefix}${branch === "├─" ? "│ " : "  "}`, i === kids.length - 1 ? "└─" : "├─", depth + 1));
  };
  for (const root of nodes.filter((n) => n.parents.length === 0)) visit(root, "", "", 0);
  return table(["OBJECT", "SYNC", "HEALTH", ...(wide ? ["WAVE", "HOOK"] : []), "MESSAGE"], rows);
}
