// Kubernetes' label selector strings (`team=a,env in (prod,staging),!legacy`) as `subscriptions[].selector`
// holds them: parsed into a LabelSelector and matched with the ApplicationSet controller's rules.
import { selectorMatches } from "../appset/generate/selector.ts";
import type { LabelSelector, LabelSelectorRequirement } from "../appset/generate/types.ts";

export type Selector = LabelSelector;

/** Parses a selector string; "" selects everything. Throws with the part it could not read. */
export function parseSelector(text: string): Selector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: LabelSelectorRequirement[] = [];
  for (const part of splitTopLevel(text)) {
    const p = part.trim();
    if (p === "") continue;
    const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p);
    const eq = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(p);
    const exists = /^(!?)([\w./-]+)$/.exec(p);
    if (set) {
      const values = (set[3] ?? "").split(",").map((v) => v.trim()).filter((v) => v !== "");
      matchExpressions.push({ key: set[1] ?? "", operator: set[2] === "in" ? "In" : "NotIn", values });
    } else if (eq) {
      if (eq[2] === "!=") matchExpressions.push({ key: eq[1] ?? "", operator: "NotIn", values: [eq[3] ?? ""] });
      else matchLabels[eq[1] ?? ""] = eq[3] ?? "";
    } else if (exists) {
      matchExpressions.push({ key: exists[2] ?? "", operator: exists[1] === "!" ? "DoesNotExist" : "Exists" });
    } else {
      throw new Error(`cannot read "${p}"; write key=value, key!=value, key in (a,b), key notin (a,b), key or !key`);
    }
  }
  return { matchLabels, matchExpressions };
}

function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of text) {
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (c === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export function selects(selector: Selector, labels: Readonly<Record<string, string>> | undefined): boolean {
  return selectorMatches(selector, labels ?? {});
}
