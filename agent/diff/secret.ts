import type { Manifest } from "../api/types.ts";
import { isObject, type JsonObject } from "./json.ts";
import { LAST_APPLIED_ANNOTATION } from "./normalize.ts";

/** What a Secret value is shown as. `+` rather than `*`, as Argo CD does, so it is not read as a glob. */
export const SECRET_MASK = "++++++++";

const SECRET_FIELDS = ["data", "stringData"] as const;

/** A copy of `obj` with every Secret value masked; any other kind is returned as is. */
export function maskSecret(obj: Manifest): Manifest {
  if (!isSecret(obj)) return obj;
  const copy = structuredClone(obj);
  maskInPlace([copy]);
  return copy;
}

/**
 * Copies of `objs` (e.g. desired and live) with every Secret value masked. Masks are assigned per
 * key across all of them: equal values share a mask, a different value gets a longer one
 * (`++++++++` vs `+++++++++`), so a diff still shows *that* a key changed, never what it holds.
 */
export function maskSecrets(objs: readonly (Manifest | undefined)[]): (Manifest | undefined)[] {
  const copies = objs.map((obj) => (obj !== undefined && isSecret(obj) ? structuredClone(obj) : obj));
  maskInPlace(copies.filter((obj): obj is Manifest => obj !== undefined && isSecret(obj)));
  return copies;
}

function isSecret(obj: Manifest): boolean {
  return obj.kind === "Secret" && obj.apiVersion === "v1";
}

function maskInPlace(secrets: readonly Manifest[]): void {
  for (const field of SECRET_FIELDS) {
    const maps = secrets.map((secret) => secret[field]).filter(isObject);
    for (const key of new Set(maps.flatMap((map) => Object.keys(map)))) maskKey(maps, key);
  }
  // A client-side `kubectl apply` left a full copy of the Secret, values included, in this annotation.
  for (const secret of secrets) {
    const annotations = secret.metadata.annotations;
    if (annotations?.[LAST_APPLIED_ANNOTATION] !== undefined) annotations[LAST_APPLIED_ANNOTATION] = SECRET_MASK;
  }
}

function maskKey(maps: readonly JsonObject[], key: string): void {
  const maskByValue = new Map<string, string>();
  for (const map of maps) {
    if (!(key in map)) continue;
    const value = JSON.stringify(map[key]) ?? "";
    const mask = maskByValue.get(value) ?? SECRET_MASK + "+".repeat(maskByValue.size);
    maskByValue.set(value, mask);
    map[key] = mask;
  }
}
