// One dispatch table from a generator's kind to its parameter sets, plus what Argo CD does around every
// generator: the per-generator template merged over the set's, and the `selector` post-filter.
import { clusterParams } from "./clusters.ts";
import { matrixParams, mergeParams } from "./combine.ts";
import { GeneratorError } from "./errors.ts";
import { gitParams } from "./git.ts";
import type { GeneratorEnv } from "./index.ts";
import { listParams } from "./list.ts";
import { pluginParams } from "./plugin.ts";
import { mergeTemplate, type Params, type RenderMode } from "./render.ts";
import { flattenParams, selectorMatches, selectorProblem } from "./selector.ts";
import type { ApplicationSetGenerator, ApplicationSetSpec, ApplicationSetTemplate } from "./types.ts";

export interface GeneratorContext {
  readonly spec: ApplicationSetSpec;
  readonly env: GeneratorEnv;
  readonly mode: RenderMode;
  /** This generator's path in the spec: `generators[0]`, `generators[0].matrix.generators[1]`. */
  readonly path: string;
  /** 0 for `spec.generators`, 1 inside a matrix or merge, 2 inside a nested one. */
  readonly depth: number;
  /** The set's name, sent to plugins as Argo CD sends it. */
  readonly setName: string;
}

/** One generator's output: its parameter sets and the template they render into. */
export interface GeneratorResult {
  /** The generator's path with its kind: `generators[1].git`. */
  readonly path: string;
  readonly params: readonly Params[];
  readonly template: ApplicationSetTemplate;
}

export type GeneratorKind = "list" | "clusters" | "git" | "matrix" | "merge" | "plugin";
type Run = (gen: never, ctx: GeneratorContext) => Promise<readonly Params[]>;

const KINDS: Record<GeneratorKind, Run> = {
  list: (gen: NonNullable<ApplicationSetGenerator["list"]>, ctx) => Promise.resolve(listParams(gen, ctx.mode.goTemplate)),
  clusters: async (gen: NonNullable<ApplicationSetGenerator["clusters"]>, ctx) => clusterParams(gen, await clustersOf(ctx), ctx.mode),
  git: (gen: NonNullable<ApplicationSetGenerator["git"]>, ctx) => gitParams(gen, ctx.env, ctx.mode),
  matrix: (gen: NonNullable<ApplicationSetGenerator["matrix"]>, ctx) => matrixParams(gen, ctx),
  merge: (gen: NonNullable<ApplicationSetGenerator["merge"]>, ctx) => mergeParams(gen, ctx),
  plugin: (gen: NonNullable<ApplicationSetGenerator["plugin"]>, ctx) => pluginParams(gen, ctx.env, ctx.mode, ctx.setName),
};

async function clustersOf(ctx: GeneratorContext): Promise<Awaited<ReturnType<GeneratorEnv["clusters"]>>> {
  try {
    return await ctx.env.clusters();
  } catch (err) {
    throw new GeneratorError("ApplicationGenerationFromParamsError", `cannot list cluster Secrets: ${(err as Error).message}`);
  }
}

const NOT_BUILT = ["scmProvider", "pullRequest", "clusterDecisionResource"] as const;

/** The kinds set on one generator entry (Argo CD runs each of them). */
export function kindsOf(generator: ApplicationSetGenerator): string[] {
  return Object.keys(generator).filter((k) => k !== "selector" && (generator as Record<string, unknown>)[k] != null);
}

/** Runs one generator entry: each kind it names, its template merged over the set's, then `selector`. */
export async function runGenerator(generator: ApplicationSetGenerator, ctx: GeneratorContext): Promise<GeneratorResult[]> {
  const kinds = kindsOf(generator);
  if (kinds.length === 0) {
    throw new GeneratorError("ErrorOccurred", "names no generator: set one of list, clusters, git, matrix, merge, plugin", ctx.path);
  }
  const problem = selectorProblem(generator.selector);
  if (problem !== undefined) throw new GeneratorError("ErrorOccurred", `selector: ${problem}`, `${ctx.path}.selector`);
  const results: GeneratorResult[] = [];
  for (const kind of kinds) {
    const path = `${ctx.path}.${kind}`;
    if ((NOT_BUILT as readonly string[]).includes(kind)) {
      throw new GeneratorError("ErrorOccurred", `the ${kind} generator is not supported by Tether (see agent/appset/generate/README.md)`, path);
    }
    const run = (KINDS as Partial<Record<string, Run>>)[kind];
    if (run === undefined) throw new GeneratorError("ErrorOccurred", `unknown generator '${kind}': use list, clusters, git, matrix, merge or plugin`, path);
    const gen = (generator as Record<string, unknown>)[kind] as { readonly template?: ApplicationSetTemplate };
    const template = mergeTemplate(gen.template ?? {}, ctx.spec.template) as ApplicationSetTemplate;
    let params: readonly Params[];
    try {
      params = await run(gen as never, { ...ctx, path });
    } catch (err) {
      if (err instanceof GeneratorError && err.generator === undefined) {
        throw new GeneratorError(err.reason, err.message, path);
      }
      throw err;
    }
    const selected = params.filter((p) => selectorMatches(generator.selector, flattenParams(p)));
    results.push({ path, params: selected, template });
  }
  return results;
}
