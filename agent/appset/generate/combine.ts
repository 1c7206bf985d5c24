// The matrix and merge generators: two levels of nesting at most, as Argo CD. A matrix's second child
// is rendered with each parameter set of the first before it runs (so `{{.path.path}}` from a git
// generator can name the second one's files); merge joins its children's sets on `mergeKeys`.
import { TemplateError } from "../../template/index.ts";
import { toJson } from "../../template/sprig.ts";
import { isMap } from "../../template/values.ts";
import { GeneratorError } from "./errors.ts";
import { kindsOf, runGenerator, type GeneratorContext } from "./generators.ts";
import { renderDeep, renderString, type Params, type RenderMode } from "./render.ts";
import type { ApplicationSetGenerator, MatrixGenerator, MergeGenerator } from "./types.ts";

export async function matrixParams(gen: MatrixGenerator, ctx: GeneratorContext): Promise<Params[]> {
  const children = checkChildren(gen.generators, ctx, "matrix");
  if (children.length !== 2) {
    throw new GeneratorError("ErrorOccurred", `a matrix combines exactly two generators; this one has ${children.length}`);
  }
  const [first, second] = children as [ApplicationSetGenerator, ApplicationSetGenerator];
  const left = await childParams(first, 0, ctx);
  const out: Params[] = [];
  for (const a of left) {
    const interpolated = Object.keys(a).length === 0 ? second : interpolateGenerator(second, a, ctx.mode);
    const right = await childParams(interpolated, 1, ctx);
    for (const b of right) out.push(ctx.mode.goTemplate ? mergeOverride(mergeOverride({}, b), a) : combineStrings(a, b));
  }
  return out;
}

export async function mergeParams(gen: MergeGenerator, ctx: GeneratorContext): Promise<Params[]> {
  const children = checkChildren(gen.generators, ctx, "merge");
  if (children.length < 2) throw new GeneratorError("ErrorOccurred", "a merge needs at least two generators");
  const keys = [...new Set(gen.mergeKeys ?? [])];
  if (keys.length === 0) throw new GeneratorError("ErrorOccurred", "mergeKeys must name at least one parameter to merge on");
  const sets: Params[][] = [];
  for (const [i, child] of children.entries()) sets.push(await childParams(child, i, ctx));
  const base = byMergeKey(keys, sets[0] ?? [], `${ctx.path}.generators[0]`);
  for (const [i, other] of sets.slice(1).entries()) {
    const overrides = byMergeKey(keys, other, `${ctx.path}.generators[${i + 1}]`);
    for (const [key, params] of base) {
      const o = overrides.get(key);
      if (o !== undefined) base.set(key, ctx.mode.goTemplate ? mergeOverride({ ...params }, o) : { ...params, ...o });
    }
  }
  return [...base.values()];
}

function checkChildren(children: readonly ApplicationSetGenerator[] | undefined, ctx: GeneratorContext, kind: string): readonly ApplicationSetGenerator[] {
  if (!Array.isArray(children)) throw new GeneratorError("ErrorOccurred", `${kind}.generators must be a list`);
  const list: readonly ApplicationSetGenerator[] = children;
  for (const [i, child] of list.entries()) {
    const kinds = kindsOf(child);
    if (kinds.length !== 1) {
      throw new GeneratorError("ErrorOccurred", `generators[${i}] of a ${kind} must name exactly one generator, not ${kinds.length}`);
    }
    if (ctx.depth >= 1 && (kinds[0] === "matrix" || kinds[0] === "merge")) {
      throw new GeneratorError("ErrorOccurred", `generators[${i}]: a ${kinds[0]} inside a nested ${kind} is not supported (two levels at most, as Argo CD)`);
    }
  }
  return list;
}

async function childParams(child: ApplicationSetGenerator, i: number, ctx: GeneratorContext): Promise<Params[]> {
  const results = await runGenerator(child, { ...ctx, path: `${ctx.path}.generators[${i}]`, depth: ctx.depth + 1 });
  return [...(results[0]?.params ?? [])];
}

function byMergeKey(keys: readonly string[], sets: readonly Params[], where: string): Map<string, Params> {
  const out = new Map<string, Params>();
  for (const params of sets) {
    const key = toJson(Object.fromEntries(keys.map((k) => [k, params[k] ?? null])));
    if (out.has(key)) {
      throw new GeneratorError("ApplicationGenerationFromParamsError",
        `${where} produced two parameter sets with the same mergeKeys ${key}: merge needs them unique; add a key to mergeKeys`);
    }
    out.set(key, params);
  }
  return out;
}

/** mergo.Merge(dst, src, WithOverride): src wins, maps merge deeply, empty src values do not override. */
function mergeOverride(dst: Record<string, unknown>, src: Params): Record<string, unknown> {
  for (const [k, v] of Object.entries(src)) {
    const cur = dst[k];
    if (isMap(cur) && isMap(v)) dst[k] = mergeOverride({ ...cur }, v);
    else if (!isEmptyValue(v) || !(k in dst)) dst[k] = v;
  }
  return dst;
}

function isEmptyValue(v: unknown): boolean {
  return v === undefined || v === null || v === "" || v === false || v === 0 || (Array.isArray(v) && v.length === 0) ||
    (isMap(v) && Object.keys(v).length === 0);
}

/** Argo CD's CombineStringMaps: the same parameter with two different values is an error. */
function combineStrings(a: Params, b: Params): Params {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (k in out && out[k] !== v) {
      throw new GeneratorError("ApplicationGenerationFromParamsError",
        `found duplicate key ${k} with different value, a: ${String(out[k])} ,b: ${String(v)}: rename the parameter in one generator`);
    }
    out[k] = v;
  }
  return out;
}

const VALUES_KINDS = new Set(["clusters", "git", "plugin"]);

/**
 * Argo CD's InterpolateGenerator: every string of the generator rendered with `params`. `values` are
 * rendered with missingkey=error and kept as written when a key is missing (they may name the
 * generator's own parameters); a child's `template` is not rendered (a matrix ignores it).
 */
export function interpolateGenerator(gen: ApplicationSetGenerator, params: Params, mode: RenderMode): ApplicationSetGenerator {
  const out: Record<string, unknown> = {};
  for (const [kind, body] of Object.entries(gen)) {
    if (!isMap(body)) {
      out[kind] = body;
      continue;
    }
    const { template, values, ...rest } = body;
    const rendered = renderDeep(rest, params, mode) as Record<string, unknown>;
    if (template !== undefined) rendered.template = template;
    if (values !== undefined) rendered.values = VALUES_KINDS.has(kind) && isMap(values) ? renderValues(values, params, mode) : renderDeep(values, params, mode);
    out[kind] = rendered;
  }
  return out;
}

function renderValues(values: Record<string, unknown>, params: Params, mode: RenderMode): Record<string, string> {
  const strict: RenderMode = mode.goTemplate ? { goTemplate: true, missingKey: "error" } : mode;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    const text = typeof v === "string" ? v : JSON.stringify(v);
    try {
      out[k] = renderString(text, params, strict);
    } catch (err) {
      if (err instanceof TemplateError && err.missingKey) out[k] = text;
      else throw err;
    }
  }
  return out;
}
