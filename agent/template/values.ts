// Go values as templates see them, in JavaScript: strings, `bigint` for Go's ints (template literals,
// len, add, atoi...), `number` for float64 (every number decoded from JSON or YAML, as Argo CD decodes
// parameters), booleans, `null` (nil), `undefined` (Go's "no value"), arrays and plain objects (maps).

/** Go's `fmt` %v of one value, as text/template prints an action's result. */
export function formatValue(v: unknown): string {
  if (v === undefined) return "<no value>";
  return formatInner(v, false);
}

function formatInner(v: unknown, nested: boolean): string {
  if (v === undefined || v === null) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return formatFloat(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v instanceof Date) return formatDate(v);
  if (Array.isArray(v)) return `[${v.map((e) => formatInner(e, true)).join(" ")}]`;
  if (typeof v === "object") {
    const keys = Object.keys(v).sort();
    const rec = v as Record<string, unknown>;
    return `map[${keys.map((k) => `${k}:${formatInner(rec[k], true)}`).join(" ")}]`;
  }
  void nested;
  return typeof v === "symbol" ? v.toString() : "?";
}

/** fmt's %v of a float64 (strconv 'g', shortest): exponent form when the exponent is < -4 or >= 6. */
export function formatFloat(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (f === Infinity) return "+Inf";
  if (f === -Infinity) return "-Inf";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const [mant = "", e = "0"] = f.toExponential().split("e");
  const realExp = Number(e);
  if (realExp < -4 || realExp >= 6) {
    const sign = realExp < 0 ? "-" : "+";
    const digits = String(Math.abs(realExp)).padStart(2, "0");
    return `${mant}e${sign}${digits}`;
  }
  return String(f);
}

/** Go's time.Time default String, in UTC. */
export function formatDate(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${d.getUTCMilliseconds() ? iso.slice(19, 23) : ""} +0000 UTC`;
}

/** Go's template truth: false, 0, nil, and empty strings, slices and maps are false. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return v.length > 0;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "bigint") return v !== 0n;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Date) return true;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

/** Go's name for a value's type, for error messages and `typeOf`. */
export function goType(v: unknown): string {
  if (v === undefined || v === null) return "<nil>";
  if (typeof v === "string") return "string";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "float64";
  if (typeof v === "boolean") return "bool";
  if (v instanceof Date) return "time.Time";
  if (Array.isArray(v)) return "[]interface {}";
  if (typeof v === "object") return "map[string]interface {}";
  return typeof v;
}

/** Go's reflect.Kind name, for `kindOf`/`kindIs`. */
export function goKind(v: unknown): string {
  if (v === undefined || v === null) return "invalid";
  if (typeof v === "bigint") return "int";
  if (Array.isArray(v)) return "slice";
  if (v instanceof Date) return "struct";
  if (typeof v === "object") return "map";
  return goType(v);
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return false;
}

/** A value as JSON would hold it: bigints become numbers, dates RFC 3339 strings. */
export function toPlain(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return v.toISOString().replace(".000Z", "Z");
  if (Array.isArray(v)) return v.map(toPlain);
  if (isMap(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = toPlain(v[k]);
    return out;
  }
  return v === undefined ? null : v;
}
