// Reading a service's options with messages that name the key and the option (never its value).
import type { Destination } from "../subscriptions.ts";
import type { Notification } from "../render.ts";

/** Sends one rendered notification to one destination; rejects to be retried (PermanentError: not). */
export type Sender = (n: Notification, dest: Destination, signal: AbortSignal) => Promise<void>;

export function options(key: string, raw: Readonly<Record<string, unknown>>) {
  const fail = (name: string, want: string): never => { throw new Error(`${key}: option ${name} must be ${want}`); };
  return {
    string(name: string, o: { required?: boolean } = {}): string {
      const v = raw[name];
      if (v === undefined || v === null || v === "") return o.required ? fail(name, "set") : "";
      if (typeof v === "string" || typeof v === "number") return String(v);
      return fail(name, "a string");
    },
    bool(name: string): boolean {
      const v = raw[name];
      if (v === undefined || v === null) return false;
      return typeof v === "boolean" ? v : v === "true" ? true : v === "false" ? false : fail(name, "true or false");
    },
    number(name: string, fallback: number): number {
      const v = raw[name];
      if (v === undefined || v === null || v === "") return fallback;
      const n = Number(v);
      return Number.isFinite(n) ? n : fail(name, "a number");
    },
    list(name: string): unknown[] {
      const v = raw[name];
      if (v === undefined || v === null) return [];
      return Array.isArray(v) ? v : fail(name, "a list");
    },
    map(name: string): Record<string, unknown> | undefined {
      const v = raw[name];
      if (v === undefined || v === null) return undefined;
      return typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : fail(name, "a map");
    },
  };
}
