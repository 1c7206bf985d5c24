// Label selectors as Argo CD's ApplicationSet controller evaluates them (its own copy of
// LabelSelectorAsSelector, without Kubernetes' restrictions on label values, so cluster URLs match).
import { formatValue, isMap } from "../../template/values.ts";
import type { LabelSelector } from "./types.ts";

/** Whether `labels` match `selector`; an empty or absent selector matches everything. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = labels[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case "In":
        if (!has || !values.includes(value ?? "")) return false;
        break;
      case "NotIn":
        if (has && values.includes(value ?? "")) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        throw new Error(`selector operator '${String(req.operator)}' is not one of In, NotIn, Exists, DoesNotExist`);
    }
  }
  return true;
}

/** A selector that is malformed: why, or undefined when it is fine. */
export function selectorProblem(selector: LabelSelector | undefined): string | undefined {
  for (const req of selector?.matchExpressions ?? []) {
    if (!["In", "NotIn", "Exists", "DoesNotExist"].includes(req.operator)) {
      return `operator '${String(req.operator)}' is not one of In, NotIn, Exists, DoesNotExist`;
    }
    const n = req.values?.length ?? 0;
    if ((req.operator === "In" || req.operator === "NotIn") && n === 0) {
      return `key '${req.key}': values must be non-empty for ${req.operator}`;
    }
    if ((req.operator === "Exists" || req.operator === "DoesNotExist") && n > 0) {
      return `key '${req.key}': values must be empty for ${req.operator}`;
    }
  }
  return undefined;
}

/**
 * jeremywohl/flatten in DotStyle then fmt %v, as Argo CD flattens parameters for `selector` and for
 * fasttemplate: nested maps and lists become `a.b` and `list.0`; empty maps and lists vanish.
 */
export function flattenParams(params: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (prefix: string, v: unknown): void => {
    if (isMap(v)) for (const [k, e] of Object.entries(v)) walk(prefix === "" ? k : `${prefix}.${k}`, e);
    else if (Array.isArray(v)) v.forEach((e, i) => walk(prefix === "" ? String(i) : `${prefix}.${i}`, e));
    else out[prefix] = v === null || v === undefined ? "<nil>" : formatValue(v);
  };
  walk("", params);
  return out;
}
