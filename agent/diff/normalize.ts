import type { Manifest, ResourceIgnoreDifferences } from "../api/types.ts";
import { removeIgnoredFields } from "./ignore.ts";
import { isEmptyCollection, isObject, type JsonObject } from "./json.ts";

/** Metadata the API server owns: it differs between any two reads and says nothing about drift. */
export const SERVER_METADATA = [
  "managedFields",
  "resourceVersion",
  "uid",
  "generation",
  "creationTimestamp",
  "selfLink",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
] as const;

/** Written by `kubectl apply` (client side); it holds a whole copy of the object, Secret data included. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

export interface NormalizeOptions {
  /** Fields the Application says to ignore (`spec.ignoreDifferences`); matching rules lose their jsonPointers. */
  readonly ignoreDifferences?: readonly ResourceIgnoreDifferences[];
  /**
   * The object the rules are matched against, when it is not the one being normalized: a desired
   * object may not carry its namespace yet, and both sides of a comparison must lose the same fields.
   */
  readonly matchAgainst?: Manifest;
}

/**
 * A copy of `obj` with what the server owns or adds removed, so a desired and a live object
 * compare: server metadata, `status`, the last-applied annotation, empty labels/annotations, and
 * `null` fields (a template's way of saying "no opinion"). A Secret's `stringData` is folded into
 * `data` as the API server stores it. Ignored fields are removed last.
 */
export function normalize(obj: Manifest, opts: NormalizeOptions = {}): Manifest {
  const copy = comparable(obj);
  if (isObject(copy.metadata)) normalizeMetadata(copy.metadata);
  if (copy.kind === "Secret" && copy.apiVersion === "v1") foldStringData(copy);
  removeIgnoredFields(copy, opts.ignoreDifferences ?? [], opts.matchAgainst ?? obj);
  // An ignored annotation may have been the last one.
  if (isObject(copy.metadata)) dropEmptyMaps(copy.metadata);
  return copy;
}

function normalizeMetadata(metadata: JsonObject): void {
  for (const key of SERVER_METADATA) delete metadata[key];
  if (isObject(metadata.annotations)) delete metadata.annotations[LAST_APPLIED_ANNOTATION];
  dropEmptyMaps(metadata);
}

/**
 * Only labels and annotations: elsewhere an empty map can mean something (`emptyDir: {}`), and
 * the comparison already treats an empty desired map as matching an absent live one.
 */
function dropEmptyMaps(metadata: JsonObject): void {
  for (const key of ["labels", "annotations"]) {
    if (isEmptyCollection(metadata[key])) delete metadata[key];
  }
}

/** The API server merges `stringData` into `data` (base64, `stringData` wins) and never stores `stringData`. */
function foldStringData(secret: JsonObject): void {
  if (!isObject(secret.stringData)) return;
  const data: JsonObject = isObject(secret.data) ? secret.data : {};
  for (const [key, value] of Object.entries(secret.stringData)) {
    if (typeof value === "string") data[key] = Buffer.from(value, "utf8").toString("base64");
  }
  secret.data = data;
  delete secret.stringData;
}

/**
 * A copy without `status`, server metadata and `null` members of objects (null list items stay), made
 * in one pass: what is dropped is never copied (managedFields are most of a small live object).
 */
function comparable(obj: Manifest): Manifest {
  const copy: JsonObject = {};
  for (const key of Object.keys(obj)) {
    const value = (obj as JsonObject)[key];
    if (key === "status" || value === null) continue;
    put(copy, key, key === "metadata" && isObject(value) ? withoutServerMetadata(value) : withoutNulls(value));
  }
  return copy as Manifest;
}

function withoutServerMetadata(metadata: JsonObject): JsonObject {
  const copy: JsonObject = {};
  for (const key of Object.keys(metadata)) {
    const value = metadata[key];
    if (value !== null && !(SERVER_METADATA as readonly string[]).includes(key)) put(copy, key, withoutNulls(value));
  }
  return copy;
}

/** A copy of a JSON value without the `null` members of its objects (a template's "no opinion"). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  const copy: JsonObject = {};
  for (const key of Object.keys(value)) {
    const member = value[key];
    if (member !== null) put(copy, key, withoutNulls(member));
  }
  return copy;
}

/** A member set as data: `__proto__` from JSON is a field like any other, never the copy's prototype. */
function put(copy: JsonObject, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  else copy[key] = value;
}
