// One dispatch table from a generator's kind to its parameter sets, plus what Argo CD does around every
// generator: the per-generator template merged over the set's, and the `selector` post-filter.
import { GeneratorError } from "./errors.ts";
import type { GeneratorEnv } from "./index.ts";
import { listParams } from "./list.ts";
import { mergeTemplate, type Params, type RenderMode } from "./render.ts";
import { flattenParams, selectorMatches, selectorProblem } from "./selector.ts";
import type { ApplicationSetGenerator, ApplicationSetSpec, ApplicationSetTemplate } from "./types.ts";

export interface GeneratorContext {
  readonly spec: ApplicationSetSpec;
  readonly env: GeneratorEnv;
  readonly mode: RenderMode;
  /** This generator's path in the spec: `generators[0]`, `generators[0].matrix.generators[1]`. */
  readonly path: string;
}

/** One generator's output: its parameter sets and the template they render into. */
export interface GeneratorResult {
  /** The generator's path with its kind: `generators[1].git`. */
  readonly path: string;
  readonly params: readonly Params[];
  readonly template: ApplicationSetTemplate;
}

export type GeneratorKind = "list" | "clusters" | "git" | "matrix" | "merge" | "plugin";
type Run = (gen: NonNullable<ApplicationSetGenerator[GeneratorKind]>, ctx: GeneratorContext & { readonly path: string }) => Promise<readonly Params[]>;

const KINDS: Record<GeneratorKind, Run> = {
  list: (gen, ctx) => Promise.resolve(listParams(gen as NonNullable<ApplicationSetGenerator["list"]>, ctx.mode.goTemplate)),
  clusters: () => notBuilt("clusters"),
  git: () => notBuilt("git"),
  matrix: () => notBuilt("matrix"),
  merge: () => notBuilt("merge"),
  plugin: () => notBuilt("plugin"),
};

const NOT_BUILT = ["scmProvider", "pullRequest", "clusterDecisionResource"] as const;

function notBuilt(kind: string): Promise<never> {
  return Promise.reject(new GeneratorError("ErrorOccurred", `the ${kind} generator is not supported by Tether yet`));
}

/** The kinds set on one generator entry (Argo CD runs each of them). */
export function kindsOf(generator: ApplicationSetGenerator): string[] {
  return Object.keys(generator).filter((k) => k !== "selector" && (generator as Record<string, unknown>)[k] != null);
}

/**
 * Runs one generator entry. `interpolate` holds a matrix's first child's parameters, rendered into this
 * generator before it runs (empty at the top level).
 */
export async function runGenerator(generator: ApplicationSetGenerator, ctx: GeneratorContext, _interpolate: Params): Promise<GeneratorResult[]> {
  const kinds = kindsOf(generator);
  if (kinds.length === 0) {
    throw new GeneratorError("ErrorOccurred", `${ctx.path} names no generator: set one of list, clusters, git, matrix, merge, plugin`, ctx.path);
  }
  const problem = selectorProblem(generator.selector);
  if (problem !== undefined) throw new GeneratorError("ErrorOccurred", `${ctx.path}.selector: ${problem}`, `${ctx.path}.selector`);
  const results: GeneratorResult[] = [];
  for (const kind of kinds) {
    const path = `${ctx.path}.${kind}`;
    if ((NOT_BUILT as readonly string[]).includes(kind)) {
      throw new GeneratorError("ErrorOccurred", `the ${kind} generator is not supported by Tether (see agent/appset/generate/README.md)`, path);
    }
    const run = KINDS[kind as GeneratorKind] as Run | undefined;
    if (run === undefined) throw new GeneratorError("ErrorOccurred", `unknown generator '${kind}' at ${ctx.path}`, path);
    const gen = (generator as Record<string, unknown>)[kind] as NonNullable<ApplicationSetGenerator[GeneratorKind]>;
    const template = mergeTemplate(gen.template ?? {}, ctx.spec.template) as ApplicationSetTemplate;
    let params: readonly Params[];
    try {
      params = await run(gen, { ...ctx, path });
    } catch (err) {
      if (err instanceof GeneratorError && err.generator === undefined) {
        throw new GeneratorError(err.reason, `${path}: ${err.message}`, path);
      }
      throw err;
    }
    const selected = params.filter((p) => selectorMatches(generator.selector, flattenParams(p)));
    results.push({ path, params: selected, template });
  }
  return results;
}
