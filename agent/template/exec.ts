// Go text/template's executor over the tree parse.ts builds: dot and variables, field chains on maps,
// pipelines, if/with/range/template/break/continue, `missingkey`, and limits so that a tenant's template
// cannot hang or flood the agent.
import { TemplateError, type Arg, type Command, type ControlNode, type Node, type Pipe, type Templates } from "./parse.ts";
import { formatValue, goType, isMap, truth } from "./values.ts";

/** How a key missing from a map is treated (Go's `missingkey=` option). */
export type MissingKey = "default" | "invalid" | "zero" | "error";

/** One template function: its arity (Go's fixed and variadic parameters) and its body. */
export interface TemplateFunc {
  /** Minimum and maximum argument counts; `Infinity` for variadic functions. */
  readonly arity: readonly [number, number];
  readonly call: (args: readonly unknown[]) => unknown;
}

/** Bounds on one execution. */
export interface ExecLimits {
  /** Nodes, commands and loop iterations evaluated; a template past it is stopped. */
  readonly maxSteps: number;
  /** Characters written. */
  readonly maxOutput: number;
  /** Nested `template` calls. */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: ExecLimits = { maxSteps: 1_000_000, maxOutput: 1 << 20, maxDepth: 1000 };

export interface ExecOptions {
  readonly name: string;
  readonly funcs: ReadonlyMap<string, TemplateFunc>;
  readonly missingKey: MissingKey;
  readonly limits: ExecLimits;
}

const NO_FINAL = Symbol("no final value");
type Final = unknown;

/** {{break}} and {{continue}} unwind to their range as exceptions. */
class Break extends Error {}
class Continue extends Error {}

interface Variable {
  readonly name: string;
  value: unknown;
}

/** Runs template `name` of `set` on `data`; throws TemplateError. */
export function execute(set: Templates, data: unknown, options: ExecOptions): string {
  const body = set.get(options.name);
  if (body === undefined) throw new TemplateError(`template: no template "${options.name}"`);
  const state = new State(set, options);
  state.vars.push({ name: "$", value: data });
  state.walkList(data, body);
  return state.out.join("");
}

class State {
  readonly out: string[] = [];
  vars: Variable[] = [];
  private size = 0;
  private steps = 0;
  private depth = 0;
  private at = "";
  private line = 0;
  private current: string;

  constructor(
    private readonly set: Templates,
    private readonly options: ExecOptions,
  ) {
    this.current = options.name;
  }

  private fail(msg: string, missingKey = false): never {
    const where = this.at === "" ? "" : ` at <${this.at}>`;
    throw new TemplateError(
      `template: ${this.options.name}:${this.line}: executing "${this.current}"${where}: ${msg}`,
      missingKey,
    );
  }

  private step(): void {
    if (++this.steps > this.options.limits.maxSteps) {
      this.fail(`stopped after ${this.options.limits.maxSteps} steps: the template loops too long, simplify it`);
    }
  }

  private write(text: string): void {
    this.size += text.length;
    if (this.size > this.options.limits.maxOutput) {
      this.fail(`output exceeds ${this.options.limits.maxOutput} characters: the template writes too much`);
    }
    this.out.push(text);
  }

  walkList(dot: unknown, list: readonly Node[]): void {
    for (const node of list) this.walk(dot, node);
  }

  private walk(dot: unknown, node: Node): void {
    this.step();
    switch (node.kind) {
      case "text":
        this.write(node.text);
        return;
      case "action": {
        this.line = node.line;
        const value = this.evalPipeline(dot, node.pipe);
        // Go unwraps the interface a map holds: a JSON null prints as a missing value does.
        if (node.pipe.decl.length === 0) this.write(formatValue(value === null ? undefined : value));
        return;
      }
      case "if":
      case "with":
        this.walkIfOrWith(dot, node);
        return;
      case "range":
        this.walkRange(dot, node);
        return;
      case "template":
        this.walkTemplate(dot, node);
        return;
      case "break":
        throw new Break();
      case "continue":
        throw new Continue();
    }
  }

