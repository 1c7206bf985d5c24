// Sprig's functions (Masterminds/sprig v3 GenericFuncMap) as Argo CD exposes them to ApplicationSet
// templates: without env, expandenv and getHostByName, plus Argo's normalize, slugify, toYaml, fromYaml and
// fromYamlArray. Conversions follow spf13/cast as Sprig does: a bad number is 0, not an error.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { posix } from "node:path";
import semver from "semver";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { fn } from "./builtins.ts";
import type { TemplateFunc } from "./exec.ts";
import { goQuote } from "./fmt.ts";
import { deepEqual, formatValue, goKind, goType, isMap, toPlain } from "./values.ts";

// ---------------------------------------------------------------- conversions (spf13/cast)

export function toInt64(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "string") {
    const s = v.trim();
    if (/^[+-]?[0-9]+$/.test(s)) return BigInt(s);
    if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(s)) return s.startsWith("-") ? -BigInt(s.slice(1)) : BigInt(s.replace("+", ""));
    return 0n;
  }
  return 0n;
}

export function toFloat64(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const f = Number(v.trim());
    return v.trim() === "" || Number.isNaN(f) ? 0 : f;
  }
  return 0;
}

/** Sprig's strval: strings as they are, nil as "<nil>"... as fmt prints it. */
export function strval(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === undefined || v === null) return "<nil>";
  return formatValue(v);
}

function str(v: unknown, fnName: string): string {
  if (typeof v === "string") return v;
  if (v === undefined || v === null) throw new Error(`invalid value; expected string`);
  throw new Error(`wrong type for value; expected string; got ${goType(v)} (in ${fnName})`);
}

function int(v: unknown, fnName: string): number {
  if (typeof v === "bigint") return Number(v);
  throw new Error(`wrong type for value; expected int; got ${goType(v)} (in ${fnName})`);
}

function list(v: unknown, fnName: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new Error(`Cannot find ${fnName} on type ${goType(v)}`);
}

function dict(v: unknown, fnName: string): Record<string, unknown> {
  if (isMap(v)) return v;
  throw new Error(`wrong type for value; expected map[string]interface {}; got ${goType(v)} (in ${fnName})`);
}

/** Sprig's `empty`: nil, zero numbers, false, and empty strings, lists and maps. */
export function empty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === "string" || Array.isArray(v)) return v.length === 0;
  if (typeof v === "number") return v === 0;
  if (typeof v === "bigint") return v === 0n;
  if (typeof v === "boolean") return !v;
  if (v instanceof Date) return false;
  if (isMap(v)) return Object.keys(v).length === 0;
  return false;
}

function strslice(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((e) => e !== undefined && e !== null).map(strval);
  if (v === undefined || v === null) return [];
  return [strval(v)];
}

// ---------------------------------------------------------------- strings

function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_, pre: string, c: string) => pre + c.toUpperCase());
}

function untitle(s: string): string {
  return s.replace(/(^|\s)(\p{L})/gu, (_, pre: string, c: string) => pre + c.toLowerCase());
}

function words(s: string): string[] {
  return s
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== "");
}

function substr(start: number, end: number, s: string): string {
  if (start < 0) return s.slice(0, end);
  if (end < 0 || end > s.length) return s.slice(start);
  return s.slice(start, end);
}

function trunc(n: number, s: string): string {
  if (n < 0 && s.length + n > 0) return s.slice(s.length + n);
  if (n >= 0 && s.length > n) return s.slice(0, n);
  return s;
}

function trimSet(s: string, cutset: string, side: "both" | "left" | "right"): string {
  const set = new Set([...cutset]);
  const chars = [...s];
  let i = 0;
  let j = chars.length;
  if (side !== "right") while (i < j && set.has(chars[i] ?? "")) i++;
  if (side !== "left") while (j > i && set.has(chars[j - 1] ?? "")) j--;
  return chars.slice(i, j).join("");
}

function indent(n: number, s: string): string {
  const pad = " ".repeat(Math.max(0, n));
  return pad + s.replace(/\n/g, `\n${pad}`);
}

function wrap(width: number, s: string, newline = "\n"): string {
  const out: string[] = [];
  for (const line of s.split("\n")) {
    let cur = "";
    for (const w of line.split(/ +/)) {
      if (cur !== "" && cur.length + 1 + w.length > width) {
        out.push(cur);
        cur = w;
      } else {
        cur = cur === "" ? w : `${cur} ${w}`;
      }
    }
    out.push(cur);
  }
  return out.join(newline);
}

function abbrev(width: number, s: string): string {
  if (width < 4 || s.length <= width) return s;
  return `${s.slice(0, width - 3)}...`;
}

function randFrom(chars: string, n: number): string {
  const bytes = randomBytes(Math.max(0, n));
  return [...bytes].map((b) => chars.charAt(b % chars.length)).join("");
}

// ---------------------------------------------------------------- lists and dicts

function uniq(l: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const e of l) if (!out.some((o) => deepEqual(o, e))) out.push(e);
  return out;
}

