// ApplicationSet generation, pure apart from the environment it is given: an ApplicationSet spec and a
// GeneratorEnv in, the Applications it produces out, or the generator that failed and why. Never a
// partial list: one failure anywhere is the whole answer, so that the controller changes nothing.
import { parse as parseYaml } from "yaml";
import { FINALIZER } from "../../api/types.ts";
import { TemplateError } from "../../template/index.ts";
import { isMap } from "../../template/values.ts";
import { GeneratorError, type GenerateReason } from "./errors.ts";
import { runGenerator, type GeneratorContext } from "./generators.ts";
import { FieldRenderError, mergeTemplate, renderDeep, renderMode, renderString, type Params, type RenderMode } from "./render.ts";
import type { ApplicationSetSpec, ApplicationSetTemplate } from "./types.ts";
import { validateSpec } from "./validate-spec.ts";

export type * from "./types.ts";
export type { GenerateReason } from "./errors.ts";

export interface ClusterEntry {
  readonly name: string;
  readonly server: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly project?: string;
}

export interface GeneratorEnv {
  /**
   * Argo's clusters generator view: cluster Secrets (label argocd.argoproj.io/secret-type=cluster) plus the
   * local cluster (name in-cluster, server https://kubernetes.default.svc) as Argo includes it.
   */
  readonly clusters: () => Promise<readonly ClusterEntry[]>;
  /** A read-only checkout of repoURL at revision (the repo rules already applied by the caller); throws on unreachable. */
  readonly checkout: (repoURL: string, revision: string) => Promise<{ readonly dir: string; readonly revision: string }>;
  /** Plugin generator: a ConfigMap (name) in the agent's namespace. */
  readonly configMap?: (name: string) => Promise<Readonly<Record<string, string>> | undefined>;
  /** Plugin generator: a Secret value, `$secret:key` or `$key` (key of the agent's Secret) as Argo's token refs. */
  readonly secretValue?: (ref: string) => Promise<string | undefined>;
}

export interface GeneratedApplication {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly finalizers?: readonly string[];
  };
  /** The templated Application spec (kind/apiVersion and the set's namespace are set by the controller). */
  readonly spec: Record<string, unknown>;
}

export type GenerateResult =
  | { readonly ok: true; readonly applications: readonly GeneratedApplication[] }
  | {
      readonly ok: false;
      /** The generator's path in the spec, e.g. `generators[1].git`, or `template` / `templatePatch`. */
      readonly generator: string;
      readonly reason: GenerateReason;
      readonly message: string;
    };

/** Checks the shape of a spec read from the API server or a file; `where` starts every message. */
export function parseApplicationSetSpec(
  spec: unknown,
  where: string,
): { ok: true; spec: ApplicationSetSpec } | { ok: false; message: string } {
  const problem = validateSpec(spec);
  if (problem !== undefined) return { ok: false, message: `${where}: ${problem}` };
  return { ok: true, spec: spec as ApplicationSetSpec };
}

/** Optional facts about the set that some generators need. */
export interface GenerateOptions {
  /** The set's name: plugins receive it as `applicationSetName`. */
  readonly name?: string;
}

/** Runs every generator and renders the template for each parameter set, in generator then element order. */
export async function generateApplications(spec: ApplicationSetSpec, env: GeneratorEnv, options: GenerateOptions = {}): Promise<GenerateResult> {
  let mode: RenderMode;
  try {
    mode = renderMode(spec);
  } catch (err) {
    return fail("goTemplateOptions", "ErrorOccurred", `${(err as Error).message}: the only option is missingkey=default|invalid|zero|error`);
  }
  const applications: GeneratedApplication[] = [];
  const owner = new Map<string, string>();
  for (const [i, generator] of spec.generators.entries()) {
    const path = `generators[${i}]`;
    const ctx: GeneratorContext = { spec, env, mode, path, depth: 0, setName: options.name ?? "" };
    let results;
    try {
      results = await runGenerator(generator, ctx);
    } catch (err) {
      return failFrom(err, path, generator, "ApplicationGenerationFromParamsError");
    }
    for (const result of results) {
      for (const [j, params] of result.params.entries()) {
        const element = `element ${j}${describeParams(params)}`;
        const made = renderApplication(result.template, params, spec, mode);
        if (!made.ok) return fail(result.path, made.reason, `${element}: ${made.message}`);
        const previous = owner.get(made.app.metadata.name);
        if (previous !== undefined) {
          return fail(result.path, "ApplicationValidationError",
            `${element} produces the Application name '${made.app.metadata.name}', already produced by ${previous}: ` +
            "add a parameter to the name so that each element gets its own");
        }
        owner.set(made.app.metadata.name, `${result.path} ${element}`);
        applications.push(made.app);
      }
    }
  }
  return { ok: true, applications };
}

type Made =
  | { readonly ok: true; readonly app: GeneratedApplication }
  | { readonly ok: false; readonly reason: GenerateReason; readonly message: string };

