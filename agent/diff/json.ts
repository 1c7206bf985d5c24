// Plain-JSON helpers: manifests here are JSON trees of unknown shape, read and rewritten on copies.
import { splitApiVersion } from "../api/gvk.ts";

/** A JSON object that this stage may rewrite: always a copy, never the caller's object. */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An empty map or list: what the API server drops when it stores a field marked omitempty. */
export function isEmptyCollection(value: unknown): boolean {
  return (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);
}

/** `apps` for `apps/v1`, the empty core group for `v1`. */
export function groupOf(apiVersion: string): string {
  return splitApiVersion(apiVersion).group;
}

/** One RFC 6901 reference token, escaped (`~` as `~0`, `/` as `~1`). */
export function escapeToken(token: string): string {
  if (!token.includes("~") && !token.includes("/")) return token;
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}
