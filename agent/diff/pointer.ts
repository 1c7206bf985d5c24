import { isObject } from "./json.ts";

/**
 * The reference tokens of an RFC 6901 JSON pointer, or undefined when it is not one. The empty
 * pointer (the whole document) is refused too: ignoring a whole object is not a difference rule.
 */
export function parsePointer(pointer: string): string[] | undefined {
  if (!pointer.startsWith("/")) return undefined;
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/**
 * Removes the value `pointer` refers to from `doc`, in place; a pointer to nothing is a no-op,
 * since the field may simply be unset on one side. A list item is spliced out, as JSON Patch
 * `remove` does, so both sides shift the same way.
 */
export function removeAt(doc: unknown, pointer: string): void {
  const tokens = parsePointer(pointer);
  const last = tokens?.pop();
  if (tokens === undefined || last === undefined) return;
  const parent = tokens.reduce<unknown>((node, token) => child(node, token), doc);
  if (Array.isArray(parent)) {
    const index = arrayIndex(last);
    if (index !== undefined && index < parent.length) parent.splice(index, 1);
  } else if (isObject(parent)) {
    delete parent[last];
  }
}

/** The value `pointer` refers to in `doc`, or undefined. */
export function getAt(doc: unknown, pointer: string): unknown {
  return parsePointer(pointer)?.reduce<unknown>((node, token) => child(node, token), doc);
}

/**
 * Sets the value `pointer` refers to, in place, creating missing objects on the way; a pointer
 * through a scalar or past the end of a list is a no-op.
 */
export function setAt(doc: unknown, pointer: string, value: unknown): void {
  const tokens = parsePointer(pointer);
  const last = tokens?.pop();
  if (tokens === undefined || last === undefined) return;
  let node = doc;
  for (const token of tokens) {
    if (isObject(node) && node[token] === undefined) node[token] = {};
    node = child(node, token);
  }
  if (Array.isArray(node)) {
    const index = arrayIndex(last);
    if (index !== undefined && index < node.length) node[index] = value;
  } else if (isObject(node)) {
    node[last] = value;
  }
}

function child(node: unknown, token: string): unknown {
  if (Array.isArray(node)) {
    const index = arrayIndex(token);
    return index === undefined ? undefined : (node as unknown[])[index];
  }
  return isObject(node) ? node[token] : undefined;
}

/** RFC 6901 array indexes are decimal without leading zeros. */
function arrayIndex(token: string): number | undefined {
  return /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : undefined;
}