/** mergo.Merge(dst, src...) without overwrite: keys already in dst win, maps merge deeply. */
function mergeInto(dst: Record<string, unknown>, src: Record<string, unknown>, overwrite: boolean): void {
  for (const [k, v] of Object.entries(src)) {
    const cur = dst[k];
    if (isMap(cur) && isMap(v)) {
      const copy = { ...cur };
      mergeInto(copy, v, overwrite);
      dst[k] = copy;
    } else if (!(k in dst) || empty(cur) || (overwrite && !empty(v))) {
      dst[k] = v;
    }
  }
}

function deepCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(deepCopy) as T;
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, deepCopy(e)])) as T;
  return v;
}

function dig(args: readonly unknown[]): unknown {
  const keys = args.slice(0, -2).map((k) => str(k, "dig"));
  const def = args[args.length -2];
  let cur: unknown = args[args.length - 1];
  for (const k of keys) {
    if (!isMap(cur) || !(k in cur)) return def;
    cur = cur[k];
  }
  return cur;
}

function sortAlpha(v: unknown): string[] {
  const l = strslice(v);
  return [...l].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---------------------------------------------------------------- encodings

/** encoding/json.Marshal: sorted keys, HTML characters escaped as Go escapes them. */
export function toJson(v: unknown, pretty = false, raw = false): string {
  const text = JSON.stringify(toPlain(v), null, pretty ? 2 : undefined) ?? "null";
  return raw ? text : text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function fromJson(s: string): unknown {
  try {
    return fromDecoded(JSON.parse(s));
  } catch {
    return {};
  }
}

/** Decoded JSON/YAML as Go's decoder gives it to templates: every number a float64. */
export function fromDecoded(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(fromDecoded);
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, fromDecoded(e)]));
  return v;
}

/** sigs.k8s.io/yaml.Marshal: through JSON, sorted keys, sequences not indented under their key. */
export function toYaml(v: unknown): string {
  const plain = toPlain(v);
  if (plain === null) return "null";
  return stringifyYaml(plain, { indentSeq: false, sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, "");
}

function fromYaml(s: string, array: boolean): unknown {
  const v: unknown = fromDecoded(parseYaml(s, { intAsBigInt: false }));
  if (array) {
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) throw new Error(`error unmarshaling JSON: cannot unmarshal object into Go value of type []interface {}`);
    return v;
  }
  if (v === null || v === undefined) return {};
  if (!isMap(v)) throw new Error(`error unmarshaling JSON: cannot unmarshal ${goKind(v)} into Go value of type map[string]interface {}`);
  return v;
}

function base32(s: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bytes = Buffer.from(s, "utf8");
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet.charAt((value >>> (bits - 5)) & 31);
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet.charAt((value << (5 - bits)) & 31);
  while (out.length % 8 !== 0) out += "=";
  return out;
}

function base32Decode(s: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of s.replace(/=+$/, "")) {
    const i = alphabet.indexOf(c);
    if (i < 0) return `illegal base32 data at input byte ${s.indexOf(c)}`;
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out).toString("utf8");
}

function adler32(s: string): string {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(s, "utf8")) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return String(((b << 16) | a) >>> 0);
}

// ---------------------------------------------------------------- Argo CD's additions

/** Argo CD's `normalize`: lower case, anything but [-a-z0-9.] becomes '-', at most 253, trimmed of -. */
export function normalize(name: string): string {
  return name.toLowerCase().replace(/[^-a-z0-9.]/g, "-").slice(0, 253).replace(/^[-.]+|[-.]+$/g, "");
}

/** Argo CD's `slugify [maxSize [smartTruncate]] name` (gosimple/slug over `normalize`). */
function slugify(args: readonly unknown[]): string {
  const name = args.length > 0 ? str(args[args.length - 1], "slugify") : "";
  const maxSize = args.length > 1 ? int(args[0], "slugify") : 50;
  const smart = args.length > 2 ? args[1] === true : true;
  let slug = normalize(name).replace(/[^a-z0-9-_]+/g, "-").replace(/-+/g, "-").replace(/^-+|-+$/g, "");
  if (maxSize > 0 && slug.length > maxSize) {
    if (smart) {
      let cut = "";
      for (const word of slug.split("-")) {
        const next = cut === "" ? word : `${cut}-${word}`;
        if (next.length > maxSize) break;
        cut = next;
      }
      slug = cut === "" ? slug.slice(0, maxSize) : cut;
    } else {
      slug = slug.slice(0, maxSize);
    }
  }
  return slug;
}

// ---------------------------------------------------------------- dates (UTC; Go reference layouts)

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function toTime(v: unknown): Date {
  if (v instanceof Date) return v;
  if (typeof v === "bigint" || typeof v === "number") return new Date(Number(v) * 1000);
  return new Date();
}

