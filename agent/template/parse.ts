// Go text/template's lexer and parser: the same grammar, trim markers, comments, keywords and parse
// errors (`template: NAME:LINE: ...`), producing a tree that exec.ts walks.

/** A parse or execution failure, worded as Go's text/template words it. */
export class TemplateError extends Error {
  /** Go's `map has no entry for key` family: a missing key under `missingkey=error`. */
  readonly missingKey: boolean;
  constructor(message: string, missingKey = false) {
    super(message);
    this.name = "TemplateError";
    this.missingKey = missingKey;
  }
}

export type Arg =
  | { readonly kind: "field"; readonly idents: readonly string[]; readonly text: string }
  | { readonly kind: "variable"; readonly name: string; readonly idents: readonly string[]; readonly text: string }
  | { readonly kind: "chain"; readonly node: Arg; readonly idents: readonly string[]; readonly text: string }
  | { readonly kind: "identifier"; readonly name: string; readonly text: string }
  | { readonly kind: "dot"; readonly text: string }
  | { readonly kind: "nil"; readonly text: string }
  | { readonly kind: "bool"; readonly value: boolean; readonly text: string }
  | { readonly kind: "number"; readonly value: number | bigint; readonly text: string }
  | { readonly kind: "string"; readonly value: string; readonly text: string }
  | { readonly kind: "pipe"; readonly pipe: Pipe; readonly text: string };

export interface Command {
  readonly args: readonly Arg[];
  readonly text: string;
}
export interface Pipe {
  readonly line: number;
  readonly decl: readonly string[];
  readonly isAssign: boolean;
  readonly cmds: readonly Command[];
}

/** if, with and range: a pipeline, a body, and an optional else body. */
export interface ControlNode {
  readonly kind: "if" | "with" | "range";
  readonly line: number;
  readonly pipe: Pipe;
  readonly list: readonly Node[];
  readonly elseList: readonly Node[] | undefined;
}

export type Node =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "action"; readonly line: number; readonly pipe: Pipe }
  | ControlNode
  | { readonly kind: "template"; readonly line: number; readonly name: string; readonly pipe: Pipe | undefined }
  | { readonly kind: "break" | "continue"; readonly line: number };

/** A parsed template set: the main body under its name plus every `define`/`block`. */
export type Templates = Map<string, readonly Node[]>;

// ---------------------------------------------------------------- lexer

type ItemType =
  | "text" | "leftDelim" | "rightDelim" | "space" | "identifier" | "keyword" | "field" | "variable"
  | "string" | "rawString" | "char" | "number" | "bool" | "nil" | "pipe" | "leftParen" | "rightParen"
  | "declare" | "assign" | "comma" | "dot" | "eof" | "error" | "comment";

interface Item {
  readonly type: ItemType;
  readonly val: string;
  readonly line: number;
}

const KEYWORDS = new Set(["block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"]);
const SPACE = /[ \t\r\n]/;
const ALNUM = /[\p{L}\p{N}_]/u;

function lex(name: string, input: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let line = 1;
  const emitText = (text: string): void => {
    if (text.length > 0) items.push({ type: "text", val: text, line });
    line += countNewlines(text);
  };
  const fail = (msg: string): never => {
    throw new TemplateError(`template: ${name}:${line}: ${msg}`);
  };
  while (pos < input.length) {
    const open = input.indexOf("{{", pos);
    if (open < 0) {
      emitText(input.slice(pos));
      break;
    }
    let text = input.slice(pos, open);
    let i = open + 2;
    const leftTrim = input[i] === "-" && SPACE.test(input[i + 1] ?? "");
    if (leftTrim) {
      text = text.replace(/[ \t\r\n]+$/, "");
      i += 2;
    }
    emitText(text);
    // A comment sits right against the delimiters (trim markers aside).
    if (input.startsWith("/*", i)) {
      const close = input.indexOf("*/", i + 2);
      if (close < 0) fail("unclosed comment");
      line += countNewlines(input.slice(i, close));
      let j = close + 2;
      let rightTrim = false;
      if (input.startsWith(" -}}", j) || input.startsWith("\t-}}", j) || input.startsWith("\n-}}", j)) {
        rightTrim = true;
        j += 4;
      } else if (input.startsWith("}}", j)) {
        j += 2;
      } else {
        fail("comment ends before closing delimiter");
      }
      pos = rightTrim ? skipSpace(input, j) : j;
      continue;
    }
    items.push({ type: "leftDelim", val: "{{", line });
    const end = lexInside(input, i, items, { name, line: () => line, addLines: (n) => (line += n), fail });
    pos = end.trim ? skipSpace(input, end.pos) : end.pos;
  }
  items.push({ type: "eof", val: "", line });
  return items;
}