/** One parameter set into one Application: template, templatePatch, finalizer, validation. */
export function renderApplication(template: ApplicationSetTemplate, params: Params, spec: ApplicationSetSpec, mode: RenderMode): Made {
  let rendered: Record<string, unknown>;
  try {
    rendered = renderDeep({ metadata: template.metadata ?? {}, spec: template.spec ?? {} }, params, mode) as Record<string, unknown>;
  } catch (err) {
    return { ok: false, reason: "RenderTemplateParamsError", message: templateMessage(err, "template") };
  }
  if (spec.templatePatch !== undefined && spec.templatePatch !== "") {
    let patchText: string;
    try {
      patchText = renderString(spec.templatePatch, params, mode);
    } catch (err) {
      const where = new FieldRenderError("templatePatch", spec.templatePatch, err);
      return { ok: false, reason: "RenderTemplateParamsError", message: templateMessage(where, "spec") };
    }
    let patch: unknown;
    try {
      patch = parseYaml(patchText);
    } catch (err) {
      return {
        ok: false,
        reason: "RenderTemplateParamsError",
        message: `templatePatch did not render to YAML or JSON (${(err as Error).message.split("\n")[0]}): check its indentation after rendering`,
      };
    }
    if (patch !== null && !isMap(patch)) {
      return { ok: false, reason: "RenderTemplateParamsError", message: "templatePatch must render to a map (metadata:/spec:)" };
    }
    if (patch !== null) rendered = mergePatch(rendered, patch) as Record<string, unknown>;
  }
  const metadata: Record<string, unknown> = isMap(rendered.metadata) ? rendered.metadata : {};
  const finalizers = finalizersFor(metadata.finalizers, spec.syncPolicy?.preserveResourcesOnDeletion === true);
  const app: GeneratedApplication = {
    metadata: { ...(metadata as GeneratedApplication["metadata"]), ...(finalizers === undefined ? {} : { finalizers }) },
    spec: isMap(rendered.spec) ? rendered.spec : {},
  };
  const problem = validateApplication(app);
  if (problem !== undefined) return { ok: false, reason: "ApplicationValidationError", message: problem };
  return { ok: true, app };
}

const ARGO_FINALIZERS = new Set([
  "resources-finalizer.argocd.argoproj.io",
  "resources-finalizer.argocd.argoproj.io/background",
  "resources-finalizer.argocd.argoproj.io/foreground",
]);

/** Argo CD adds its resources finalizer unless the template has finalizers or resources are preserved. */
function finalizersFor(given: unknown, preserve: boolean): string[] | undefined {
  const list = Array.isArray(given) ? given.filter((f): f is string => typeof f === "string") : [];
  if (list.length > 0) return [...new Set(list.map((f) => (ARGO_FINALIZERS.has(f) ? FINALIZER : f)))];
  return preserve ? undefined : [FINALIZER];
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** What Kubernetes would refuse in a generated Application, in words that say the fix. */
export function validateApplication(app: GeneratedApplication): string | undefined {
  const name = app.metadata.name;
  if (typeof name !== "string" || name === "") {
    return "the Application has no name: template.metadata.name must render to a non-empty name";
  }
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return `the Application name '${name}' is not a DNS-1123 subdomain (lower case letters, digits, '-' and '.', ` +
      "starting and ending with a letter or digit, at most 253): use normalize or lower in the template";
  }
  for (const [k, v] of Object.entries(app.metadata.labels ?? {})) {
    if (typeof v !== "string" || v.length > 63 || !LABEL_VALUE.test(v)) {
      return `label ${k}='${String(v)}' is not a valid label value (at most 63 letters, digits, '-', '_', '.'): adjust the template`;
    }
  }
  return undefined;
}

/** JSON merge patch (what a strategic merge patch does on an Application, which declares no merge keys). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return patch;
  const out: Record<string, unknown> = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function templateMessage(err: unknown, field: string): string {
  const inner = err instanceof FieldRenderError ? err.cause : err;
  const text = err instanceof FieldRenderError ? `${field}.${err.message}` : `${field}: ${(err as Error).message}`;
  if (inner instanceof TemplateError && inner.missingKey) {
    return `${text}: the element has no such parameter; add it to every element, or use 'default' / drop missingkey=error`;
  }
  return inner instanceof TemplateError ? `${text}: fix the template` : text;
}

function describeParams(params: Params): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === "string" && parts.length < 3) parts.push(`${k}=${v.length > 40 ? `${v.slice(0, 40)}...` : v}`);
  }
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

function fail(generator: string, reason: GenerateReason, message: string): GenerateResult {
  return { ok: false, generator, reason, message };
}

function failFrom(err: unknown, path: string, generator: object, fallback: GenerateReason): GenerateResult {
  const kind = Object.keys(generator).find((k) => k !== "selector") ?? "";
  if (err instanceof GeneratorError) {
    return fail(err.generator ?? `${path}.${kind}`, err.reason, err.message);
  }
  if (err instanceof TemplateError) return fail(`${path}.${kind}`, "RenderTemplateParamsError", templateMessage(err, kind));
  return fail(`${path}.${kind}`, fallback, (err as Error).message ?? String(err));
}

export { mergeTemplate };
