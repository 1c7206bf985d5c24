// `ignoreDifferences.jqPathExpressions`: the part of jq that Argo CD users write to name fields —
// paths (`.spec.replicas`, `."a/b"`, `.["a"]`, `.[0]`, `.[]`, a trailing `?`), pipes, and
// `select(PATH == LITERAL)` (also `!=`, joined by `and` / `or`). Anything else is refused with a
// message that names the expression, so an accepted rule is always applied. Pure: an expression and
// a document in, the paths it names out.

/** One step into a document: a key of an object or an index of a list. */
export type PathToken = string | number;

// A trailing `?` is accepted and changes nothing: a path that is not there names no field either way.
type Component = { readonly kind: "key"; readonly key: string } | { readonly kind: "index"; readonly index: number } | { readonly kind: "each" };
type Literal = string | number | boolean | null;
interface Comparison { readonly path: readonly Component[]; readonly op: "==" | "!="; readonly value: Literal }
/** `or` of `and`s. */
type Predicate = readonly (readonly Comparison[])[];
type Step = { readonly kind: "path"; readonly path: readonly Component[] } | { readonly kind: "select"; readonly predicate: Predicate };

export class JqError extends Error {}

/** Parses an expression; throws {@link JqError} naming what is not supported. */
export function parseJq(expression: string): readonly Step[] {
  const p = new Parser(expression);
  const steps: Step[] = [p.step()];
  while (p.eat("|")) steps.push(p.step());
  p.end();
  return steps;
}

/** The paths in `doc` an expression names (existing fields only), in document order. */
export function jqPaths(expression: string, doc: unknown): PathToken[][] {
  let current: { value: unknown; path: PathToken[] }[] = [{ value: doc, path: [] }];
  for (const step of parseJq(expression)) {
    current = step.kind === "path"
      ? current.flatMap((c) => walk(c.value, step.path).map((w) => ({ value: w.value, path: [...c.path, ...w.path] })))
      : current.filter((c) => holds(step.predicate, c.value));
  }
  return current.filter((c) => c.path.length > 0).map((c) => c.path);
}

/** Removes, in place, every field an expression names in `doc`. */
export function removeJqPaths(doc: unknown, expression: string): void {
  // Deepest and last index first, so removing one list item does not move another still to remove.
  const paths = jqPaths(expression, doc).sort((a, b) => b.length - a.length || compareTokens(b, a));
  for (const path of paths) removePath(doc, path);
}

/** The value at `path` in `doc`; undefined when it is not there. */
export function valueAt(doc: unknown, path: readonly PathToken[]): unknown {
  return path.reduce<unknown>((node, token) => (node !== null && typeof node === "object" ? (node as Record<PathToken, unknown>)[token] : undefined), doc);
}

/** Removes the field or list item at `path` (a list closes up); nothing when it is not there. */
export function removePath(doc: unknown, path: readonly PathToken[]): void {
  const parent = valueAt(doc, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof last === "number") parent.splice(last, 1);
  else if (parent !== null && typeof parent === "object") delete (parent as Record<PathToken, unknown>)[last];
}

function compareTokens(a: readonly PathToken[], b: readonly PathToken[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    return typeof a[i] === "number" && typeof b[i] === "number" ? (a[i] as number) - (b[i] as number) : String(a[i]).localeCompare(String(b[i]));
  }
  return a.length - b.length;
}

function walk(value: unknown, path: readonly Component[]): { value: unknown; path: PathToken[] }[] {
  let current: { value: unknown; path: PathToken[] }[] = [{ value, path: [] }];
  for (const c of path) {
    current = current.flatMap(({ value: v, path: p }) => {
      if (c.kind === "key") return isRecord(v) && c.key in v ? [{ value: v[c.key], path: [...p, c.key] }] : [];
      if (c.kind === "index") {
        if (!Array.isArray(v)) return [];
        const list = v as unknown[];
        const i = c.index < 0 ? list.length + c.index : c.index;
        return i >= 0 && i < list.length ? [{ value: list[i], path: [...p, i] }] : [];
      }
      if (Array.isArray(v)) return (v as unknown[]).map((item, i) => ({ value: item, path: [...p, i] }));
      return isRecord(v) ? Object.entries(v).map(([k, item]) => ({ value: item, path: [...p, k] })) : [];
    });
  }
  return current;
}

