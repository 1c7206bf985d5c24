// The list generator: each element of `elements` (and of `elementsYaml`) is one parameter set.
import { parse as parseYaml } from "yaml";
import { fromDecoded } from "../../template/sprig.ts";
import { isMap } from "../../template/values.ts";
import { GeneratorError } from "./errors.ts";
import type { Params } from "./render.ts";
import type { ListGenerator } from "./types.ts";

/**
 * Argo CD's list generator. With goTemplate the elements are passed as they are (numbers as float64);
 * with fasttemplate every value must be a string, and `values: {k: v}` becomes `values.k`.
 * `elementsYaml` elements are appended as they are, in both modes.
 */
export function listParams(gen: ListGenerator, goTemplate: boolean): Params[] {
  const out: Params[] = [];
  (gen.elements ?? []).forEach((raw, i) => {
    const element = fromDecoded(raw);
    if (!isMap(element)) throw new GeneratorError("ApplicationGenerationFromParamsError", `elements[${i}] is not an object: write it as key: value pairs`);
    out.push(goTemplate ? element : flatListElement(element, i));
  });
  if (gen.elementsYaml !== undefined && gen.elementsYaml !== "") {
    let parsed: unknown;
    try {
      parsed = fromDecoded(parseYaml(gen.elementsYaml));
    } catch (err) {
      throw new GeneratorError("ApplicationGenerationFromParamsError", `elementsYaml is not YAML: ${(err as Error).message.split("\n")[0]}`);
    }
    if (parsed !== null && !Array.isArray(parsed)) {
      throw new GeneratorError("ApplicationGenerationFromParamsError", "elementsYaml must be a YAML list of objects");
    }
    (parsed ?? []).forEach((e: unknown, i: number) => {
      if (!isMap(e)) throw new GeneratorError("ApplicationGenerationFromParamsError", `elementsYaml[${i}] is not an object`);
      out.push(e);
    });
  }
  return out;
}

function flatListElement(element: Readonly<Record<string, unknown>>, i: number): Params {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(element)) {
    if (key === "values") {
      if (!isMap(value)) throw new GeneratorError("ApplicationGenerationFromParamsError", `elements[${i}].values must be a map of strings`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string") throw notString(i, `values.${k}`);
        params[`values.${k}`] = v;
      }
    } else {
      if (typeof value !== "string") throw notString(i, key);
      params[key] = value;
    }
  }
  return params;
}

function notString(i: number, key: string): GeneratorError {
  return new GeneratorError(
    "ApplicationGenerationFromParamsError",
    `elements[${i}].${key} is not a string: without goTemplate every list value must be a string (quote it, or set goTemplate: true)`,
  );
}
