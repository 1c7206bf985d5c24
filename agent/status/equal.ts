import type { ApplicationStatus } from "../api/types.ts";

/** Deep equality of JSON values, key order ignored. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Whether writing `next` would change anything but the time of the reconcile. A reconcile that found
 * nothing new writes nothing: that keeps a quiet cluster quiet (and is tested).
 */
export function statusChanged(previous: ApplicationStatus | undefined, next: ApplicationStatus): boolean {
  const strip = (s: ApplicationStatus | undefined) => (s ? { ...s, reconciledAt: undefined } : {});
  return !jsonEqual(strip(previous), strip(next));
}
