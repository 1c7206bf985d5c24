import type { Manifest, ResourceIgnoreDifferences } from "../api/types.ts";
import { groupOf } from "./json.ts";
import { removeAt } from "./pointer.ts";

/**
 * Whether `rule` applies to `obj`. As in Argo CD, an omitted group means the core group (a
 * Knative `Service` is not a core `Service`), `*` matches any group or kind, and an omitted name
 * or namespace matches any.
 */
export function ruleMatches(rule: ResourceIgnoreDifferences, obj: Manifest): boolean {
  const group = rule.group ?? "";
  return (
    (group === "*" || group === groupOf(obj.apiVersion)) &&
    (rule.kind === "*" || rule.kind === obj.kind) &&
    (rule.name === undefined || rule.name === obj.metadata.name) &&
    (rule.namespace === undefined || rule.namespace === obj.metadata.namespace)
  );
}

/** Removes, in place, every field a rule matching `matchAgainst` points at. */
export function removeIgnoredFields(doc: Manifest, rules: readonly ResourceIgnoreDifferences[], matchAgainst: Manifest): void {
  for (const rule of rules) {
    if (!ruleMatches(rule, matchAgainst)) continue;
    for (const pointer of rule.jsonPointers ?? []) removeAt(doc, pointer);
  }
}
