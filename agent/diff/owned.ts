// Fields Tether applied before that Git no longer sets. Comparing only the fields Git sets cannot see
// a field deleted from Git; the live object's managedFields can: whatever the `tether` manager owns
// (its last applied configuration) but the desired object lacks is removed by the next apply, so
// until then the object is OutOfSync. Pure: the desired object and the live one in, pointers out.
import { FIELD_MANAGER, type Manifest } from "../api/types.ts";
import { escapeToken, isObject } from "./json.ts";

interface ManagedFieldsEntry {
  readonly manager?: string;
  readonly operation?: string;
  readonly apiVersion?: string;
  readonly fieldsV1?: Record<string, unknown>;
}

/** Pointers (`/spec/template/spec/nodeSelector`) of fields this manager applied that `desired` no longer has. */
export function droppedFields(desired: Manifest, live: Manifest, manager = FIELD_MANAGER): string[] {
  const entries = (live.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const ours = entries.find((e) => e.manager === manager && e.operation === "Apply" && e.apiVersion === desired.apiVersion);
  const out: string[] = [];
  if (ours?.fieldsV1) missing(ours.fieldsV1, desired, { tokens: [], out });
  return out;
}

/** Where a walk is (its pointer's tokens, escaped) and what it found; the pointer is joined only for a field that is missing. */
interface Walk {
  readonly tokens: string[];
  readonly out: string[];
}

/** Walks a fieldsV1 set beside the desired value and records where the desired value has no such field. */
function missing(fields: Record<string, unknown>, desired: unknown, walk: Walk): void {
  for (const [key, sub] of Object.entries(fields)) {
    if (key === ".") continue;
    const children = isObject(sub) ? sub : {};
    if (key.startsWith("f:")) {
      const value = isObject(desired) ? desired[key.slice(2)] : undefined;
      within(walk, escapeToken(key.slice(2)), value === undefined ? undefined : () => missing(children, value, walk));
    } else if (key.startsWith("k:")) {
      const item = findItem(desired, JSON.parse(key.slice(2)) as Record<string, unknown>);
      within(walk, key, item === undefined ? undefined : () => missing(children, item, walk));
    } else if (key.startsWith("v:")) {
      const value: unknown = JSON.parse(key.slice(2));
      if (!Array.isArray(desired) || !desired.some((d) => sameScalar(d, value))) within(walk, key, undefined);
    }
  }
}

/** Runs `inside` one token deeper; without it, the field there is missing. */
function within(walk: Walk, token: string, inside: (() => void) | undefined): void {
  walk.tokens.push(token);
  if (inside) inside();
  else walk.out.push(`/${walk.tokens.join("/")}`);
  walk.tokens.pop();
}

/**
 * The list item whose merge keys equal `keys`. A key the desired item leaves out counts as equal: the
 * server fills it in (a container port's `protocol: TCP`) and records it in the key.
 */
function findItem(list: unknown, keys: Record<string, unknown>): unknown {
  if (!Array.isArray(list)) return undefined;
  return list.find((item) => isObject(item) && Object.entries(keys).every(([k, v]) => item[k] === undefined || sameScalar(item[k], v)));
}

function sameScalar(a: unknown, b: unknown): boolean {
  const scalar = (v: unknown): v is string | number | boolean => typeof v === "string" || typeof v === "number" || typeof v === "boolean";
  return a === b || (scalar(a) && scalar(b) && String(a) === String(b));
}

/**
 * Removes from `doc`, in place, every field `fields` (a managedFields `fieldsV1` set) names: a leaf
 * field or list item whole, a field with children field by field (what the manager owns inside a
 * container, not the container). List items are found by their merge keys as in {@link droppedFields}.
 */
export function removeOwned(doc: unknown, fields: Record<string, unknown>): void {
  for (const [key, sub] of Object.entries(fields)) {
    const children = isObject(sub) ? sub : {};
    const leaf = Object.keys(children).every((k) => k === ".");
    if (key.startsWith("f:") && isObject(doc) && key.slice(2) in doc) {
      if (leaf) delete doc[key.slice(2)];
      else removeOwned(doc[key.slice(2)], children);
    } else if (key.startsWith("k:") && Array.isArray(doc)) {
      const item = findItem(doc, JSON.parse(key.slice(2)) as Record<string, unknown>);
      if (item === undefined) continue;
      if (leaf) doc.splice(doc.indexOf(item), 1);
      else removeOwned(item, children);
    } else if (key.startsWith("v:") && Array.isArray(doc)) {
      const value: unknown = JSON.parse(key.slice(2));
      const at = doc.findIndex((d) => sameScalar(d, value));
      if (at >= 0) doc.splice(at, 1);
    }
  }
}

/** The fieldsV1 sets the live object's managedFields give to any of `managers`. */
export function fieldsOwnedBy(live: Manifest, managers: readonly string[]): Record<string, unknown>[] {
  const entries = (live.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  return entries.filter((e) => e.manager !== undefined && managers.includes(e.manager) && e.fieldsV1).map((e) => e.fieldsV1 as Record<string, unknown>);
}
