// The shape checks on an ApplicationSet spec that must hold before anything is generated.
import { isMap } from "../../template/values.ts";

/** Why `spec` is not an ApplicationSet spec, or undefined. */
export function validateSpec(spec: unknown): string | undefined {
  if (!isMap(spec)) return "spec must be an object";
  if (!Array.isArray(spec.generators) || spec.generators.length === 0) {
    return "spec.generators must list at least one generator";
  }
  for (const [i, g] of spec.generators.entries()) {
    if (!isMap(g)) return `spec.generators[${i}] must be an object naming one generator (list, clusters, git, ...)`;
  }
  if (!isMap(spec.template)) return "spec.template must be an object with metadata and spec";
  if (spec.template.metadata !== undefined && !isMap(spec.template.metadata)) return "spec.template.metadata must be an object";
  if (spec.template.spec !== undefined && !isMap(spec.template.spec)) return "spec.template.spec must be an object";
  if (spec.goTemplate !== undefined && typeof spec.goTemplate !== "boolean") return "spec.goTemplate must be true or false";
  if (spec.goTemplateOptions !== undefined) {
    if (!Array.isArray(spec.goTemplateOptions)) return "spec.goTemplateOptions must be a list of strings";
    for (const opt of spec.goTemplateOptions) {
      if (typeof opt !== "string" || !/^missingkey=(default|invalid|zero|error)$/.test(opt)) {
        return `spec.goTemplateOptions: '${String(opt)}' is not an option: use missingkey=default|invalid|zero|error`;
      }
    }
  }
  if (spec.templatePatch !== undefined && typeof spec.templatePatch !== "string") return "spec.templatePatch must be a string";
  const sync = spec.syncPolicy;
  if (sync !== undefined) {
    if (!isMap(sync)) return "spec.syncPolicy must be an object";
    const policies = ["create-only", "create-update", "create-delete", "sync"];
    if (sync.applicationsSync !== undefined && !policies.includes(show(sync.applicationsSync))) {
      return `spec.syncPolicy.applicationsSync '${show(sync.applicationsSync)}' must be one of ${policies.join(", ")}`;
    }
  }
  const strategy = spec.strategy;
  if (strategy !== undefined) {
    if (!isMap(strategy)) return "spec.strategy must be an object";
    if (strategy.type !== undefined && strategy.type !== "AllAtOnce" && strategy.type !== "RollingSync") {
      return `spec.strategy.type '${show(strategy.type)}' must be AllAtOnce or RollingSync`;
    }
  }
  return undefined;
}

function show(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}