interface LexCtx {
  readonly name: string;
  readonly line: () => number;
  readonly addLines: (n: number) => void;
  readonly fail: (msg: string) => never;
}

function lexInside(input: string, start: number, items: Item[], ctx: LexCtx): { pos: number; trim: boolean } {
  let i = start;
  let parens = 0;
  const push = (type: ItemType, val: string): void => {
    items.push({ type, val, line: ctx.line() });
  };
  for (;;) {
    if (i >= input.length) ctx.fail("unclosed action");
    const c = input.charAt(i);
    if (SPACE.test(c)) {
      let j = i;
      while (j < input.length && SPACE.test(input.charAt(j))) j++;
      if (input[j] === "-" && input.startsWith("}}", j + 1)) {
        ctx.addLines(countNewlines(input.slice(i, j)));
        if (parens > 0) ctx.fail("unclosed left paren");
        push("rightDelim", "}}");
        return { pos: j + 3, trim: true };
      }
      ctx.addLines(countNewlines(input.slice(i, j)));
      push("space", input.slice(i, j));
      i = j;
      continue;
    }
    if (input.startsWith("}}", i)) {
      if (parens > 0) ctx.fail("unclosed left paren");
      push("rightDelim", "}}");
      return { pos: i + 2, trim: false };
    }
    if (c === "|") {
      push("pipe", c);
      i++;
    } else if (c === "(") {
      parens++;
      push("leftParen", c);
      i++;
    } else if (c === ")") {
      parens--;
      if (parens < 0) ctx.fail(`unexpected right paren`);
      push("rightParen", c);
      i++;
    } else if (c === ",") {
      push("comma", c);
      i++;
    } else if (c === ":" ) {
      if (input[i + 1] !== "=") ctx.fail("expected :=");
      push("declare", ":=");
      i += 2;
    } else if (c === "=") {
      push("assign", "=");
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < input.length && input[j] !== '"') {
        if (input[j] === "\\") j++;
        if (input[j] === "\n" || j >= input.length) ctx.fail("unterminated quoted string");
        j++;
      }
      if (j >= input.length) ctx.fail("unterminated quoted string");
      push("string", input.slice(i, j + 1));
      i = j + 1;
    } else if (c === "`") {
      const j = input.indexOf("`", i + 1);
      if (j < 0) ctx.fail("unterminated raw quoted string");
      push("rawString", input.slice(i, j + 1));
      ctx.addLines(countNewlines(input.slice(i, j)));
      i = j + 1;
    } else if (c === "'") {
      let j = i + 1;
      while (j < input.length && input[j] !== "'") {
        if (input[j] === "\\") j++;
        j++;
      }
      if (j >= input.length) ctx.fail("unterminated character constant");
      push("char", input.slice(i, j + 1));
      i = j + 1;
    } else if (c === "$") {
      let j = i + 1;
      while (j < input.length && ALNUM.test(input.charAt(j))) j++;
      push("variable", input.slice(i, j));
      i = j;
    } else if (c === ".") {
      const next = input.charAt(i + 1);
      if (/[0-9]/.test(next)) {
        const j = scanNumber(input, i);
        push("number", input.slice(i, j));
        i = j;
      } else if (ALNUM.test(next)) {
        let j = i + 1;
        while (j < input.length && ALNUM.test(input.charAt(j))) j++;
        push("field", input.slice(i, j));
        i = j;
      } else {
        push("dot", ".");
        i++;
      }
    } else if (/[0-9+-]/.test(c)) {
      const j = scanNumber(input, i);
      if (j === i || (j === i + 1 && /[+-]/.test(c))) ctx.fail(`bad character ${JSON.stringify(c)}`);
      push("number", input.slice(i, j));
      i = j;
    } else if (ALNUM.test(c)) {
      let j = i;
      while (j < input.length && ALNUM.test(input.charAt(j))) j++;
      const word = input.slice(i, j);
      if (KEYWORDS.has(word)) push("keyword", word);
      else if (word === "true" || word === "false") push("bool", word);
      else if (word === "nil") push("nil", word);
      else push("identifier", word);
      i = j;
    } else {
      ctx.fail(`unexpected ${JSON.stringify(c)} in command`);
    }
  }
}