  private scoped(fn: () => void): void {
    const mark = this.vars.length;
    try {
      fn();
    } finally {
      this.vars.length = mark;
    }
  }

  private walkIfOrWith(dot: unknown, node: ControlNode): void {
    this.scoped(() => {
      this.line = node.line;
      const value = this.evalPipeline(dot, node.pipe);
      if (truth(value)) this.walkList(node.kind === "with" ? value : dot, node.list);
      else if (node.elseList !== undefined) this.walkList(dot, node.elseList);
    });
  }

  private walkRange(dot: unknown, node: ControlNode): void {
    this.scoped(() => {
      this.line = node.line;
      const value = this.evalPipeline(dot, node.pipe);
      // The declared variables are set per iteration below, not to the whole value.
      const mark = this.vars.length - (node.pipe.isAssign ? 0 : node.pipe.decl.length);
      this.vars.length = mark;
      const entries = this.rangeEntries(value);
      if (entries.length === 0) {
        if (node.elseList !== undefined) this.walkList(dot, node.elseList);
        return;
      }
      for (const [key, elem] of entries) {
        this.step();
        this.setRangeVars(node.pipe, key, elem);
        try {
          this.walkList(elem, node.list);
        } catch (err) {
          if (err instanceof Break) break;
          if (!(err instanceof Continue)) throw err;
        } finally {
          this.vars.length = mark;
        }
      }
    });
  }

  private setRangeVars(pipe: Pipe, key: unknown, elem: unknown): void {
    const [first, second] = pipe.decl;
    const assign = (name: string, value: unknown): void => {
      if (pipe.isAssign) this.setVar(name, value);
      else this.vars.push({ name, value });
    };
    if (first !== undefined && second === undefined) assign(first, elem);
    if (first !== undefined && second !== undefined) {
      assign(first, key);
      assign(second, elem);
    }
  }

  private rangeEntries(value: unknown): Array<[unknown, unknown]> {
    if (value === undefined || value === null) return [];
    if (Array.isArray(value)) return value.map((v, i) => [BigInt(i), v]);
    if (isMap(value)) return Object.keys(value).sort().map((k) => [k, value[k]]);
    if (typeof value === "bigint") {
      if (value > BigInt(this.options.limits.maxSteps)) this.fail(`range over ${value} exceeds the step limit`);
      return Array.from({ length: Number(value) }, (_, i) => [BigInt(i), BigInt(i)]);
    }
    return this.fail(`range can't iterate over ${formatValue(value)}`);
  }

  private walkTemplate(dot: unknown, node: Extract<Node, { kind: "template" }>): void {
    this.line = node.line;
    const body = this.set.get(node.name);
    if (body === undefined) this.fail(`template: no template "${node.name}" associated with template "${this.options.name}"`);
    if (++this.depth > this.options.limits.maxDepth) this.fail(`exceeded maximum template depth (${this.options.limits.maxDepth})`);
    const newDot = node.pipe === undefined ? null : this.evalPipeline(dot, node.pipe);
    const savedVars = this.vars;
    const savedName = this.current;
    this.vars = [{ name: "$", value: newDot }];
    this.current = node.name;
    try {
      this.walkList(newDot, body);
    } finally {
      this.vars = savedVars;
      this.current = savedName;
      this.depth--;
    }
  }

