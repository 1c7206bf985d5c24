import type { Manifest, ResourceIgnoreDifferences } from "../api/types.ts";
import { groupOf } from "./json.ts";
import { jqPaths, parseJq, removeJqPaths, removePath, valueAt, type PathToken } from "./jq.ts";
import { fieldsOwnedBy, removeOwned } from "./owned.ts";
import { getAt, removeAt, setAt } from "./pointer.ts";

/**
 * Whether `rule` applies to `obj`. As in Argo CD, an omitted group means the core group (a
 * Knative `Service` is not a core `Service`), `*` matches any group or kind (and is a wildcard within
 * one: `*.crossplane.io`), and an omitted name
 * or namespace matches any.
 */
export function ruleMatches(rule: ResourceIgnoreDifferences, obj: Manifest): boolean {
  return (
    globEquals(rule.group ?? "", groupOf(obj.apiVersion)) &&
    globEquals(rule.kind, obj.kind) &&
    (rule.name === undefined || rule.name === obj.metadata.name) &&
    (rule.namespace === undefined || rule.namespace === obj.metadata.namespace)
  );
}

/** `pattern` equals `value`, `*` standing for any run of characters (Argo CD's glob: `*.crossplane.io`). */
function globEquals(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  // Compiled once per pattern: a global rule (`.all`, kind `*`) is matched against every object of every compare.
  let glob = globs.get(pattern);
  if (glob === undefined) {
    glob = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
    if (globs.size >= GLOBS) globs.delete(globs.keys().next().value!);
    globs.set(pattern, glob);
  }
  return glob.test(value);
}

const globs = new Map<string, RegExp>();
const GLOBS = 256;

/**
 * Removes, in place, every field a rule matching `matchAgainst` points at: its `jsonPointers`, what
 * its `jqPathExpressions` name in `doc` itself (a select() picks list items by content, not place), and
 * the fields `matchAgainst`'s managedFields give to its `managedFieldsManagers` (so `matchAgainst`
 * is the live object whenever there is one: only it knows who manages what).
 */
export function removeIgnoredFields(doc: Manifest, rules: readonly ResourceIgnoreDifferences[], matchAgainst: Manifest): void {
  for (const rule of rules) {
    if (!ruleMatches(rule, matchAgainst)) continue;
    for (const pointer of rule.jsonPointers ?? []) removeAt(doc, pointer);
    for (const expression of rule.jqPathExpressions ?? []) removeJqPaths(doc, expression);
    if (rule.managedFieldsManagers?.length) for (const fields of fieldsOwnedBy(matchAgainst, rule.managedFieldsManagers)) removeOwned(doc, fields);
  }
}

/**
 * `RespectIgnoreDifferences=true`: the object to apply, with every field an ignoreDifferences rule
 * points at taken from the live object (or left out when live has none) and every field its
 * managedFieldsManagers own left out, so a sync does not undo what the rules ignore (an
 * autoscaler's replicas). Without a live object Git's value goes as is.
 */
export function respectIgnored(desired: Manifest, live: Manifest | undefined, rules: readonly ResourceIgnoreDifferences[]): Manifest {
  if (live === undefined) return desired;
  const matching = rules.filter((rule) => ruleMatches(rule, live));
  if (matching.length === 0) return desired;
  const copy = structuredClone(desired);
  for (const pointer of matching.flatMap((rule) => rule.jsonPointers ?? [])) {
    const value = getAt(live, pointer);
    if (value === undefined) removeAt(copy, pointer);
    else setAt(copy, pointer, structuredClone(value));
  }
  // A jq expression names places in the desired object; each takes the live value at the same place.
  for (const expression of matching.flatMap((rule) => rule.jqPathExpressions ?? [])) {
    for (const path of jqPaths(expression, copy).reverse()) {
      const value = valueAt(live, path);
      if (value === undefined) removePath(copy, path);
      else setPathAt(copy, path, structuredClone(value));
    }
  }
  // Fields another manager owns are left out of what Tether applies: the server keeps that manager's value.
  for (const fields of fieldsOwnedBy(live, matching.flatMap((rule) => rule.managedFieldsManagers ?? []))) removeOwned(copy, fields);
  return copy;
}

function setPathAt(doc: unknown, path: readonly PathToken[], value: unknown): void {
  (valueAt(doc, path.slice(0, -1)) as Record<PathToken, unknown>)[path[path.length - 1]!] = value;
}

/**
 * What is wrong with an app's `ignoreDifferences` (a jq expression Tether cannot evaluate), one
 * message per rule, naming the field: checked before anything is compared or applied.
 */
export function invalidIgnoreRules(rules: readonly ResourceIgnoreDifferences[]): string[] {
  const out: string[] = [];
  rules.forEach((rule, i) => (rule.jqPathExpressions ?? []).forEach((expression, j) => {
    try {
      parseJq(expression);
    } catch (err) {
      out.push(`spec.ignoreDifferences[${i}].jqPathExpressions[${j}]: ${(err as Error).message}`);
    }
  }));
  return out;
}