/** time.Format with Go's reference layout (Mon Jan 2 15:04:05 MST 2006), in UTC. */
export function goDate(layout: string, d: Date): string {
  const p2 = (n: number): string => String(n).padStart(2, "0");
  const tokens: Array<[string, () => string]> = [
    ["2006", () => String(d.getUTCFullYear())],
    ["January", () => MONTHS[d.getUTCMonth()] ?? ""],
    ["Monday", () => DAYS[d.getUTCDay()] ?? ""],
    ["Jan", () => (MONTHS[d.getUTCMonth()] ?? "").slice(0, 3)],
    ["Mon", () => (DAYS[d.getUTCDay()] ?? "").slice(0, 3)],
    ["MST", () => "UTC"],
    ["Z07:00", () => "Z"],
    ["-07:00", () => "+00:00"],
    ["-0700", () => "+0000"],
    ["01", () => p2(d.getUTCMonth() + 1)],
    ["02", () => p2(d.getUTCDate())],
    ["_2", () => String(d.getUTCDate()).padStart(2, " ")],
    ["15", () => p2(d.getUTCHours())],
    ["03", () => p2(d.getUTCHours() % 12 || 12)],
    ["04", () => p2(d.getUTCMinutes())],
    ["05", () => p2(d.getUTCSeconds())],
    [".000", () => `.${String(d.getUTCMilliseconds()).padStart(3, "0")}`],
    ["06", () => p2(d.getUTCFullYear() % 100)],
    ["PM", () => (d.getUTCHours() >= 12 ? "PM" : "AM")],
    ["pm", () => (d.getUTCHours() >= 12 ? "pm" : "am")],
    ["1", () => String(d.getUTCMonth() + 1)],
    ["2", () => String(d.getUTCDate())],
    ["3", () => String(d.getUTCHours() % 12 || 12)],
    ["4", () => String(d.getUTCMinutes())],
    ["5", () => String(d.getUTCSeconds())],
  ];
  let out = "";
  let i = 0;
  outer: while (i < layout.length) {
    for (const [tok, render] of tokens) {
      if (layout.startsWith(tok, i)) {
        out += render();
        i += tok.length;
        continue outer;
      }
    }
    out += layout.charAt(i++);
  }
  return out;
}

function toDate(layout: string, value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new Error(`parsing time ${goQuote(value)} as ${goQuote(layout)}: cannot parse`);
  return d;
}

