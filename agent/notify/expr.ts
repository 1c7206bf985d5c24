// A small, bounded evaluator for the part of the expr language (expr-lang/expr, antonmedv/expr) that
// Argo CD Notifications' triggers use: literals, `nil`, arrays, member access (`a.b`, `a?.b`, `a["b"]`),
// calls of the functions and methods the environment holds (`time.Parse(x).Add(1 * time.Minute)`),
// `not`/`!`, `and`/`&&`, `or`/`||`, comparisons, `in` / `not in`, `+ - * / %`, `??`, `matches`,
// `contains`, `startsWith`, `endsWith` and `cond ? a : b`. Pure: a text and an environment in, a value out.
//
// As in expr, fetching a field of nil is an error (`cannot fetch phase from <nil>`) unless `?.` is used;
// a field a map does not have is nil.

export class ExprError extends Error {
  constructor(message: string, readonly expression: string) {
    super(message);
    this.name = "ExprError";
  }
}

/** Bounds that keep an expression from ConfigMap text cheap whatever it says. */
export const EXPR_LIMITS = { maxLength: 10_000, maxDepth: 64, maxSteps: 100_000 } as const;

type Node =
  | { kind: "lit"; value: unknown }
  | { kind: "ident"; name: string }
  | { kind: "member"; obj: Node; prop: Node; optional: boolean }
  | { kind: "call"; callee: Node; args: Node[] }
  | { kind: "unary"; op: string; x: Node }
  | { kind: "binary"; op: string; left: Node; right: Node }
  | { kind: "cond"; test: Node; then: Node; else: Node }
  | { kind: "array"; items: Node[] };

interface Token { readonly kind: "num" | "str" | "ident" | "op" | "eof"; readonly text: string; readonly value?: unknown; readonly pos: number }

const WORD_OPS = new Set(["and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith"]);
const PUNCT = ["?.", "??", "==", "!=", "<=", ">=", "&&", "||", "**", "(", ")", "[", "]", ",", ".", "?", ":", "<", ">", "+", "-", "*", "/", "%", "!"];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? "";
    if (/\s/.test(c)) { i++; continue; }
    const start = i;
    if (/[0-9]/.test(c)) {
      const m = /^(?:0x[0-9a-fA-F_]+|[0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][+-]?[0-9]+)?)/.exec(src.slice(i)) ?? [c];
      const text = m[0].replace(/_/g, "");
      out.push({ kind: "num", text: m[0], value: Number(text), pos: start });
      i += m[0].length;
    } else if (c === "'" || c === "\"" || c === "`") {
      const [value, end] = readString(src, i);
      out.push({ kind: "str", text: src.slice(i, end), value, pos: start });
      i = end;
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i)) ?? [c];
      out.push({ kind: WORD_OPS.has(m[0]) ? "op" : "ident", text: m[0], pos: start });
      i += m[0].length;
    } else {
      const p = PUNCT.find((q) => src.startsWith(q, i));
      if (p === undefined) throw new Error(`unexpected character ${JSON.stringify(c)} at ${i}`);
      out.push({ kind: "op", text: p, pos: start });
      i += p.length;
    }
  }
  out.push({ kind: "eof", text: "end of expression", pos: src.length });
  return out;
}

function readString(src: string, start: number): [string, number] {
  const quote = src[start];
  let i = start + 1;
  let value = "";
  const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", "\"": "\"", "`": "`", "0": "\0" };
  while (i < src.length && src[i] !== quote) {
    const c = src[i] ?? "";
    if (c === "\\" && quote !== "`") {
      const e = src[i + 1] ?? "";
      value += escapes[e] ?? e;
      i += 2;
    } else {
      value += c;
      i++;
    }
  }
  if (i >= src.length) throw new Error(`string starting at ${start} is not closed`);
  return [value, i + 1];
}

