// Go's text/template in TypeScript, with Sprig's functions as Argo CD exposes them. One entry point:
// `compileTemplate(text, options)` parses once (unknown functions and variables are parse errors), and
// `execute(data)` renders under step and size limits. See README.md for what is and is not Go's.
import { BUILTINS } from "./builtins.ts";
import { DEFAULT_LIMITS, execute, type ExecLimits, type MissingKey, type TemplateFunc } from "./exec.ts";
import { parseTemplate, type Templates } from "./parse.ts";
import { SPRIG } from "./sprig.ts";

export { TemplateError } from "./parse.ts";
export type { ExecLimits, MissingKey, TemplateFunc } from "./exec.ts";
export { DEFAULT_LIMITS } from "./exec.ts";
export { fn } from "./builtins.ts";
export { formatValue, truth } from "./values.ts";

export interface TemplateOptions {
  /** The name in error messages (`template: NAME:1: ...`). */
  readonly name?: string;
  /** Go's `Option("missingkey=...")`; `default`. */
  readonly missingKey?: MissingKey;
  /** Functions added over Go's builtins (Sprig's by default: pass `sprig: false` for none). */
  readonly funcs?: ReadonlyMap<string, TemplateFunc>;
  /** Whether Sprig's functions (as Argo CD registers them) are available; true. */
  readonly sprig?: boolean;
  readonly limits?: Partial<ExecLimits>;
}

/** A parsed template, ready to execute many times. */
export interface CompiledTemplate {
  readonly execute: (data: unknown) => string;
}

/** Go's builtins, then Sprig's (which, as in Go, win over a builtin of the same name: `slice`), then extras. */
export function functionMap(options: Pick<TemplateOptions, "funcs" | "sprig">): ReadonlyMap<string, TemplateFunc> {
  const map = new Map(BUILTINS);
  if (options.sprig !== false) for (const [k, v] of SPRIG) map.set(k, v);
  for (const [k, v] of options.funcs ?? []) map.set(k, v);
  return map;
}

const defaultFuncs = functionMap({});

/** Parses `text`; throws TemplateError with Go's wording for a syntax error or an unknown function. */
export function compileTemplate(text: string, options: TemplateOptions = {}): CompiledTemplate {
  const name = options.name ?? "template";
  const funcs = options.funcs === undefined && options.sprig !== false ? defaultFuncs : functionMap(options);
  const set: Templates = parseTemplate(name, text, { hasFunction: (f) => f === "and" || f === "or" || funcs.has(f) });
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const missingKey = options.missingKey ?? "default";
  return { execute: (data) => execute(set, data, { name, funcs, missingKey, limits }) };
}

/** Parses and executes once. */
export function renderTemplate(text: string, data: unknown, options: TemplateOptions = {}): string {
  return compileTemplate(text, options).execute(data);
}

/** Parses Go's option strings (`missingkey=error`); throws for one Go would reject. */
export function parseTemplateOptions(options: readonly string[]): { missingKey: MissingKey } {
  let missingKey: MissingKey = "default";
  for (const opt of options) {
    const m = /^missingkey=(default|invalid|zero|error)$/.exec(opt);
    if (m === null) throw new Error(`unrecognized option: ${opt}`);
    missingKey = m[1] as MissingKey;
  }
  return { missingKey };
}
