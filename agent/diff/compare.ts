import type { Manifest, ResourceIgnoreDifferences } from "../api/types.ts";
import { escapeToken, isEmptyCollection, isObject } from "./json.ts";
import { normalize } from "./normalize.ts";

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
 * Live with desired laid over it: every field desired sets wins, every other live field stays
 * (the server filled it in). Lists are matched by position, objects inside them the same way.
 * An empty list or map desired where live has none is what the server stores as nothing.
 */
function overlay(live: unknown, desired: unknown): unknown {
  if (isObject(live) && isObject(desired)) {
    const merged = { ...live };
    for (const [key, value] of Object.entries(desired)) {
      if (isEmptyCollection(value) && !(key in live)) continue;
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