  private evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    if (value === NO_FINAL) value = undefined;
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, value);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) {
        v.value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${name}`);
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) return v.value;
    }
    return this.fail(`undefined variable: ${name}`);
  }

  private evalCommand(dot: unknown, cmd: Command, final: Final): unknown {
    this.step();
    const first = cmd.args[0];
    if (first === undefined) return this.fail("empty command");
    this.at = first.text;
    const hasArgs = cmd.args.length > 1 || final !== NO_FINAL;
    switch (first.kind) {
      case "identifier":
        return this.evalFunction(dot, first.name, cmd.args.slice(1), final);
      case "field":
        if (hasArgs) this.fail(`${first.text} has arguments but cannot be invoked as function`);
        return this.fieldChain(dot, first.idents);
      case "variable":
        if (hasArgs) this.fail(`${first.text} has arguments but cannot be invoked as function`);
        return this.fieldChain(this.varValue(first.name), first.idents);
      case "chain":
        if (hasArgs) this.fail(`${first.text} has arguments but cannot be invoked as function`);
        return this.fieldChain(this.evalArg(dot, first.node), first.idents);
      case "pipe":
        if (hasArgs) this.fail(`can't give argument to non-function ${first.text}`);
        return this.evalPipeline(dot, first.pipe);
      default:
        if (hasArgs) this.fail(`can't give argument to non-function ${first.text}`);
        return this.evalArg(dot, first);
    }
  }

  private evalArg(dot: unknown, arg: Arg): unknown {
    switch (arg.kind) {
      case "dot":
        return dot;
      case "nil":
        return null;
      case "bool":
      case "number":
      case "string":
        return arg.value;
      case "field":
        return this.fieldChain(dot, arg.idents);
      case "variable":
        return this.fieldChain(this.varValue(arg.name), arg.idents);
      case "chain":
        return this.fieldChain(this.evalArg(dot, arg.node), arg.idents);
      case "pipe":
        return this.evalPipeline(dot, arg.pipe);
      case "identifier":
        return this.evalFunction(dot, arg.name, [], NO_FINAL);
    }
  }

  private fieldChain(receiver: unknown, idents: readonly string[]): unknown {
    let value = receiver;
    for (const name of idents) value = this.field(value, name);
    return value;
  }

  private field(receiver: unknown, name: string): unknown {
    if (receiver === undefined || receiver === null) {
      if (this.options.missingKey === "error") this.fail(`nil data; no entry for key "${name}"`, true);
      return undefined;
    }
    // A value with methods (the notification helpers' time.Time): a niladic method reads as a field, as in Go.
    const method = (receiver as { method?: unknown }).method;
    if (typeof method === "function") {
      const m: unknown = (method as (n: string) => unknown).call(receiver, name);
      if (typeof m === "function") return (m as () => unknown)();
    }
    if (isMap(receiver)) {
      if (Object.prototype.hasOwnProperty.call(receiver, name)) return receiver[name];
      if (this.options.missingKey === "error") this.fail(`map has no entry for key "${name}"`, true);
      return undefined;
    }
    return this.fail(`can't evaluate field ${name} in type ${goType(receiver)}`, true);
  }

  private evalFunction(dot: unknown, name: string, args: readonly Arg[], final: Final): unknown {
    const argNodes = args;
    const total = argNodes.length + (final === NO_FINAL ? 0 : 1);
    if (name === "and" || name === "or") return this.evalAndOr(dot, name, argNodes, final);
    const fn = this.options.funcs.get(name);
    if (fn === undefined) return this.fail(`"${name}" is not a defined function`);
    const [min, max] = fn.arity;
    if (total < min || total > max) {
      const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
      this.fail(`wrong number of args for ${name}: want ${want} got ${total}`);
    }
    const values = argNodes.map((a) => this.evalArg(dot, a));
    if (final !== NO_FINAL) values.push(final);
    this.at = name;
    try {
      return fn.call(values);
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      return this.fail(`error calling ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private evalAndOr(dot: unknown, name: "and" | "or", args: readonly Arg[], final: Final): unknown {
    const total = args.length + (final === NO_FINAL ? 0 : 1);
    if (total < 1) this.fail(`wrong number of args for ${name}: want at least 1 got 0`);
    let value: unknown;
    for (let i = 0; i < total; i++) {
      const arg = args[i];
      value = arg === undefined ? final : this.evalArg(dot, arg);
      if (truth(value) === (name === "or")) return value;
    }
    return value;
  }
}
