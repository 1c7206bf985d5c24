// Go text/template's predefined functions (and and or are evaluated lazily by exec.ts), with Go's rules
// for comparisons: ints (bigint) and floats (number) do not compare, maps and slices are not comparable.
import type { TemplateFunc } from "./exec.ts";
import { sprint, sprintf, sprintln } from "./fmt.ts";
import { goType, isMap, truth } from "./values.ts";

export function fn(min: number, max: number, call: (args: readonly unknown[]) => unknown): TemplateFunc {
  return { arity: [min, max], call };
}

type Kind = "bool" | "int" | "float" | "string" | "nil" | "other";

function kindOf(v: unknown): Kind {
  if (v === undefined || v === null) return "nil";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "float";
  if (typeof v === "string") return "string";
  return "other";
}

function eq(a: unknown, others: readonly unknown[]): boolean {
  if (others.length === 0) throw new Error("missing argument for comparison");
  const k1 = kindOf(a);
  for (const b of others) {
    const k2 = kindOf(b);
    if (k1 === "other" || k2 === "other") {
      throw new Error(`non-comparable type ${goType(k1 === "other" ? a : b)}`);
    }
    if (k1 !== k2) {
      if (k1 !== "nil" && k2 !== "nil") throw new Error("incompatible types for comparison");
      continue;
    }
    if (a === b) return true;
  }
  return false;
}

function less(a: unknown, b: unknown): boolean {
  const k1 = kindOf(a);
  const k2 = kindOf(b);
  if (k1 === "bool" || k1 === "nil" || k1 === "other" || k2 === "bool" || k2 === "nil" || k2 === "other") {
    throw new Error("invalid type for comparison");
  }
  if (k1 !== k2) throw new Error("incompatible types for comparison");
  return (a as number) < (b as number);
}

function lenOf(v: unknown): bigint {
  if (typeof v === "string") return BigInt(Buffer.byteLength(v, "utf8"));
  if (Array.isArray(v)) return BigInt(v.length);
  if (isMap(v)) return BigInt(Object.keys(v).length);
  throw new Error(`len of type ${goType(v)}`);
}

export function toIndex(v: unknown): number {
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number" && Number.isInteger(v)) return v;
  throw new Error(`cannot index slice/array with type ${goType(v)}`);
}

function index(item: unknown, keys: readonly unknown[]): unknown {
  let v = item;
  for (const key of keys) {
    if (Array.isArray(v) || typeof v === "string") {
      const i = toIndex(key);
      const n = Array.isArray(v) ? v.length : Buffer.byteLength(v);
      if (i < 0 || i >= n) throw new Error(`index out of range: ${i}`);
      v = Array.isArray(v) ? v[i] : BigInt(Buffer.from(v)[i] ?? 0);
    } else if (isMap(v)) {
      if (typeof key !== "string") throw new Error(`value has type ${goType(key)}; should be string`);
      v = Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined;
    } else if (v === undefined || v === null) {
      throw new Error("index of untyped nil");
    } else {
      throw new Error(`can't index item of type ${goType(v)}`);
    }
  }
  return v;
}

function htmlEscape(s: string): string {
  return s.replace(/[&'<>"\0]/g, (c) =>
    ({ "&": "&amp;", "'": "&#39;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "\0": "\uFFFD" })[c] ?? c,
  );
}

function jsEscape(s: string): string {
  return [...s].map((c) => (c.charCodeAt(0) < 0x20 || `\\'"<>&=`.includes(c) ? jsChar(c) : c)).join("");
}

function jsChar(c: string): string {
  const named: Record<string, string> = { "\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" };
  return named[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Go's builtins, except `call` (templates here have no function values). */
export const BUILTINS: ReadonlyMap<string, TemplateFunc> = new Map([
  ["not", fn(1, 1, ([a]) => !truth(a))],
  ["len", fn(1, 1, ([a]) => lenOf(a))],
  ["index", fn(1, Infinity, ([item, ...keys]) => index(item, keys))],
  ["slice", fn(1, 4, ([item, ...idx]) => goSlice(item, idx))],
  ["eq", fn(1, Infinity, ([a, ...rest]) => eq(a, rest))],
  ["ne", fn(2, 2, ([a, b]) => !eq(a, [b]))],
  ["lt", fn(2, 2, ([a, b]) => less(a, b))],
  ["le", fn(2, 2, ([a, b]) => less(a, b) || eq(a, [b]))],
  ["gt", fn(2, 2, ([a, b]) => !(less(a, b) || eq(a, [b])))],
  ["ge", fn(2, 2, ([a, b]) => !less(a, b))],
  ["print", fn(0, Infinity, (args) => sprint(args))],
  ["println", fn(0, Infinity, (args) => sprintln(args))],
  ["printf", fn(1, Infinity, ([f, ...args]) => sprintf(String(f), args))],
  ["html", fn(0, Infinity, (args) => htmlEscape(sprint(args)))],
  ["js", fn(0, Infinity, (args) => jsEscape(sprint(args)))],
  ["urlquery", fn(0, Infinity, (args) => encodeURIComponent(sprint(args)).replace(/%20/g, "+"))],
]);

function goSlice(item: unknown, idx: readonly unknown[]): unknown {
  const n = typeof item === "string" ? item.length : Array.isArray(item) ? item.length : -1;
  if (n < 0) throw new Error(`can't slice item of type ${goType(item)}`);
  const [i = 0, j = n] = idx.map(toIndex);
  if (i < 0 || j < i || j > n) throw new Error(`index out of range: ${i}:${j}`);
  return typeof item === "string" ? item.slice(i, j) : (item as unknown[]).slice(i, j);
}
