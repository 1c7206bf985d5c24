import type { Manifest, ResourceIgnoreDifferences } from "../api/types.ts";
import { ruleMatches } from "./ignore.ts";
import { escapeToken, isEmptyCollection, isObject } from "./json.ts";
import { LAST_APPLIED_ANNOTATION, normalize, SERVER_METADATA } from "./normalize.ts";

export interface CompareInput {
  /** The object as rendered from Git. */
  readonly desired: Manifest;
  /** The object in the cluster; undefined when it does not exist. */
  readonly live: Manifest | undefined;
  /**
   * The result of a server-side-apply dry-run of `desired`: desired as the server would store it,
   * with its defaults and admission changes. With it the comparison is exact; without it desired
   * is compared as a subset of live, which cannot see through server canonicalization such as
   * `cpu: 1000m` stored as `"1"`.
   */
  readonly predicted?: Manifest;
  readonly ignoreDifferences?: readonly ResourceIgnoreDifferences[];
}

export interface CompareResult {
  readonly status: "Synced" | "OutOfSync";
  /** JSON pointers of the fields that differ (`/spec/replicas`); `[""]` (the whole object) when live does not exist. */
  readonly differences: readonly string[];
  /**
   * What live would be after a sync, normalized: the normalized dry-run result, or live with
   * desired's fields laid over it. Pass it with `live` to `unifiedDiff`. It holds Secret data in
   * clear: print it only through `unifiedDiff` or `maskSecret`.
   */
  readonly target: Manifest;
  /** The live object, normalized; undefined when it does not exist. */
  readonly live: Manifest | undefined;
}

/**
 * Whether the live object matches what Git wants. Both sides are normalized with the same
 * `ignoreDifferences` rules, matched against the live object (where the object really is) so a
 * desired object without its namespace yet loses the same fields.
 */
export function compare(input: CompareInput): CompareResult {
  const opts = { ignoreDifferences: input.ignoreDifferences ?? [], matchAgainst: input.live ?? input.desired };
  const live = input.live && normalize(input.live, opts);
  const desired = normalize(input.predicted ?? input.desired, opts);
  const target = input.predicted !== undefined || live === undefined ? desired : (overlay(live, desired) as Manifest);
  const differences = live === undefined ? [""] : diffPointers(target, live, "");
  return { status: differences.length > 0 ? "OutOfSync" : "Synced", differences, target, live };
}

/**
 * `compare(input).status === "Synced"`, for a caller that needs only the verdict (the reconcile's
 * compare of every object). Most objects are unchanged: for them a walk of Git's fields beside the
 * live object answers without copying or normalizing either; whatever it cannot vouch for (a field
 * that differs, an ignoreDifferences rule, a Secret's stringData, a dry-run result) goes to compare().
 */
export function isSynced(input: CompareInput): boolean {
  if (input.live === undefined) return false;
  if (input.predicted === undefined && walkSynced(input.desired, input.live, input.ignoreDifferences ?? [])) return true;
  return compare(input).status === "Synced";
}

/**
 * Whether every field `desired` sets has that value in `live`, as compare() would find it without a
 * dry-run: what normalize() removes (server metadata, status, the last-applied annotation, null
 * fields) is skipped on Git's side, `cpu: 1` equals `"1"`, an empty map or list equals an absent one,
 * lists compare by position and length. False means "not vouched for", not OutOfSync: anything
 * normalize() would change on the live side within Git's fields (a null live), any ignoreDifferences
 * rule matching the object, and a Secret's stringData answer false. Exported for its tests.
 */
export function walkSynced(desired: Manifest, live: Manifest, ignoreDifferences: readonly ResourceIgnoreDifferences[]): boolean {
  if (!isObject(desired) || !isObject(live)) return false;
  if (desired.kind === "Secret" && desired.apiVersion === "v1" && (desired as { stringData?: unknown }).stringData !== undefined) return false;
  if (ignoreDifferences.some((rule) => ruleMatches(rule, live))) return false;
  for (const key of Object.keys(desired)) {
    if (key === "status") continue;
    const value = (desired as Record<string, unknown>)[key];
    const ok = key === "metadata" && isObject(value) && isObject(live.metadata) ? metadataCovered(value, live.metadata) : fieldCovered(value, live, key);
    if (!ok) return false;
  }
  return true;
}

/** Git's metadata beside live's, without what normalize() removes from both. */
function metadataCovered(desired: Record<string, unknown>, live: Record<string, unknown>): boolean {
  for (const key of Object.keys(desired)) {
    if ((SERVER_METADATA as readonly string[]).includes(key)) continue;
    const value = desired[key];
    if (key === "annotations" && isObject(value)) {
      const annotations = Object.keys(value).filter((k) => k !== LAST_APPLIED_ANNOTATION);
      if (annotations.length === 0) continue;
      const liveAnnotations = live.annotations;
      if (!isObject(liveAnnotations) || !annotations.every((k) => fieldCovered(value[k], liveAnnotations, k))) return false;
    } else if (!fieldCovered(value, live, key)) return false;
  }
  return true;
}

/** Whether Git's `value` for `key` is what `live` holds there, as overlay() then diffPointers() would find it. */
function fieldCovered(value: unknown, live: Record<string, unknown>, key: string): boolean {
  // null is "no opinion": normalize() drops it from Git's side.
  if (value === null) return true;
  const present = Object.hasOwn(live, key);
  if (!present) return isEmptyCollection(value);
  return covered(value, live[key]);
}

function covered(desired: unknown, live: unknown): boolean {
  if (isObject(desired)) {
    if (!isObject(live)) return false;
    for (const key of Object.keys(desired)) if (!fieldCovered(desired[key], live, key)) return false;
    return true;
  }
  if (Array.isArray(desired)) {
    // A null list item is kept by normalize(): left to compare().
    return Array.isArray(live) && live.length === desired.length && desired.every((item: unknown, i) => item !== null && covered(item, live[i]));
  }
  return isScalar(desired) && isScalar(live) && String(desired) === String(live);
}

/**
 * Live with desired laid over it: every field desired sets wins, every other live field stays
 * (the server filled it in). Lists are matched by position, objects inside them the same way.
 * An empty list or map desired where live has none is what the server stores as nothing.
 */
function overlay(live: unknown, desired: unknown): unknown {
  if (isObject(live) && isObject(desired)) {
    const merged = { ...live };
    for (const [key, value] of Object.entries(desired)) {
      if (isEmptyCollection(value) && !Object.hasOwn(live, key)) continue;
      merged[key] = overlay(live[key], value);
    }
    return merged;
  }
  if (Array.isArray(live) && Array.isArray(desired)) {
    return desired.map((item: unknown, index) => overlay((live as unknown[])[index], item));
  }
  // YAML `cpu: 1` is a number where the server stores the string "1"; that is not drift.
  if (isScalar(live) && isScalar(desired) && String(live) === String(desired)) return live;
  return desired;
}

/** Pointers to every place `a` and `b` differ; a list of a different length differs as a whole. */
function diffPointers(a: unknown, b: unknown, path: string): string[] {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((key) => diffPointers(a[key], b[key], `${path}/${escapeToken(key)}`));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    return a.flatMap((item: unknown, index) => diffPointers(item, (b as unknown[])[index], `${path}/${index}`));
  }
  return Object.is(a, b) ? [] : [path];
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}