const BINARY_PRECEDENCE: Record<string, number> = {
  "or": 10, "||": 10, "and": 15, "&&": 15,
  "==": 20, "!=": 20, "<": 20, ">": 20, "<=": 20, ">=": 20, "in": 20, "not in": 20,
  "matches": 20, "contains": 20, "startsWith": 20, "endsWith": 20,
  "+": 30, "-": 30, "*": 60, "/": 60, "%": 60, "**": 100, "??": 500,
};

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  parse(): Node {
    const node = this.expression();
    const t = this.peek();
    if (t.kind !== "eof") throw new Error(`unexpected ${t.text} at ${t.pos}`);
    return node;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.peek();
    this.i++;
    return t;
  }

  private expect(text: string): void {
    const t = this.next();
    if (t.text !== text || t.kind === "str") throw new Error(`expected ${text} at ${t.pos}, found ${t.text}`);
  }

  private nested<T>(parse: () => T): T {
    if (++this.depth > EXPR_LIMITS.maxDepth) throw new Error(`expression nests deeper than ${EXPR_LIMITS.maxDepth}`);
    try { return parse(); } finally { this.depth--; }
  }

  private expression(): Node {
    return this.nested(() => {
      const test = this.binary(0);
      if (this.peek().kind !== "op" || this.peek().text !== "?") return test;
      this.next();
      const then = this.expression();
      this.expect(":");
      return { kind: "cond", test, then, else: this.expression() };
    });
  }

  private binaryOp(): string | undefined {
    const t = this.peek();
    if (t.kind !== "op") return undefined;
    if (t.text === "not" && this.peek(1).text === "in") return "not in";
    return BINARY_PRECEDENCE[t.text] === undefined ? undefined : t.text;
  }

  private binary(min: number): Node {
    let left = this.unary();
    for (let op = this.binaryOp(); op !== undefined; op = this.binaryOp()) {
      const prec = BINARY_PRECEDENCE[op] ?? 0;
      if (prec <= min && !(op === "**" && prec === min)) break;
      this.next();
      if (op === "not in") this.next();
      const right = this.nested(() => this.binary(op === "**" ? prec - 1 : prec));
      left = { kind: "binary", op, left, right };
    }
    return left;
  }

  private unary(): Node {
    const t = this.peek();
    if (t.kind === "op" && (t.text === "not" || t.text === "!")) {
      this.next();
      return { kind: "unary", op: "!", x: this.nested(() => this.binary(50)) };
    }
    if (t.kind === "op" && (t.text === "-" || t.text === "+")) {
      this.next();
      return { kind: "unary", op: t.text, x: this.nested(() => this.unary()) };
    }
    return this.postfix(this.primary());
  }

  private primary(): Node {
    const t = this.next();
    if (t.kind === "num" || t.kind === "str") return { kind: "lit", value: t.value };
    if (t.kind === "ident") {
      if (t.text === "true" || t.text === "false") return { kind: "lit", value: t.text === "true" };
      if (t.text === "nil") return { kind: "lit", value: null };
      return { kind: "ident", name: t.text };
    }
    if (t.text === "(") {
      const inner = this.expression();
      this.expect(")");
      return inner;
    }
    if (t.text === "[") return { kind: "array", items: this.list("]") };
    throw new Error(t.kind === "eof" ? "unexpected end of expression" : `unexpected ${t.text} at ${t.pos}`);
  }

  private list(close: string): Node[] {
    const items: Node[] = [];
    while (this.peek().text !== close || this.peek().kind === "str") {
      items.push(this.expression());
      if (this.peek().text !== ",") break;
      this.next();
    }
    this.expect(close);
    return items;
  }

  private postfix(node: Node): Node {
    for (;;) {
      const t = this.peek();
      if (t.kind !== "op") return node;
      if (t.text === "." || t.text === "?.") {
        this.next();
        const name = this.next();
        if (name.kind !== "ident" && !(name.kind === "op" && WORD_OPS.has(name.text))) {
          throw new Error(`expected a field name after ${t.text} at ${name.pos}`);
        }
        node = { kind: "member", obj: node, prop: { kind: "lit", value: name.text }, optional: t.text === "?." };
      } else if (t.text === "[") {
        this.next();
        const prop = this.expression();
        this.expect("]");
        node = { kind: "member", obj: node, prop, optional: false };
      } else if (t.text === "(") {
        this.next();
        node = { kind: "call", callee: node, args: this.list(")") };
      } else {
        return node;
      }
    }
  }
}

/** A parsed expression, evaluated many times. */
export interface CompiledExpr {
  readonly text: string;
  run(env: Readonly<Record<string, unknown>>): unknown;
}

