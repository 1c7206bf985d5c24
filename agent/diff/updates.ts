// `ignoreResourceUpdates` (Argo CD's reconcile optimisation): a change to a managed object that touches
// only ignored fields, and leaves its health as it was, starts no reconcile. Pure.
import type { Manifest, ResourceIgnoreDifferences } from "../api/types.ts";
import { stableHash } from "../hash.ts";
import { removeIgnoredFields } from "./ignore.ts";

/** Fields every update may change without a reconcile, as Argo CD ignores them always. */
function withoutVolatile(obj: Manifest): Manifest {
  const copy = structuredClone(obj);
  delete copy.metadata.resourceVersion;
  delete copy.metadata.generation;
  delete copy.metadata.managedFields;
  return copy;
}

/**
 * Whether `before` → `after` changed nothing but fields the rules ignore (and resourceVersion,
 * generation, managedFields) while the health stayed the same. `healthOf` is the agent's health check.
 */
export function onlyIgnoredFieldsChanged(before: Manifest, after: Manifest, rules: readonly ResourceIgnoreDifferences[],
  healthOf: (obj: Manifest) => string): boolean {
  // Without a rule every change reconciles, as before tether-cm said anything.
  if (rules.length === 0) return false;
  if (healthOf(before) !== healthOf(after)) return false;
  const a = withoutVolatile(before);
  const b = withoutVolatile(after);
  removeIgnoredFields(a, rules, before);
  removeIgnoredFields(b, rules, after);
  return stableHash(a) === stableHash(b);
}
