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

/**
 * Copies of `objs` (desired and live of one object) whose content came out of SOPS decryption,
 * whatever its kind (a ConfigMap, a custom resource): every value outside apiVersion, kind and
 * metadata masked as {@link maskSecrets} masks a Secret's, so a diff shows which fields changed and
 * never what they hold.
 */
export function maskDecrypted(objs: readonly (Manifest | undefined)[]): (Manifest | undefined)[] {
  const copies = objs.map((obj) => (obj === undefined ? undefined : structuredClone(obj)));
  const present = copies.filter((obj): obj is Manifest => obj !== undefined);
  const masks = new Map<string, Map<string, string>>();
  for (const copy of present) {
    for (const key of Object.keys(copy)) {
      if (key === "apiVersion" || key === "kind" || key === "metadata") continue;
      copy[key] = maskLeaves(copy[key], key, masks);
    }
    const annotations = copy.metadata.annotations;
    if (annotations?.[LAST_APPLIED_ANNOTATION] !== undefined) annotations[LAST_APPLIED_ANNOTATION] = SECRET_MASK;
  }
  return copies;
}

/** Every scalar under `value` replaced by its mask: one per (path, value), longer for each new value at a path. */
function maskLeaves(value: unknown, path: string, masks: Map<string, Map<string, string>>): unknown {
  if (Array.isArray(value)) return value.map((item, i) => maskLeaves(item, `${path}[${i}]`, masks));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskLeaves(v, `${path}.${k}`, masks)]));
  const byValue = masks.get(path) ?? new Map<string, string>();
  masks.set(path, byValue);
  const text = JSON.stringify(value) ?? "";
  const mask = byValue.get(text) ?? SECRET_MASK + "+".repeat(byValue.size);
  byValue.set(text, mask);
  return mask;
}

/**
 * Whether a planned object is one the render marked decrypted (by apiVersion, kind, name, and
 * namespace when the render set one): planning copies manifests, so the mark is found by identity.
 */
export function decryptedIn(rendered: readonly { readonly manifest: Manifest; readonly decrypted: boolean }[]): (obj: Manifest) => boolean {
  const key = (m: Manifest) => `${m.apiVersion}/${m.kind}/${m.metadata.name}`;
  const marked = rendered.filter((r) => r.decrypted).map((r) => r.manifest);
  const keys = new Set(marked.map(key));
  return (obj) => keys.has(key(obj)) && marked.some((m) => key(m) === key(obj) && (m.metadata.namespace === undefined || m.metadata.namespace === obj.metadata.namespace));
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
