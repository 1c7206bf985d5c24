// KRM functions in a kustomization (`config.kubernetes.io/function: exec|container|starlark`) would run
// a program or a container from the repository on the agent. Tether runs KSOPS itself and refuses every
// other function by name, so an app never reports Synced with part of its output missing.
import { parseAllDocuments } from "yaml";
import { TetherError } from "../errors.ts";
import { KSOPS_API_VERSIONS, KSOPS_KIND } from "./ksops.ts";
import { isRecord } from "./tool.ts";

const FUNCTION_ANNOTATIONS = ["config.kubernetes.io/function", "config.k8s.io/function"];

/** What a generator, transformer or validator config asks kustomize to run; undefined for none or KSOPS. */
export function krmFunctionIn(text: string): string | undefined {
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) continue;
    let value: unknown;
    try {
      value = doc.toJS();
    } catch {
      continue;
    }
    const found = functionOf(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

function functionOf(value: unknown): string | undefined {
  if (!isRecord(value) || !isRecord(value.metadata)) return undefined;
  if (typeof value.apiVersion === "string" && KSOPS_API_VERSIONS.includes(value.apiVersion) && value.kind === KSOPS_KIND) return undefined;
  const annotations = isRecord(value.metadata.annotations) ? value.metadata.annotations : {};
  const spec = FUNCTION_ANNOTATIONS.map((key) => annotations[key]).find((v) => typeof v === "string");
  if (typeof spec !== "string") return undefined;
  const parsed: unknown = parseAllDocuments(spec)[0]?.toJS();
  const fn = isRecord(parsed) ? parsed : {};
  const kind = `${String(value.apiVersion)} ${String(value.kind)}`;
  if (isRecord(fn.exec)) return `an exec function (${kind}, program ${String(fn.exec.path)})`;
  if (isRecord(fn.container)) return `a container function (${kind}, image ${String(fn.container.image)})`;
  if (isRecord(fn.starlark)) return `a starlark function (${kind})`;
  return `a KRM function (${kind})`;
}

/** The RenderFailed error for a function found in `file` (repository-relative). */
export function krmFunctionRefused(file: string, what: string): TetherError {
  return new TetherError("RenderFailed",
    `${file}: ${what} is refused: Tether runs no program or container from the repository (only KSOPS generators, which it runs itself); ` +
    "render its output in CI and commit it, or replace it with a built-in generator or transformer", { object: file, retryable: false });
}