function holds(predicate: Predicate, value: unknown): boolean {
  return predicate.some((all) => all.every((c) => {
    const found = walk(value, c.path).map((w) => w.value);
    const actual = found.length === 0 ? null : found[0];
    return c.op === "==" ? actual === c.value : actual !== c.value;
  }));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

class Parser {
  private at = 0;
  constructor(private readonly text: string) {}

  step(): Step {
    this.space();
    if (this.text.startsWith("select(", this.at)) {
      this.at += "select(".length;
      const predicate = this.predicate();
      this.expect(")");
      return { kind: "select", predicate };
    }
    return { kind: "path", path: this.path() };
  }

  private path(): Component[] {
    this.space();
    if (this.text[this.at] !== ".") this.fail("a path starting with .");
    const out: Component[] = [];
    while (this.text[this.at] === "." || this.text[this.at] === "[") {
      if (this.text[this.at] === ".") {
        this.at++;
        if (this.text[this.at] === "[") continue;
        const key = this.text[this.at] === "\"" ? this.string() : this.ident();
        if (key === "") {
          if (out.length === 0 && this.atEndOfPath()) return out; // `.` alone: the value itself
          this.fail("a field name after .");
        }
        out.push({ kind: "key", key });
        this.eat("?");
      } else {
        this.at++;
        this.space();
        if (this.eat("]")) out.push({ kind: "each" });
        else if (this.text[this.at] === "\"") {
          const key = this.string();
          this.expect("]");
          out.push({ kind: "key", key });
        } else {
          const index = this.number();
          this.expect("]");
          out.push({ kind: "index", index });
        }
        this.eat("?");
      }
    }
    return out;
  }

  private atEndOfPath(): boolean {
    const rest = this.text.slice(this.at).trimStart();
    return rest === "" || rest.startsWith("|") || rest.startsWith(")") || rest.startsWith("=") || rest.startsWith("!");
  }

  private predicate(): Predicate {
    const ors: Comparison[][] = [[this.comparison()]];
    for (;;) {
      if (this.word("and")) ors[ors.length - 1]!.push(this.comparison());
      else if (this.word("or")) ors.push([this.comparison()]);
      else return ors;
    }
  }

  private comparison(): Comparison {
    const path = this.path();
    this.space();
    const op = this.eat("==") ? "==" : this.eat("!=") ? "!=" : this.fail("== or != in select()");
    return { path, op, value: this.literal() };
  }

  private literal(): Literal {
    this.space();
    if (this.text[this.at] === "\"") return this.string();
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) if (this.word(word)) return value;
    return this.number();
  }

  private string(): string {
    const m = /^"((?:[^"\\]|\\.)*)"/.exec(this.text.slice(this.at));
    if (!m) this.fail("a closed string");
    this.at += m[0].length;
    return JSON.parse(m[0]) as string;
  }

  private ident(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.at));
    this.at += m?.[0].length ?? 0;
    return m?.[0] ?? "";
  }

  private number(): number {
    this.space();
    const m = /^-?\d+(\.\d+)?/.exec(this.text.slice(this.at));
    if (!m) this.fail("a number, a string or true/false/null");
    this.at += m[0].length;
    return Number(m[0]);
  }

  private word(w: string): boolean {
    this.space();
    if (!new RegExp(`^${w}\\b`).test(this.text.slice(this.at))) return false;
    this.at += w.length;
    return true;
  }

  eat(token: string): boolean {
    this.space();
    if (!this.text.startsWith(token, this.at)) return false;
    this.at += token.length;
    return true;
  }

  private expect(token: string): void {
    if (!this.eat(token)) this.fail(`"${token}"`);
  }

  end(): void {
    this.space();
    if (this.at < this.text.length) this.fail("the end of the expression");
  }

  private space(): void {
    while (this.text[this.at] === " ") this.at++;
  }

  private fail(wanted: string): never {
    throw new JqError(`jqPathExpressions "${this.text}": expected ${wanted} at column ${this.at + 1}; Tether evaluates paths (.a.b, ."x", .[0], .[]), pipes and select(PATH == VALUE) joined by and/or`);
  }
}