function scanNumber(input: string, start: number): number {
  const m = /^[+-]?(?:0[xX][0-9a-fA-F_]+(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9]+)?|0[bB][01_]+|0[oO][0-7_]+|(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?)/.exec(
    input.slice(start, start + 100),
  );
  return start + (m?.[0].length ?? 0);
}

function skipSpace(input: string, pos: number): number {
  let j = pos;
  while (j < input.length && SPACE.test(input.charAt(j))) j++;
  return j;
}

function countNewlines(text: string): number {
  let n = 0;
  for (const ch of text) if (ch === "\n") n++;
  return n;
}

// ---------------------------------------------------------------- parser

/** What the parser needs to know about functions: which names exist. */
export interface ParseOptions {
  readonly hasFunction: (name: string) => boolean;
}

/** Parses `input` (named `name` in errors) into a template set; throws TemplateError. */
export function parseTemplate(name: string, input: string, options: ParseOptions): Templates {
  const parser = new Parser(name, lex(name, input), options);
  const body = parser.parseRoot();
  const set: Templates = new Map(parser.defined);
  // A body made of only defines and space does not replace an existing definition (Go's rule).
  if (!set.has(name) || body.some((n) => n.kind !== "text" || n.text.trim() !== "")) set.set(name, body);
  return set;
}

class Parser {
  readonly defined = new Map<string, readonly Node[]>();
  private i = 0;
  private vars: string[][] = [["$"]];

  constructor(
    private readonly name: string,
    private readonly items: readonly Item[],
    private readonly options: ParseOptions,
  ) {}

  parseRoot(): Node[] {
    const { list, end } = this.itemList(true);
    if (end !== "eof") this.fail(`unexpected {{${end}}}`);
    return list;
  }

  private peek(): Item {
    return this.items[this.i] ?? { type: "eof", val: "", line: 0 };
  }
  private next(): Item {
    const item = this.peek();
    this.i++;
    return item;
  }
  private nextNonSpace(): Item {
    let item = this.next();
    while (item.type === "space") item = this.next();
    return item;
  }
  private peekNonSpace(): Item {
    const save = this.i;
    const item = this.nextNonSpace();
    this.i = save;
    return item;
  }
  private fail(msg: string, line = this.items[Math.max(0, this.i - 1)]?.line ?? 0): never {
    throw new TemplateError(`template: ${this.name}:${line}: ${msg}`);
  }