/** Parses `text`; throws ExprError with the position for a syntax error. */
export function compileExpr(text: string): CompiledExpr {
  if (text.length > EXPR_LIMITS.maxLength) throw new ExprError(`expression is longer than ${EXPR_LIMITS.maxLength} characters`, text);
  let ast: Node;
  try {
    ast = new Parser(tokenize(text)).parse();
  } catch (err) {
    throw new ExprError(err instanceof Error ? err.message : String(err), text);
  }
  return {
    text,
    run: (env) => {
      try {
        return new Evaluator(env).eval(ast);
      } catch (err) {
        throw new ExprError(err instanceof Error ? err.message : String(err), text);
      }
    },
  };
}

/** Compiles and runs once. */
export function evalExpr(text: string, env: Readonly<Record<string, unknown>>): unknown {
  return compileExpr(text).run(env);
}

/** A value as expr names it in messages. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "function") return "func";
  if (Array.isArray(v)) return "[]interface {}";
  if (typeof v === "object") return v.constructor === Object ? "map[string]interface {}" : v.constructor.name;
  return typeof v === "number" || typeof v === "boolean" || typeof v === "bigint" ? String(v) : "?";
}

/** A value with methods (time.Time, time.Duration): `member` returns a bound method. */
export interface HasMethods {
  method(name: string): ((...args: unknown[]) => unknown) | undefined;
}

function hasMethods(v: unknown): v is HasMethods {
  return typeof v === "object" && v !== null && typeof (v as Partial<HasMethods>).method === "function";
}

/** Arithmetic and comparison on values that are not plain numbers (time.Duration). */
export interface Numeric {
  numeric(): number;
  /** The same kind of value holding `n` (a Duration times a number is a Duration). */
  withNumeric(n: number): unknown;
}

function isNumeric(v: unknown): v is Numeric {
  return typeof v === "object" && v !== null && typeof (v as Partial<Numeric>).numeric === "function";
}

class Evaluator {
  private steps = 0;
  constructor(private readonly env: Readonly<Record<string, unknown>>) {}

  eval(node: Node): unknown {
    if (++this.steps > EXPR_LIMITS.maxSteps) throw new Error(`expression took more than ${EXPR_LIMITS.maxSteps} steps`);
    switch (node.kind) {
      case "lit": return node.value;
      case "ident": return Object.prototype.hasOwnProperty.call(this.env, node.name) ? this.env[node.name] ?? null : null;
      case "array": return node.items.map((n) => this.eval(n));
      case "member": return this.member(node);
      case "call": return this.call(node);
      case "unary": return this.unary(node.op, this.eval(node.x));
      case "cond": return this.truth(this.eval(node.test), "?") ? this.eval(node.then) : this.eval(node.else);
      case "binary": return this.binary(node);
    }
  }

  private member(node: Extract<Node, { kind: "member" }>): unknown {
    const obj = this.eval(node.obj);
    const prop = this.eval(node.prop);
    if (obj === null || obj === undefined) {
      if (node.optional || this.optionalChain(node.obj)) return null;
      throw new Error(`cannot fetch ${String(prop)} from <nil>`);
    }
    if (Array.isArray(obj)) {
      if (typeof prop !== "number") throw new Error(`cannot fetch ${String(prop)} from ${describe(obj)}`);
      const i = prop < 0 ? obj.length + prop : prop;
      if (!Number.isInteger(i) || i < 0 || i >= obj.length) throw new Error(`index out of range: ${prop} (array length is ${obj.length})`);
      return obj[i] ?? null;
    }
    if (hasMethods(obj) && typeof prop === "string") {
      const m = obj.method(prop);
      if (m !== undefined) return m;
      throw new Error(`type ${describe(obj)} has no field ${prop}`);
    }
    if (typeof obj === "object" && typeof prop === "string") {
      return Object.prototype.hasOwnProperty.call(obj, prop) ? (obj as Record<string, unknown>)[prop] ?? null : null;
    }
    if (typeof obj === "string" && typeof prop === "number") return obj[prop] ?? null;
    throw new Error(`cannot fetch ${String(prop)} from ${describe(obj)}`);
  }

  /** `a?.b.c`: once a `?.` found nil, the rest of the chain is nil too, as in expr. */
  private optionalChain(node: Node): boolean {
    if (node.kind === "member") return node.optional || this.optionalChain(node.obj);
    if (node.kind === "call") return this.optionalChain(node.callee);
    return false;
  }

