// Parameters into templates, as Argo CD's ApplicationSet renderer does it: every string of the template
// (map keys included) is rendered on its own, by Go's text/template with Sprig when `goTemplate` is set,
// else by fasttemplate (`{{name}}` replaced when `name` is a string parameter, anything else left as is).
import { compileTemplate, parseTemplateOptions, type CompiledTemplate, type MissingKey } from "../../template/index.ts";
import { isMap } from "../../template/values.ts";

export type Params = Readonly<Record<string, unknown>>;

/** Which language renders the strings, and Go's `missingkey` option. */
export interface RenderMode {
  readonly goTemplate: boolean;
  readonly missingKey: MissingKey;
}

export function renderMode(spec: { readonly goTemplate?: boolean; readonly goTemplateOptions?: readonly string[] }): RenderMode {
  return { goTemplate: spec.goTemplate === true, missingKey: parseTemplateOptions(spec.goTemplateOptions ?? []).missingKey };
}

const compiled = new Map<string, CompiledTemplate>();

function goTemplate(text: string, missingKey: MissingKey): CompiledTemplate {
  const key = `${missingKey}\u0000${text}`;
  let t = compiled.get(key);
  if (t === undefined) {
    if (compiled.size > 5000) compiled.clear();
    t = compileTemplate(text, { name: "", missingKey, limits: { maxSteps: 100_000, maxOutput: 256 * 1024 } });
    compiled.set(key, t);
  }
  return t;
}

/** Renders one string; throws TemplateError (Go) or Error (an unclosed fasttemplate tag). */
export function renderString(text: string, params: Params, mode: RenderMode): string {
  if (mode.goTemplate) return goTemplate(text, mode.missingKey).execute(params);
  return fasttemplate(text, params);
}

/** valyala/fasttemplate with Argo CD's tag function: `{{ name }}` (spaces trimmed) for string params only. */
export function fasttemplate(text: string, params: Params): string {
  if (!/{{.*}}/.test(text)) return text;
  let out = "";
  let pos = 0;
  for (;;) {
    const open = text.indexOf("{{", pos);
    if (open < 0) break;
    const close = text.indexOf("}}", open + 2);
    if (close < 0) throw new Error(`invalid template: cannot find end tag="}}" in the template="${text}" starting from "${text.slice(open + 2)}"`);
    out += text.slice(pos, open);
    const tag = text.slice(open + 2, close);
    const name = tag.trim();
    const value = params[name];
    out += name !== "" && typeof value === "string" ? value : `{{${tag}}}`;
    pos = close + 2;
  }
  return out + text.slice(pos);
}

/** A string of the template that failed to render: where it is, what it says, and Go's reason. */
export class FieldRenderError extends Error {
  readonly field: string;
  readonly cause: unknown;
  constructor(field: string, text: string, cause: unknown) {
    const short = text.length > 80 ? `${text.slice(0, 77)}...` : text;
    super(`${field} (${JSON.stringify(short)}): ${goReason(cause)}`);
    this.name = "FieldRenderError";
    this.field = field;
    this.cause = cause;
  }
}

/** Go's error without its `template: NAME:LINE: executing "NAME"` preamble (kept: the line when not 1). */
function goReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const m = /^template: [^:]*:(\d+): (?:executing "[^"]*" )?(.*)$/s.exec(text);
  if (m === null) return text;
  return m[1] === "1" ? (m[2] ?? "") : `line ${m[1]}: ${m[2] ?? ""}`;
}

/**
 * Renders every string and map key of `value`; nulls inside maps are dropped, as Argo CD drops nil
 * fields. A failure is a FieldRenderError naming the field (`metadata.name`).
 */
export function renderDeep(value: unknown, params: Params, mode: RenderMode, path = ""): unknown {
  if (typeof value === "string") {
    try {
      return renderString(value, params, mode);
    } catch (err) {
      if (err instanceof FieldRenderError) throw err;
      throw new FieldRenderError(path === "" ? "(value)" : path, value, err);
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => renderDeep(v, params, mode, `${path}[${i}]`));
  if (isMap(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue;
      const key = renderDeep(k, params, mode, `${path}${path === "" ? "" : "."}${k} (key)`) as string;
      out[key] = renderDeep(v, params, mode, `${path}${path === "" ? "" : "."}${k}`);
    }
    return out;
  }
  return value;
}

/** mergo.Merge(generatorTemplate, setTemplate): fields the generator's template leaves empty come from the set's. */
export function mergeTemplate(override: unknown, base: unknown): unknown {
  if (isEmpty(override)) return base;
  if (isMap(override) && isMap(base)) {
    const out: Record<string, unknown> = { ...override };
    for (const [k, v] of Object.entries(base)) out[k] = mergeTemplate(out[k], v);
    return out;
  }
  return override;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === "" || v === false || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isMap(v)) return Object.keys(v).length === 0;
  return false;
}
