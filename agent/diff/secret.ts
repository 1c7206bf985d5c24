import type { Manifest } from "../api/types.ts";
import { escapeToken, isObject, type JsonObject } from "./json.ts";
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
 * The annotation the pipeline writes on every object made of SOPS-decrypted content (any kind): the
 * JSON pointers of the top-level fields that hold it, comma-separated (`/data`, `/data,/stringData`,
 * `/spec`), never a value. Live objects carry it, so every view of them (the UI's manifest view, a
 * prune diff, `tether app diff`) masks what SOPS decrypted without rendering Git again.
 */
export const DECRYPTED_PATHS_ANNOTATION = "tether.dev/decrypted-paths";

/** The fields no mark may name: what identifies an object stays readable. */
const IDENTITY_FIELDS = new Set(["apiVersion", "kind", "metadata"]);

/** A copy of a decrypted manifest marked with {@link DECRYPTED_PATHS_ANNOTATION} naming its content fields. */
export function markDecrypted(obj: Manifest): Manifest {
  const paths = Object.keys(obj).filter((k) => !IDENTITY_FIELDS.has(k)).sort().map((k) => `/${escapeToken(k)}`);
  const annotations = { ...obj.metadata.annotations, [DECRYPTED_PATHS_ANNOTATION]: paths.join(",") };
  return { ...obj, metadata: { ...obj.metadata, annotations } };
}

/** The content fields an object's mark names, as reference-token lists; `[]` for an unmarked object. */
export function decryptedPaths(obj: Manifest | undefined): string[][] {
  const mark = obj?.metadata.annotations?.[DECRYPTED_PATHS_ANNOTATION];
  if (typeof mark !== "string") return [];
  return mark.split(",").map((p) => p.trim()).filter((p) => p.startsWith("/") && p.length > 1)
    .map((p) => p.slice(1).split("/").map(unescapeToken))
    .filter((tokens) => !IDENTITY_FIELDS.has(tokens[0] ?? ""));
}

/**
 * Copies of `objs` (desired and live of one object) whose content came out of SOPS decryption,
 * whatever its kind (a ConfigMap, a custom resource): every value outside apiVersion, kind and
 * metadata masked as {@link maskSecrets} masks a Secret's, so a diff shows which fields changed and
 * never what they hold. With `paths`, only the values under those fields.
 */
export function maskDecrypted(objs: readonly (Manifest | undefined)[], paths?: readonly (readonly string[])[]): (Manifest | undefined)[] {
  const copies = objs.map((obj) => (obj === undefined ? undefined : structuredClone(obj)));
  const present = copies.filter((obj): obj is Manifest => obj !== undefined);
  const masks = new Map<string, Map<string, string>>();
  for (const copy of present) {
    const targets = paths ?? Object.keys(copy).filter((k) => !IDENTITY_FIELDS.has(k)).map((k) => [k]);
    for (const tokens of targets) maskAt(copy, tokens, masks);
    const annotations = copy.metadata.annotations;
    if (annotations?.[LAST_APPLIED_ANNOTATION] !== undefined) annotations[LAST_APPLIED_ANNOTATION] = SECRET_MASK;
  }
  return copies;
}

/**
 * Copies of `objs` (the two sides of one object, or one live object) masked as every view must show
 * them: Secret values, and whatever SOPS decrypted by `decrypted` (the render says so) or by the mark
 * either side carries.
 */
export function maskForView(objs: readonly (Manifest | undefined)[], opts: { readonly decrypted?: boolean } = {}): (Manifest | undefined)[] {
  if (opts.decrypted === true) return maskSecrets(maskDecrypted(objs));
  const marked = objs.flatMap(decryptedPaths);
  return maskSecrets(marked.length > 0 ? maskDecrypted(objs, marked) : objs);
}

/** `obj` as a person may see it: Secret values and everything its decryption mark names masked. */
export function maskLive(obj: Manifest): Manifest {
  return maskForView([obj])[0] ?? obj;
}

function maskAt(obj: Manifest, tokens: readonly string[], masks: Map<string, Map<string, string>>): void {
  let parent: unknown = obj;
  for (const token of tokens.slice(0, -1)) parent = isObject(parent) ? parent[token] : undefined;
  const last = tokens.at(-1);
  if (!isObject(parent) || last === undefined || !(last in parent)) return;
  parent[last] = maskLeaves(parent[last], tokens.join("."), masks);
}

function unescapeToken(token: string): string {
  return token.replaceAll("~1", "/").replaceAll("~0", "~");
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
