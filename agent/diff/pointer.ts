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
