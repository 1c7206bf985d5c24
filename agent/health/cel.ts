// Flux's `healthCheckExprs` for one kind, from tether-cm: CEL expressions over the object's top-level
// fields (`metadata`, `spec`, `status`), evaluated with @marcbachmann/cel-js (why: README.md).
import { Environment } from "@marcbachmann/cel-js";
import YAML from "yaml";
import type { Manifest } from "../api/types.ts";
import { generationBehind } from "./conditions.ts";
import { condition } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

type Evaluate = (context: Record<string, unknown>) => unknown;
type ExprName = "inProgress" | "failed" | "current";

/** A compiled check: each expression present, in the order Flux evaluates them. */
export interface CelCheck {
  readonly exprs: readonly { readonly name: ExprName; readonly text: string; readonly run: Evaluate }[];
}

const env = new Environment({
  unlistedVariablesAreDyn: true,
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: false,
  // Expressions come from an administrator's ConfigMap; these bound what one can cost to parse and run.
  limits: { maxAstNodes: 2000, maxDepth: 64, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 32 },
});

const ORDER: readonly ExprName[] = ["inProgress", "failed", "current"];

/**
 * Parses the YAML body of `resource.customizations.healthCEL.<group>_<kind>` (`current` required,
 * `inProgress` and `failed` optional, as Flux's healthCheckExprs). Returns the check or why not.
 */
export function compileCel(body: string): CelCheck | string {
  let doc: unknown;
  try {
    doc = YAML.parse(body);
  } catch (err) {
    return `not valid YAML: ${(err as Error).message.split("\n")[0] ?? ""}`;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return "expected a map with current, inProgress, failed";
  // `current: true` is YAML's boolean; CEL reads it as the same literal.
  const fields = Object.fromEntries(Object.entries(doc as Record<string, unknown>).map(([k, v]) => [k, typeof v === "boolean" ? String(v) : v]));
  const unknown = Object.keys(fields).filter((k) => !(ORDER as readonly string[]).includes(k));
  if (unknown.length > 0) return `unknown field ${unknown.join(", ")}; expected current, inProgress, failed`;
  if (typeof fields.current !== "string") return "current is required: the CEL expression that is true when the object is healthy";
  const exprs: CelCheck["exprs"][number][] = [];
  for (const name of ORDER) {
    const text = fields[name];
    if (text === undefined) continue;
    if (typeof text !== "string") return `${name} must be a CEL expression (a string)`;
    try {
      exprs.push({ name, text, run: env.parse(text) as Evaluate });
    } catch (err) {
      return `${name}: ${(err as Error).message.split("\n")[0] ?? ""}`;
    }
  }
  return { exprs };
}

/**
 * Flux's order: the spec not yet observed → Progressing; then `inProgress` true → Progressing,
 * `failed` true → Degraded, `current` true → Healthy; none true → Progressing. A field the expression
 * reads that the controller has not written yet is Progressing (Flux waits too); any other error is
 * Unknown with the expression and the error.
 */
export function celHealth(live: Manifest, check: CelCheck): HealthResult {
  const behind = generationBehind(live);
  if (behind) return behind;
  const context = toCel(live) as Record<string, unknown>;
  const ready = condition(live, "Ready")?.message;
  for (const expr of check.exprs) {
    let result: unknown;
    try {
      result = expr.run(context);
    } catch (err) {
      const message = (err as Error).message.split("\n")[0] ?? "";
      if (/no such key|unknown variable|no such attribute/i.test(message)) {
        return health("Progressing", `Waiting for a field that ${expr.name} reads: ${message}`);
      }
      return health("Unknown", `CEL ${expr.name} (${expr.text}): ${message}`);
    }
    if (typeof result !== "boolean") return health("Unknown", `CEL ${expr.name} (${expr.text}) returned ${typeof result}, not a bool`);
    if (!result) continue;
    if (expr.name === "current") return health("Healthy", ready);
    return health(expr.name === "failed" ? "Degraded" : "Progressing", ready ?? `${expr.name}: ${expr.text}`);
  }
  return health("Progressing", ready ?? "Waiting for current to hold");
}

/** JSON numbers as CEL sees Kubernetes objects: whole numbers are ints (as in Go's unstructured), others doubles. */
function toCel(value: unknown): unknown {
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, toCel(v)]));
  }
  return value;
}