  private call(node: Extract<Node, { kind: "call" }>): unknown {
    const callee = this.eval(node.callee);
    if (callee === null && this.optionalChain(node.callee)) return null;
    if (typeof callee !== "function") throw new Error(`${describe(callee)} is not a function`);
    const args = node.args.map((a) => this.eval(a));
    return (callee as (...a: unknown[]) => unknown)(...args) ?? null;
  }

  private unary(op: string, x: unknown): unknown {
    if (op === "!") return !this.truth(x, "not");
    if (typeof x === "number") return op === "-" ? -x : x;
    if (isNumeric(x)) return x.withNumeric(op === "-" ? -x.numeric() : x.numeric());
    throw new Error(`invalid operation: ${op}${describe(x)}`);
  }

  private truth(v: unknown, op: string): boolean {
    if (typeof v === "boolean") return v;
    throw new Error(`invalid operation: ${op} ${describe(v)} (a bool is needed)`);
  }

  private binary(node: Extract<Node, { kind: "binary" }>): unknown {
    const { op } = node;
    if (op === "and" || op === "&&") return this.truth(this.eval(node.left), op) && this.truth(this.eval(node.right), op);
    if (op === "or" || op === "||") return this.truth(this.eval(node.left), op) || this.truth(this.eval(node.right), op);
    const left = this.eval(node.left);
    if (op === "??") return left ?? this.eval(node.right);
    const right = this.eval(node.right);
    switch (op) {
      case "==": return equal(left, right);
      case "!=": return !equal(left, right);
      case "in": return member(left, right);
      case "not in": return !member(left, right);
      case "matches": return new RegExp(str(right, op)).test(str(left, op));
      case "contains": return str(left, op).includes(str(right, op));
      case "startsWith": return str(left, op).startsWith(str(right, op));
      case "endsWith": return str(left, op).endsWith(str(right, op));
      case "<": case ">": case "<=": case ">=": return compare(op, left, right);
      default: return arithmetic(op, left, right);
    }
  }
}

function str(v: unknown, op: string): string {
  if (typeof v === "string") return v;
  throw new Error(`invalid operation: ${op} on ${describe(v)} (a string is needed)`);
}

function equal(a: unknown, b: unknown): boolean {
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (isNumeric(a) && isNumeric(b)) return a.numeric() === b.numeric();
  if (typeof a === "bigint" || typeof b === "bigint") return num(a) !== undefined && num(a) === num(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object" && a.constructor === Object && b.constructor === Object) {
    const ka = Object.keys(a);
    const rb = b as Record<string, unknown>;
    return ka.length === Object.keys(b).length && ka.every((k) => k in rb && equal((a as Record<string, unknown>)[k], rb[k]));
  }
  return a === b;
}

function member(needle: unknown, haystack: unknown): boolean {
  if (haystack === null || haystack === undefined) return false;
  if (Array.isArray(haystack)) return haystack.some((x) => equal(x, needle));
  if (typeof haystack === "object") return typeof needle === "string" && Object.prototype.hasOwnProperty.call(haystack, needle);
  throw new Error(`invalid operation: in ${describe(haystack)} (an array or a map is needed)`);
}

function num(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return isNumeric(v) ? v.numeric() : undefined;
}

function compare(op: string, a: unknown, b: unknown): boolean {
  const x = typeof a === "string" && typeof b === "string" ? a : num(a);
  const y = typeof a === "string" && typeof b === "string" ? b : num(b);
  if (x === undefined || y === undefined) throw new Error(`invalid operation: ${describe(a)} ${op} ${describe(b)}`);
  switch (op) {
    case "<": return x < y;
    case ">": return x > y;
    case "<=": return x <= y;
    default: return x >= y;
  }
}

function arithmetic(op: string, a: unknown, b: unknown): unknown {
  if (op === "+" && typeof a === "string" && typeof b === "string") return a + b;
  const x = num(a);
  const y = num(b);
  if (x === undefined || y === undefined) throw new Error(`invalid operation: ${describe(a)} ${op} ${describe(b)}`);
  const wrap = isNumeric(a) ? a : isNumeric(b) ? b : undefined;
  let n: number;
  switch (op) {
    case "+": n = x + y; break;
    case "-": n = x - y; break;
    case "*": n = x * y; break;
    case "/": n = x / y; break;
    case "%":
      if (y === 0) throw new Error("integer divide by zero");
      n = x % y;
      break;
    default: n = x ** y;
  }
  return wrap && op !== "/" ? wrap.withNumeric(n) : n;
}
