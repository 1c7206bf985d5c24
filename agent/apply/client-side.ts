// Client-side apply, as `kubectl apply` without --server-side does it (Argo CD's default, Tether's
// `ServerSideApply=false`): the object carries what was applied last in the
// `kubectl.kubernetes.io/last-applied-configuration` annotation, and an update is a three-way patch:
// fields the last apply set that Git no longer has are removed, fields that differ from live are set,
// fields someone else added are left alone. Pure: the objects in, the patch out.
import type { Manifest } from "../api/types.ts";
import { LAST_APPLIED_ANNOTATION } from "../diff/normalize.ts";
import { isObject, type JsonObject } from "../diff/json.ts";

/** `desired` with the annotation that records it as the last applied configuration (kubectl's exact JSON of the object without it). */
export function withLastApplied(desired: Manifest): Manifest {
  const annotations = { ...desired.metadata.annotations };
  delete annotations[LAST_APPLIED_ANNOTATION];
  const recorded = { ...desired, metadata: { ...desired.metadata, annotations } };
  if (Object.keys(annotations).length === 0) delete (recorded.metadata as { annotations?: unknown }).annotations;
  return { ...desired, metadata: { ...desired.metadata, annotations: { ...annotations, [LAST_APPLIED_ANNOTATION]: JSON.stringify(recorded) } } };
}

/** What the live object says was applied last; undefined when it never was (or the annotation is not JSON). */
export function lastApplied(live: Manifest): JsonObject | undefined {
  const raw = live.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The JSON merge patch (RFC 7386) that takes `live` to `desired`, given what was applied last:
 * every field of `desired` that differs from live, and `null` for every field the last apply set
 * that `desired` no longer has. Lists are set whole, as a merge patch sets them (kubectl merges
 * some lists of built-in kinds by key; here a list Git sets is Git's). Empty when nothing differs.
 */
export function threeWayPatch(original: JsonObject | undefined, desired: JsonObject, live: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const [key, value] of Object.entries(desired)) {
    const current = live[key];
    if (isObject(value) && isObject(current)) {
      const before = original?.[key];
      const sub = threeWayPatch(isObject(before) ? before : undefined, value, current);
      if (Object.keys(sub).length > 0) patch[key] = sub;
    } else if (!equal(value, current)) {
      patch[key] = value;
    }
  }
  for (const key of Object.keys(original ?? {})) {
    if (!(key in desired) && key in live) patch[key] = null;
  }
  return patch;
}

function equal(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => equal(a[k], b[k]));
  }
  return Object.is(a, b);
}