function durationSeconds(v: unknown): string {
  let s = Math.trunc(toFloat64(v));
  const neg = s < 0;
  s = Math.abs(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const text = h > 0 ? `${h}h${m}m${sec}s` : m > 0 ? `${m}m${sec}s` : `${sec}s`;
  return neg ? `-${text}` : text;
}

/** Go's time.ParseDuration for dateModify: "1h30m", "-45m", "2.5s". */
function parseDuration(s: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const m = /^([+-]?)((?:[0-9.]+(?:ns|us|µs|ms|s|m|h))+)$/.exec(s);
  if (m === null) throw new Error(`time: invalid duration ${goQuote(s)}`);
  let total = 0;
  for (const part of (m[2] ?? "").matchAll(/([0-9.]+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * (units[part[2] ?? ""] ?? 0);
  return m[1] === "-" ? -total : total;
}

/** Sprig's urlParse: the parts of a URL as Go's net/url names them. */
function urlParse(s: string): Record<string, string> {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new Error(`unable to parse url: ${s}`);
  }
  const userinfo = u.username === "" ? "" : u.password === "" ? u.username : `${u.username}:${u.password}`;
  return {
    scheme: u.protocol.replace(/:$/, ""), host: u.host, hostname: u.hostname, path: u.pathname,
    query: u.search.replace(/^\?/, ""), opaque: "", fragment: u.hash.replace(/^#/, ""), userinfo,
  };
}

function urlJoin(d: Record<string, unknown>): string {
  const part = (k: string): string => (typeof d[k] === "string" ? d[k] : "");
  const auth = part("userinfo") === "" ? "" : `${part("userinfo")}@`;
  const scheme = part("scheme") === "" ? "" : `${part("scheme")}:`;
  const host = part("host") === "" ? "" : `//${auth}${part("host")}`;
  const query = part("query") === "" ? "" : `?${part("query")}`;
  const fragment = part("fragment") === "" ? "" : `#${part("fragment")}`;
  return `${scheme}${host}${part("path")}${query}${fragment}`;
}

// ---------------------------------------------------------------- semver (Masterminds' constraint syntax)

function semverCompare(constraint: string, version: string): boolean {
  const v = semver.coerce(version, { includePrerelease: true }) === null ? null : semver.parse(version.replace(/^v/, ""), { loose: true });
  if (v === null) throw new Error(`Invalid Semantic Version`);
  const range = constraint.replace(/,/g, " ").replace(/\s+/g, " ");
  try {
    return semver.satisfies(v, range, { loose: true });
  } catch {
    throw new Error(`improper constraint: ${constraint}`);
  }
}

function semverObject(version: string): Record<string, unknown> {
  const v = semver.parse(version.replace(/^v/, ""), { loose: true });
  if (v === null) throw new Error("Invalid Semantic Version");
  return {
    Major: BigInt(v.major), Minor: BigInt(v.minor), Patch: BigInt(v.patch),
    Prerelease: v.prerelease.join("."), Metadata: v.build.join("."), Original: version,
  };
}

// ---------------------------------------------------------------- regexes (RE2 spelled as JS)

function re(pattern: string): RegExp {
  try {
    return new RegExp(pattern.replace(/\(\?P</g, "(?<"), "gu");
  } catch (err) {
    throw new Error(`error parsing regexp: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function goReplacement(repl: string): string {
  // Go expands $1 / ${1} / ${name}; JS spells ${name} as $<name>.
  return repl.replace(/\$\{([0-9]+)\}/g, "$$$1").replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, "$$<$1>");
}

function regexSplit(pattern: string, s: string, n: number): string[] {
  const parts = s.split(re(pattern));
  if (n < 0 || parts.length <= n) return n === 0 ? [] : parts;
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join("")];
}

// ---------------------------------------------------------------- the map

const S = (v: unknown, f: string): string => str(v, f);
const N = (v: unknown, f: string): number => int(v, f);

function must<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function arith(op: (a: bigint, b: bigint) => bigint): TemplateFunc {
  return fn(2, 2, ([a, b]) => op(toInt64(a), toInt64(b)));
}

function reduceInts(args: readonly unknown[], pick: (a: bigint, b: bigint) => boolean): bigint {
  let best = toInt64(args[0]);
  for (const a of args.slice(1)) {
    const v = toInt64(a);
    if (pick(v, best)) best = v;
  }
  return best;
}

const entries: Array<[string, TemplateFunc]> = [
  // strings
  ["upper", fn(1, 1, ([s]) => S(s, "upper").toUpperCase())],
  ["lower", fn(1, 1, ([s]) => S(s, "lower").toLowerCase())],
  ["title", fn(1, 1, ([s]) => title(S(s, "title")))],
  ["untitle", fn(1, 1, ([s]) => untitle(S(s, "untitle")))],
  ["trim", fn(1, 1, ([s]) => S(s, "trim").trim())],
  ["trimAll", fn(2, 2, ([c, s]) => trimSet(S(s, "trimAll"), S(c, "trimAll"), "both"))],
  ["trimall", fn(2, 2, ([c, s]) => trimSet(S(s, "trimall"), S(c, "trimall"), "both"))],
  ["trimPrefix", fn(2, 2, ([p, s]) => { const t = S(s, "trimPrefix"); const x = S(p, "trimPrefix"); return x !== "" && t.startsWith(x) ? t.slice(x.length) : t; })],
  ["trimSuffix", fn(2, 2, ([p, s]) => { const t = S(s, "trimSuffix"); const x = S(p, "trimSuffix"); return x !== "" && t.endsWith(x) ? t.slice(0, -x.length) : t; })],
  ["trunc", fn(2, 2, ([n, s]) => trunc(N(n, "trunc"), S(s, "trunc")))],
  ["substr", fn(3, 3, ([a, b, s]) => substr(N(a, "substr"), N(b, "substr"), S(s, "substr")))],
  ["abbrev", fn(2, 2, ([n, s]) => abbrev(N(n, "abbrev"), S(s, "abbrev")))],
  ["abbrevboth", fn(3, 3, ([l, r, s]) => { const t = S(s, "abbrevboth"); const left = N(l, "abbrevboth"); return abbrev(N(r, "abbrevboth"), left > 0 && t.length > left ? `...${t.slice(left + 3)}` : t); })],
  ["repeat", fn(2, 2, ([n, s]) => S(s, "repeat").repeat(Math.max(0, N(n, "repeat"))))],
  ["nospace", fn(1, 1, ([s]) => S(s, "nospace").replace(/\s+/g, ""))],
  ["initials", fn(1, 1, ([s]) => S(s, "initials").split(/\s+/).filter(Boolean).map((w) => w.charAt(0)).join(""))],
  ["swapcase", fn(1, 1, ([s]) => [...S(s, "swapcase")].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(""))],
  ["snakecase", fn(1, 1, ([s]) => words(S(s, "snakecase")).map((w) => w.toLowerCase()).join("_"))],
  ["kebabcase", fn(1, 1, ([s]) => words(S(s, "kebabcase")).map((w) => w.toLowerCase()).join("-"))],
  ["camelcase", fn(1, 1, ([s]) => S(s, "camelcase").split("_").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(""))],
  ["shuffle", fn(1, 1, ([s]) => [...S(s, "shuffle")].sort(() => (randomBytes(1)[0] ?? 0) - 128).join(""))],
  ["wrap", fn(2, 2, ([n, s]) => wrap(N(n, "wrap"), S(s, "wrap")))],
  ["wrapWith", fn(3, 3, ([n, nl, s]) => wrap(N(n, "wrapWith"), S(s, "wrapWith"), S(nl, "wrapWith")))],
  ["contains", fn(2, 2, ([sub, s]) => S(s, "contains").includes(S(sub, "contains")))],
  ["hasPrefix", fn(2, 2, ([p, s]) => S(s, "hasPrefix").startsWith(S(p, "hasPrefix")))],
  ["hasSuffix", fn(2, 2, ([p, s]) => S(s, "hasSuffix").endsWith(S(p, "hasSuffix")))],
  ["quote", fn(0, Infinity, (args) => args.filter((a) => a !== undefined && a !== null).map((a) => goQuote(strval(a))).join(" "))],
  ["squote", fn(0, Infinity, (args) => args.filter((a) => a !== undefined && a !== null).map((a) => `'${strval(a)}'`).join(" "))],
  ["cat", fn(0, Infinity, (args) => args.filter((a) => a !== undefined && a !== null).map(strval).join(" "))],
  ["indent", fn(2, 2, ([n, s]) => indent(N(n, "indent"), S(s, "indent")))],
  ["nindent", fn(2, 2, ([n, s]) => `\n${indent(N(n, "nindent"), S(s, "nindent"))}`)],
  ["replace", fn(3, 3, ([o, n, s]) => S(s, "replace").split(S(o, "replace")).join(S(n, "replace")))],
  ["plural", fn(3, 3, ([one, many, n]) => (N(n, "plural") === 1 ? S(one, "plural") : S(many, "plural")))],
  ["toString", fn(1, 1, ([v]) => strval(v))],
  ["toStrings", fn(1, 1, ([v]) => strslice(v))],
  ["split", fn(2, 2, ([sep, s]) => Object.fromEntries(S(s, "split").split(S(sep, "split")).map((p, i) => [`_${i}`, p])))],
  ["splitList", fn(2, 2, ([sep, s]) => S(s, "splitList").split(S(sep, "splitList")))],
  ["splitn", fn(3, 3, ([sep, n, s]) => { const parts = S(s, "splitn").split(S(sep, "splitn")); const k = N(n, "splitn"); const cut = k > 0 && parts.length > k ? [...parts.slice(0, k - 1), parts.slice(k - 1).join(S(sep, "splitn"))] : parts; return Object.fromEntries(cut.map((p, i) => [`_${i}`, p])); })],
  ["join", fn(2, 2, ([sep, l]) => strslice(l).join(S(sep, "join")))],
  ["sortAlpha", fn(1, 1, ([l]) => sortAlpha(l))],
  ["randAlphaNum", fn(1, 1, ([n]) => randFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", N(n, "randAlphaNum")))],
  ["randAlpha", fn(1, 1, ([n]) => randFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", N(n, "randAlpha")))],
  ["randNumeric", fn(1, 1, ([n]) => randFrom("0123456789", N(n, "randNumeric")))],
  ["randAscii", fn(1, 1, ([n]) => randFrom(Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join(""), N(n, "randAscii")))],
  // numbers
  ["atoi", fn(1, 1, ([s]) => { const t = S(s, "atoi"); return /^[+-]?[0-9]+$/.test(t) ? BigInt(t) : 0n; })],
  ["int", fn(1, 1, ([v]) => toInt64(v))],
  ["int64", fn(1, 1, ([v]) => toInt64(v))],
  ["float64", fn(1, 1, ([v]) => toFloat64(v))],
  ["toDecimal", fn(1, 1, ([v]) => { const n = parseInt(strval(v), 8); return Number.isNaN(n) ? 0n : BigInt(n); })],
  ["add1", fn(1, 1, ([a]) => toInt64(a) + 1n)],
  ["add", fn(0, Infinity, (args) => args.reduce<bigint>((s, a) => s + toInt64(a), 0n))],
  ["sub", arith((a, b) => a - b)],
  ["mul", fn(1, Infinity, (args) => args.reduce<bigint>((s, a) => s * toInt64(a), 1n))],
  ["div", arith((a, b) => { if (b === 0n) throw new Error("runtime error: integer divide by zero"); return a / b; })],
  ["mod", arith((a, b) => { if (b === 0n) throw new Error("runtime error: integer divide by zero"); return a % b; })],
  ["max", fn(1, Infinity, (args) => reduceInts(args, (v, best) => v > best))],
  ["biggest", fn(1, Infinity, (args) => reduceInts(args, (v, best) => v > best))],
  ["min", fn(1, Infinity, (args) => reduceInts(args, (v, best) => v < best))],
  ["add1f", fn(1, 1, ([a]) => toFloat64(a) + 1)],
  ["addf", fn(0, Infinity, (args) => args.reduce<number>((s, a) => s + toFloat64(a), 0))],
  ["subf", fn(1, Infinity, ([a, ...r]) => r.reduce<number>((s, x) => s - toFloat64(x), toFloat64(a)))],
  ["mulf", fn(1, Infinity, (args) => args.reduce<number>((s, a) => s * toFloat64(a), 1))],
  ["divf", fn(1, Infinity, ([a, ...r]) => r.reduce<number>((s, x) => s / toFloat64(x), toFloat64(a)))],
  ["maxf", fn(1, Infinity, (args) => Math.max(...args.map(toFloat64)))],
  ["minf", fn(1, Infinity, (args) => Math.min(...args.map(toFloat64)))],
  ["floor", fn(1, 1, ([a]) => Math.floor(toFloat64(a)))],
  ["ceil", fn(1, 1, ([a]) => Math.ceil(toFloat64(a)))],
  ["round", fn(2, 3, ([a, p, half]) => { const m = 10 ** Number(toInt64(p)); const h = half === undefined ? 0.5 : toFloat64(half); const x = toFloat64(a) * m; const d = x - Math.floor(x); return (d >= h ? Math.ceil(x) : Math.floor(x)) / m; })],
  ["seq", fn(0, 3, (args) => seq(args.map(toInt64)))],
  ["until", fn(1, 1, ([n]) => untilStep(0n, toInt64(n), toInt64(n) >= 0n ? 1n : -1n))],
  ["untilStep", fn(3, 3, ([a, b, c]) => untilStep(toInt64(a), toInt64(b), toInt64(c)))],
  ["randInt", fn(2, 2, ([a, b]) => { const lo = toInt64(a); const hi = toInt64(b); return lo + (BigInt(randomBytes(4).readUInt32BE(0)) % (hi - lo > 0n ? hi - lo : 1n)); })],
  // defaults and flow
  ["default", fn(1, Infinity, ([d, ...given]) => (given.length === 0 || empty(given[0]) ? d : given[0]))],
  ["empty", fn(1, 1, ([v]) => empty(v))],
  ["coalesce", fn(0, Infinity, (args) => args.find((a) => !empty(a)) ?? null)],
  ["all", fn(0, Infinity, (args) => args.every((a) => !empty(a)))],
  ["any", fn(0, Infinity, (args) => args.some((a) => !empty(a)))],
  ["ternary", fn(3, 3, ([t, f, c]) => (c === true ? t : f))],
  ["fail", fn(1, 1, ([msg]) => { throw new Error(S(msg, "fail")); })],
  // lists
  ["list", fn(0, Infinity, (args) => [...args])],
  ["tuple", fn(0, Infinity, (args) => [...args])],
  ["append", fn(2, 2, ([l, v]) => [...list(l, "append"), v])],
  ["push", fn(2, 2, ([l, v]) => [...list(l, "push"), v])],
  ["prepend", fn(2, 2, ([l, v]) => [v, ...list(l, "prepend")])],
  ["first", fn(1, 1, ([l]) => (Array.isArray(l) ? l[0] ?? null : null))],
  ["last", fn(1, 1, ([l]) => (Array.isArray(l) ? l[l.length - 1] ?? null : null))],
  ["rest", fn(1, 1, ([l]) => (Array.isArray(l) ? l.slice(1) : null))],
  ["initial", fn(1, 1, ([l]) => (Array.isArray(l) ? l.slice(0, -1) : null))],
  ["reverse", fn(1, 1, ([l]) => [...list(l, "reverse")].reverse())],
  ["uniq", fn(1, 1, ([l]) => uniq(list(l, "uniq")))],
  ["compact", fn(1, 1, ([l]) => list(l, "compact").filter((e) => !empty(e)))],
  ["without", fn(1, Infinity, ([l, ...omit]) => list(l, "without").filter((e) => !omit.some((o) => deepEqual(o, e))))],
  ["has", fn(2, 2, ([needle, l]) => (Array.isArray(l) ? (l as unknown[]).some((e) => deepEqual(e, needle)) : false))],
  ["slice", fn(1, 3, ([l, ...idx]) => { if (!Array.isArray(l)) throw new Error(`list should be type of slice or array but ${goKind(l)}`); const arr: unknown[] = l; const [i = 0, j = arr.length] = idx.map((x) => Number(toInt64(x))); return arr.slice(i, j); })],
  ["concat", fn(0, Infinity, (args) => args.flatMap((a): unknown[] => (Array.isArray(a) ? a : [])))],
  ["chunk", fn(2, 2, ([n, l]) => { const arr = list(l, "chunk"); const k = Math.max(1, N(n, "chunk")); const out: unknown[][] = []; for (let i = 0; i < arr.length; i += k) out.push(arr.slice(i, i + k)); return out; })],
  // dicts
  ["dict", fn(0, Infinity, (args) => { const d: Record<string, unknown> = {}; for (let i = 0; i < args.length; i += 2) d[strval(args[i])] = args[i + 1] ?? ""; return d; })],
  ["get", fn(2, 2, ([d, k]) => { const m = dict(d, "get"); const key = S(k, "get"); return key in m ? m[key] : ""; })],
  ["set", fn(3, 3, ([d, k, v]) => { const m = dict(d, "set"); m[S(k, "set")] = v; return m; })],
  ["unset", fn(2, 2, ([d, k]) => { const m = dict(d, "unset"); delete m[S(k, "unset")]; return m; })],
  ["hasKey", fn(2, 2, ([d, k]) => S(k, "hasKey") in dict(d, "hasKey"))],
  ["pluck", fn(1, Infinity, ([k, ...ds]) => ds.map((d) => dict(d, "pluck")).filter((d) => S(k, "pluck") in d).map((d) => d[S(k, "pluck")]))],
  ["keys", fn(0, Infinity, (ds) => ds.flatMap((d) => Object.keys(dict(d, "keys"))))],
  ["values", fn(1, 1, ([d]) => Object.values(dict(d, "values")))],
  ["pick", fn(1, Infinity, ([d, ...ks]) => { const m = dict(d, "pick"); return Object.fromEntries(ks.map((k) => S(k, "pick")).filter((k) => k in m).map((k) => [k, m[k]])); })],
  ["omit", fn(1, Infinity, ([d, ...ks]) => { const drop = new Set(ks.map((k) => S(k, "omit"))); return Object.fromEntries(Object.entries(dict(d, "omit")).filter(([k]) => !drop.has(k))); })],
  ["merge", fn(1, Infinity, ([d, ...srcs]) => { const dst = dict(d, "merge"); for (const s of srcs) mergeInto(dst, dict(s, "merge"), false); return dst; })],
  ["mergeOverwrite", fn(1, Infinity, ([d, ...srcs]) => { const dst = dict(d, "mergeOverwrite"); for (const s of srcs) mergeInto(dst, dict(s, "mergeOverwrite"), true); return dst; })],
  ["dig", fn(3, Infinity, (args) => dig(args))],
  ["deepCopy", fn(1, 1, ([v]) => deepCopy(v))],
  // encodings and hashes
  ["b64enc", fn(1, 1, ([s]) => Buffer.from(strval(s), "utf8").toString("base64"))],
  ["b64dec", fn(1, 1, ([s]) => Buffer.from(S(s, "b64dec"), "base64").toString("utf8"))],
  ["b32enc", fn(1, 1, ([s]) => base32(strval(s)))],
  ["b32dec", fn(1, 1, ([s]) => base32Decode(S(s, "b32dec")))],
  ["sha1sum", fn(1, 1, ([s]) => createHash("sha1").update(S(s, "sha1sum")).digest("hex"))],
  ["sha256sum", fn(1, 1, ([s]) => createHash("sha256").update(S(s, "sha256sum")).digest("hex"))],
  ["sha512sum", fn(1, 1, ([s]) => createHash("sha512").update(S(s, "sha512sum")).digest("hex"))],
  ["adler32sum", fn(1, 1, ([s]) => adler32(S(s, "adler32sum")))],
  ["uuidv4", fn(0, 0, () => randomUUID())],
  ["toJson", fn(1, 1, ([v]) => toJson(v))],
  ["toPrettyJson", fn(1, 1, ([v]) => toJson(v, true))],
  ["toRawJson", fn(1, 1, ([v]) => toJson(v, false, true))],
  ["fromJson", fn(1, 1, ([s]) => fromJson(S(s, "fromJson")))],
  ["mustToJson", fn(1, 1, ([v]) => toJson(v))],
  ["mustToPrettyJson", fn(1, 1, ([v]) => toJson(v, true))],
  ["mustToRawJson", fn(1, 1, ([v]) => toJson(v, false, true))],
  ["mustFromJson", fn(1, 1, ([s]) => must("mustFromJson", () => fromDecoded(JSON.parse(S(s, "mustFromJson")))))],
  ["toYaml", fn(1, 1, ([v]) => toYaml(v))],
  ["fromYaml", fn(1, 1, ([s]) => fromYaml(S(s, "fromYaml"), false))],
  ["fromYamlArray", fn(1, 1, ([s]) => fromYaml(S(s, "fromYamlArray"), true))],
  // regexes
  ["regexMatch", fn(2, 2, ([r, s]) => re(S(r, "regexMatch")).test(S(s, "regexMatch")))],
  ["regexFind", fn(2, 2, ([r, s]) => re(S(r, "regexFind")).exec(S(s, "regexFind"))?.[0] ?? "")],
  ["regexFindAll", fn(3, 3, ([r, s, n]) => { const all = [...S(s, "regexFindAll").matchAll(re(S(r, "regexFindAll")))].map((m) => m[0]); const k = N(n, "regexFindAll"); return k < 0 ? all : all.slice(0, k); })],
  ["regexReplaceAll", fn(3, 3, ([r, s, repl]) => S(s, "regexReplaceAll").replace(re(S(r, "regexReplaceAll")), goReplacement(S(repl, "regexReplaceAll"))))],
  ["regexReplaceAllLiteral", fn(3, 3, ([r, s, repl]) => S(s, "regexReplaceAllLiteral").replace(re(S(r, "regexReplaceAllLiteral")), () => S(repl, "regexReplaceAllLiteral")))],
  ["regexSplit", fn(3, 3, ([r, s, n]) => regexSplit(S(r, "regexSplit"), S(s, "regexSplit"), N(n, "regexSplit")))],
  ["regexQuoteMeta", fn(1, 1, ([s]) => S(s, "regexQuoteMeta").replace(/[\\.+*?()|[\]{}^$]/g, "\\$&"))],
  // paths
  ["base", fn(1, 1, ([s]) => { const p = S(s, "base"); return p === "" ? "." : posix.basename(p) || "/"; })],
  ["dir", fn(1, 1, ([s]) => posix.dirname(S(s, "dir")))],
  ["clean", fn(1, 1, ([s]) => posix.normalize(S(s, "clean")).replace(/(.)\/$/, "$1"))],
  ["ext", fn(1, 1, ([s]) => posix.extname(S(s, "ext")))],
  ["isAbs", fn(1, 1, ([s]) => S(s, "isAbs").startsWith("/"))],
  // types
  ["typeOf", fn(1, 1, ([v]) => goType(v))],
  ["typeIs", fn(2, 2, ([t, v]) => S(t, "typeIs") === goType(v))],
  ["typeIsLike", fn(2, 2, ([t, v]) => S(t, "typeIsLike") === goType(v) || S(t, "typeIsLike") === `*${goType(v)}`)],
  ["kindOf", fn(1, 1, ([v]) => goKind(v))],
  ["kindIs", fn(2, 2, ([k, v]) => S(k, "kindIs") === goKind(v))],
  ["deepEqual", fn(2, 2, ([a, b]) => deepEqual(a, b))],
  // dates (UTC)
  ["now", fn(0, 0, () => new Date())],
  ["date", fn(2, 2, ([layout, t]) => goDate(S(layout, "date"), toTime(t)))],
  ["dateInZone", fn(3, 3, ([layout, t]) => goDate(S(layout, "dateInZone"), toTime(t)))],
  ["date_in_zone", fn(3, 3, ([layout, t]) => goDate(S(layout, "date_in_zone"), toTime(t)))],
  ["htmlDate", fn(1, 1, ([t]) => goDate("2006-01-02", toTime(t)))],
  ["unixEpoch", fn(1, 1, ([t]) => String(Math.floor(toTime(t).getTime() / 1000)))],
  ["toDate", fn(2, 2, ([layout, s]) => toDate(S(layout, "toDate"), S(s, "toDate")))],
  ["mustToDate", fn(2, 2, ([layout, s]) => toDate(S(layout, "mustToDate"), S(s, "mustToDate")))],
  ["duration", fn(1, 1, ([v]) => durationSeconds(v))],
  ["dateModify", fn(2, 2, ([d, t]) => new Date(toTime(t).getTime() + parseDuration(S(d, "dateModify"))))],
  ["date_modify", fn(2, 2, ([d, t]) => new Date(toTime(t).getTime() + parseDuration(S(d, "date_modify"))))],
  ["mustDateModify", fn(2, 2, ([d, t]) => new Date(toTime(t).getTime() + parseDuration(S(d, "mustDateModify"))))],
  ["ago", fn(1, 1, ([t]) => durationSeconds(Math.round((Date.now() - toTime(t).getTime()) / 1000)))],
  ["urlParse", fn(1, 1, ([s]) => urlParse(S(s, "urlParse")))],
  ["urlJoin", fn(1, 1, ([d]) => urlJoin(dict(d, "urlJoin")))],
  // semver
  ["semver", fn(1, 1, ([v]) => semverObject(S(v, "semver")))],
  ["semverCompare", fn(2, 2, ([c, v]) => semverCompare(S(c, "semverCompare"), S(v, "semverCompare")))],
  // Argo CD
  ["normalize", fn(1, 1, ([s]) => normalize(S(s, "normalize")))],
  ["slugify", fn(0, 3, (args) => slugify(args))],
];

function seq(args: readonly bigint[]): string {
  const [a = 1n, b, c] = args;
  let start = 1n;
  let end = a;
  let step = 1n;
  if (args.length === 2) [start, end] = [a, b ?? a];
  if (args.length === 3) [start, step, end] = [a, b ?? 1n, c ?? a];
  if (args.length === 0) return "";
  if (args.length < 3 && end < start) step = -1n;
  return untilStep(start, end + (step > 0n ? 1n : -1n), step).map(String).join(" ");
}

function untilStep(start: bigint, stop: bigint, step: bigint): bigint[] {
  const out: bigint[] = [];
  if (step === 0n) return out;
  if ((step > 0n && start >= stop) || (step < 0n && start <= stop)) return out;
  for (let i = start; step > 0n ? i < stop : i > stop; i += step) {
    out.push(i);
    if (out.length > 100_000) throw new Error("untilStep: too many elements");
  }
  return out;
}

/** The `must*` variants Sprig offers behave as their plain forms here, which already fail on bad input. */
const MUST = ["Append", "Push", "Prepend", "First", "Last", "Rest", "Initial", "Reverse", "Uniq", "Compact",
  "Without", "Has", "Slice", "Chunk", "Merge", "MergeOverwrite", "DeepCopy", "RegexMatch", "RegexFind",
  "RegexFindAll", "RegexReplaceAll", "RegexReplaceAllLiteral", "RegexSplit"];

function build(): Map<string, TemplateFunc> {
  const map = new Map(entries);
  for (const suffix of MUST) {
    const base = map.get(suffix.charAt(0).toLowerCase() + suffix.slice(1));
    if (base !== undefined) map.set(`must${suffix}`, base);
  }
  return map;
}

/** Sprig's functions as Argo CD's ApplicationSet controller registers them. */
export const SPRIG: ReadonlyMap<string, TemplateFunc> = build();
