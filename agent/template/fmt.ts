// Go's fmt for templates: Sprint/Sprintln spacing and Sprintf's verbs (%v %s %d %q %t %x %X %o %b %e %f
// %g %c %T %%), flags (-+# 0 space), width and precision, and Go's `%!d(string=x)` for a wrong type.
import { formatFloat, formatValue, goType } from "./values.ts";

function plain(v: unknown): string {
  return v === undefined ? "<nil>" : formatValue(v);
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = "";
  args.forEach((a, i) => {
    const prev = args[i - 1];
    if (i > 0 && typeof a !== "string" && typeof prev !== "string") out += " ";
    out += plain(a);
  });
  return out;
}

/** fmt.Sprintln: always spaces, then a newline. */
export function sprintln(args: readonly unknown[]): string {
  return `${args.map(plain).join(" ")}\n`;
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  zero: boolean;
  space: boolean;
  width: number | undefined;
  prec: number | undefined;
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = "";
  let argi = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format.charAt(i);
    if (c !== "%") {
      out += c;
      continue;
    }
    const spec: Spec = { minus: false, plus: false, sharp: false, zero: false, space: false, width: undefined, prec: undefined };
    i++;
    for (; i < format.length; i++) {
      const f = format.charAt(i);
      if (f === "-") spec.minus = true;
      else if (f === "+") spec.plus = true;
      else if (f === "#") spec.sharp = true;
      else if (f === "0") spec.zero = true;
      else if (f === " ") spec.space = true;
      else break;
    }
    const num = (): number | undefined => {
      if (format.charAt(i) === "*") {
        i++;
        const a = args[argi++];
        return typeof a === "bigint" ? Number(a) : typeof a === "number" ? a : 0;
      }
      const m = /^[0-9]+/.exec(format.slice(i));
      if (m === null) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    spec.width = num();
    if (format.charAt(i) === ".") {
      i++;
      spec.prec = num() ?? 0;
    }
    const verb = format.charAt(i);
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (verb === "") {
      out += "%!(NOVERB)";
      break;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += pad(formatOne(verb, args[argi++], spec), spec);
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${args.slice(argi).map((a) => `${goType(a)}=${plain(a)}`).join(", ")})`;
  }
  return out;
}

function pad(text: string, spec: Spec): string {
  if (spec.width === undefined || text.length >= spec.width) return text;
  const fill = spec.width - text.length;
  if (spec.minus) return text + " ".repeat(fill);
  if (spec.zero && /^[+-]?[0-9.]/.test(text)) {
    const sign = /^[+-]/.test(text) ? text.charAt(0) : "";
    return sign + "0".repeat(fill) + text.slice(sign.length);
  }
  return " ".repeat(fill) + text;
}

function bad(verb: string, v: unknown): string {
  return `%!${verb}(${goType(v)}=${plain(v)})`;
}

function signed(text: string, negative: boolean, spec: Spec): string {
  if (negative) return `-${text}`;
  if (spec.plus) return `+${text}`;
  if (spec.space) return ` ${text}`;
  return text;
}

function formatOne(verb: string, v: unknown, spec: Spec): string {
  switch (verb) {
    case "v":
      if (typeof v === "number" && spec.prec !== undefined) return v.toPrecision(Math.max(1, spec.prec));
      if (spec.sharp && typeof v === "string") return JSON.stringify(v);
      return spec.plus && typeof v === "number" && v >= 0 ? `+${formatFloat(v)}` : plain(v);
    case "T":
      return goType(v);
    case "s":
      if (typeof v === "string" || Array.isArray(v) || (typeof v === "object" && v !== null)) {
        const s = plain(v);
        return spec.prec === undefined ? s : [...s].slice(0, spec.prec).join("");
      }
      return bad(verb, v);
    case "q":
      if (typeof v === "string") return spec.sharp && !v.includes("`") ? `\`${v}\`` : goQuote(v);
      if (typeof v === "bigint") return `'${String.fromCodePoint(Number(v))}'`;
      return bad(verb, v);
    case "t":
      return typeof v === "boolean" ? String(v) : bad(verb, v);
    case "d":
      return typeof v === "bigint" ? signed((v < 0n ? -v : v).toString(), v < 0n, spec) : bad(verb, v);
    case "c":
      return typeof v === "bigint" ? String.fromCodePoint(Number(v)) : bad(verb, v);
    case "x":
    case "X":
    case "o":
    case "b":
      return formatRadix(verb, v, spec);
    case "e":
    case "E":
    case "f":
    case "F":
    case "g":
    case "G":
      return formatFloatVerb(verb, v, spec);
    default:
      return `%!${verb}(${goType(v)}=${plain(v)})`;
  }
}

function formatRadix(verb: string, v: unknown, spec: Spec): string {
  const radix = verb === "o" ? 8 : verb === "b" ? 2 : 16;
  let text: string;
  if (typeof v === "bigint") {
    const abs = v < 0n ? -v : v;
    text = abs.toString(radix);
    if (spec.sharp) text = (verb === "o" ? "0" : verb === "b" ? "0b" : "0x") + text;
    text = signed(text, v < 0n, spec);
  } else if (typeof v === "string" && (verb === "x" || verb === "X")) {
    text = [...Buffer.from(v, "utf8")].map((b) => b.toString(16).padStart(2, "0")).join("");
  } else {
    return bad(verb, v);
  }
  return verb === "X" ? text.toUpperCase() : text;
}

function formatFloatVerb(verb: string, v: unknown, spec: Spec): string {
  if (typeof v !== "number") return bad(verb, v);
  const abs = Math.abs(v);
  let text: string;
  const lower = verb.toLowerCase();
  if (lower === "f") text = abs.toFixed(spec.prec ?? 6);
  else if (lower === "e") text = goExp(abs.toExponential(spec.prec ?? 6));
  else text = spec.prec === undefined ? formatFloat(abs) : goExp(abs.toPrecision(Math.max(1, spec.prec)));
  text = signed(text, v < 0 || Object.is(v, -0), spec);
  return verb === verb.toUpperCase() ? text.toUpperCase() : text;
}

function goExp(text: string): string {
  return text.replace(/e([+-])(\d)$/, "e$10$2");
}

/** strconv.Quote: double quotes, Go escapes, printable Unicode kept. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (cp === 7) out += "\\a";
    else if (cp === 8) out += "\\b";
    else if (cp === 12) out += "\\f";
    else if (cp === 11) out += "\\v";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}