  /** Parses nodes until `{{end}}`, `{{else ...}}` or EOF; returns which one stopped it. */
  private itemList(top: boolean): { list: Node[]; end: "eof" | "end" | "else" } {
    const list: Node[] = [];
    for (;;) {
      const item = this.next();
      if (item.type === "eof") {
        if (!top) this.fail("unexpected EOF");
        return { list, end: "eof" };
      }
      if (item.type === "text") {
        list.push({ kind: "text", text: item.val });
        continue;
      }
      // leftDelim
      const kw = this.peekNonSpace();
      if (kw.type === "keyword" && (kw.val === "end" || kw.val === "else")) {
        this.nextNonSpace();
        if (top) this.fail(`unexpected {{${kw.val}}}`);
        if (kw.val === "end") {
          this.expect("rightDelim", "end");
          return { list, end: "end" };
        }
        return { list, end: "else" };
      }
      const node = this.action(top);
      if (node !== undefined) list.push(node);
    }
  }

  private expect(type: ItemType, context: string): Item {
    const item = this.nextNonSpace();
    if (item.type !== type) this.fail(`unexpected ${describe(item)} in ${context}`);
    return item;
  }

  private action(top: boolean): Node | undefined {
    const item = this.peekNonSpace();
    const line = item.line;
    if (item.type === "keyword") {
      this.nextNonSpace();
      switch (item.val) {
        case "if":
        case "with":
          return this.control(item.val, line);
        case "range":
          return this.withScope(() => this.control("range", line));
        case "template":
          return this.templateCall(line);
        case "block":
          return this.block(line);
        case "define":
          if (!top) this.fail("unexpected <define> in command");
          this.define();
          return undefined;
        case "break":
        case "continue":
          this.expect("rightDelim", item.val);
          return { kind: item.val, line };
      }
    }
    return { kind: "action", line, pipe: this.pipeline("command", "rightDelim") };
  }

  private withScope<T>(fn: () => T): T {
    this.vars.push([]);
    try {
      return fn();
    } finally {
      this.vars.pop();
    }
  }

  private control(kind: "if" | "with" | "range", line: number): Node {
    this.vars.push([]);
    try {
      const pipe = this.pipeline(kind, "rightDelim");
      if (pipe.cmds.length === 0) this.fail(`missing value for ${kind}`);
      const { list, end } = this.itemList(false);
      let elseList: Node[] | undefined;
      if (end === "else") {
        const nextKw = this.peekNonSpace();
        if ((kind === "if" || kind === "with") && nextKw.type === "keyword" && nextKw.val === kind) {
          // {{else if ...}} / {{else with ...}}: a nested control that consumes the shared {{end}}.
          this.nextNonSpace();
          elseList = [this.control(kind, nextKw.line)];
        } else {
          this.expect("rightDelim", "else");
          const rest = this.itemList(false);
          if (rest.end !== "end") this.fail("expected end; found {{else}}");
          elseList = rest.list;
        }
      }
      return { kind, line, pipe, list, elseList };
    } finally {
      this.vars.pop();
    }
  }

  private templateName(context: string): string {
    const item = this.nextNonSpace();
    if (item.type !== "string" && item.type !== "rawString") this.fail(`unexpected ${describe(item)} in ${context}`);
    return unquote(item, (m) => this.fail(m));
  }

  private templateCall(line: number): Node {
    const name = this.templateName("template clause");
    let pipe: Pipe | undefined;
    if (this.peekNonSpace().type !== "rightDelim") pipe = this.pipeline("template clause", "rightDelim");
    else this.nextNonSpace();
    return { kind: "template", line, name, pipe };
  }

  private define(): void {
    const name = this.templateName("define clause");
    this.expect("rightDelim", "define clause");
    const saved = this.vars;
    this.vars = [["$"]];
    const { list, end } = this.itemList(false);
    this.vars = saved;
    if (end !== "end") this.fail("unexpected {{else}} in define");
    this.defined.set(name, list);
  }

  private block(line: number): Node {
    const name = this.templateName("block clause");
    const pipe = this.pipeline("block clause", "rightDelim");
    const saved = this.vars;
    this.vars = [["$"]];
    const { list, end } = this.itemList(false);
    this.vars = saved;
    if (end !== "end") this.fail("unexpected {{else}} in block");
    this.defined.set(name, list);
    return { kind: "template", line, name, pipe };
  }

  private pipeline(context: string, endType: "rightDelim" | "rightParen"): Pipe {
    const line = this.peekNonSpace().line;
    const decl: string[] = [];
    let isAssign = false;
    // Variable declarations: $x := / $x = / $i, $v :=
    const save = this.i;
    const v = this.nextNonSpace();
    if (v.type === "variable") {
      const after = this.nextNonSpace();
      if (after.type === "declare" || after.type === "assign") {
        isAssign = after.type === "assign";
        decl.push(v.val);
        if (isAssign && !this.hasVar(v.val)) this.fail(`undefined variable "${v.val}"`);
      } else if (after.type === "comma" && context === "range") {
        const v2 = this.nextNonSpace();
        const op = this.nextNonSpace();
        if (v2.type !== "variable" || (op.type !== "declare" && op.type !== "assign")) {
          this.fail(`range can only initialize variables`);
        }
        isAssign = op.type === "assign";
        decl.push(v.val, v2.val);
      } else {
        this.i = save;
      }
    } else {
      this.i = save;
    }
    const cmds: Command[] = [];
    for (;;) {
      const item = this.peekNonSpace();
      if (item.type === endType) {
        this.nextNonSpace();
        if (cmds.length === 0 && decl.length === 0 && context === "command") this.fail(`missing value for command`);
        if (decl.length > 0 && cmds.length === 0) this.fail(`missing value for ${context}`);
        break;
      }
      if (item.type === "eof" || item.type === "rightDelim" || item.type === "rightParen") {
        this.fail(`unexpected ${describe(item)} in ${context}`);
      }
      cmds.push(this.command(context));
    }
    // Declarations take effect after the pipeline that computes them.
    if (!isAssign) for (const d of decl) this.vars[this.vars.length - 1]?.push(d);
    for (let k = 1; k < cmds.length; k++) {
      const first = cmds[k]?.args[0];
      if (first !== undefined && isLiteral(first)) this.fail(`non executable command in pipeline stage ${k + 1}`);
    }
    return { line, decl, isAssign, cmds };
  }

  private hasVar(name: string): boolean {
    return this.vars.some((scope) => scope.includes(name));
  }

  private command(context: string): Command {
    const args: Arg[] = [];
    for (;;) {
      this.skipSpace();
      const operand = this.operand(context);
      if (operand !== undefined) args.push(operand);
      const item = this.peek();
      if (item.type === "space") {
        this.skipSpace();
        const after = this.peek();
        if (after.type === "pipe") {
          this.next();
          break;
        }
        if (after.type === "rightDelim" || after.type === "rightParen") break;
        continue;
      }
      if (item.type === "rightDelim" || item.type === "rightParen") break;
      if (item.type === "pipe") {
        this.next();
        break;
      }
      if (operand === undefined) this.fail(`unexpected ${describe(item)} in operand`);
      this.fail(`unexpected ${describe(item)} in operand`);
    }
    if (args.length === 0) this.fail(`empty command`);
    return { args, text: args.map((a) => a.text).join(" ") };
  }

  private skipSpace(): void {
    while (this.peek().type === "space") this.next();
  }

  private operand(context: string): Arg | undefined {
    const node = this.term(context);
    if (node === undefined) return undefined;
    if (this.peek().type !== "field") return node;
    const idents: string[] = [];
    while (this.peek().type === "field") idents.push(this.next().val.slice(1));
    const text = `${node.text}.${idents.join(".")}`;
    switch (node.kind) {
      case "field":
        return { kind: "field", idents: [...node.idents, ...idents], text };
      case "variable":
        return { kind: "variable", name: node.name, idents: [...node.idents, ...idents], text };
      case "bool":
      case "string":
      case "number":
      case "nil":
      case "dot":
        return this.fail(`unexpected . after term ${JSON.stringify(node.text)}`);
      default:
        return { kind: "chain", node, idents, text };
    }
  }

  private term(context: string): Arg | undefined {
    const item = this.next();
    switch (item.type) {
      case "identifier":
        if (!this.options.hasFunction(item.val)) this.fail(`function "${item.val}" not defined`);
        return { kind: "identifier", name: item.val, text: item.val };
      case "dot":
        return { kind: "dot", text: "." };
      case "nil":
        return { kind: "nil", text: "nil" };
      case "variable":
        if (!this.hasVar(item.val)) this.fail(`undefined variable "${item.val}"`);
        return { kind: "variable", name: item.val, idents: [], text: item.val };
      case "field":
        return { kind: "field", idents: [item.val.slice(1)], text: item.val };
      case "bool":
        return { kind: "bool", value: item.val === "true", text: item.val };
      case "char":
      case "number":
        return { kind: "number", value: parseNumber(item, (m) => this.fail(m)), text: item.val };
      case "string":
      case "rawString":
        return { kind: "string", value: unquote(item, (m) => this.fail(m)), text: item.val };
      case "leftParen": {
        const pipe = this.pipeline(context, "rightParen");
        return { kind: "pipe", pipe, text: `(${pipe.cmds.map((c) => c.text).join(" | ")})` };
      }
      default:
        this.i--;
        return undefined;
    }
  }
}

function isLiteral(arg: Arg): boolean {
  return arg.kind === "bool" || arg.kind === "number" || arg.kind === "string" || arg.kind === "nil" || arg.kind === "dot";
}

function describe(item: Item): string {
  switch (item.type) {
    case "eof":
      return "EOF";
    case "rightDelim":
      return `"}}"`;
    case "rightParen":
      return `")"`;
    case "keyword":
      return `<${item.val}>`;
    default:
      return `${JSON.stringify(item.val)}`;
  }
}

function parseNumber(item: Item, fail: (msg: string) => never): number | bigint {
  const text = item.val;
  if (item.type === "char") {
    const s = unquoteGo(text.slice(1, -1), fail);
    const cp = s.codePointAt(0);
    if (cp === undefined || [...s].length !== 1) fail(`malformed character constant: ${text}`);
    return BigInt(cp);
  }
  const clean = text.replace(/_/g, "");
  const intLike = /^[+-]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|[0-9]+)$/.test(clean);
  if (intLike) {
    const neg = clean.startsWith("-");
    const body = clean.replace(/^[+-]/, "");
    const oct = /^0[0-7]+$/.test(body) ? `0o${body.slice(1)}` : body;
    try {
      const n = BigInt(oct);
      return neg ? -n : n;
    } catch {
      fail(`illegal number syntax: ${JSON.stringify(text)}`);
    }
  }
  const f = Number(clean);
  if (!Number.isFinite(f) || clean === "" || /^[+-]?\.?$/.test(clean)) fail(`illegal number syntax: ${JSON.stringify(text)}`);
  // A float constant with an integral value is still an int in Go when used as one: keep floats.
  return f;
}

function unquote(item: Item, fail: (msg: string) => never): string {
  if (item.type === "rawString") return item.val.slice(1, -1).replace(/\r/g, "");
  return unquoteGo(item.val.slice(1, -1), fail);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", '"': '"', "'": "'",
};

/** Go's interpreted string escapes. */
export function unquoteGo(body: string, fail: (msg: string) => never): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body.charAt(i);
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body.charAt(++i);
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
    } else if (e === "x" || e === "u" || e === "U") {
      const len = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail(`invalid syntax`);
      out += String.fromCodePoint(parseInt(hex, 16));
      i += len;
    } else if (/[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
    } else {
      fail(`invalid syntax`);
    }
  }
  return out;
}
