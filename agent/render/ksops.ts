// KSOPS generators inside a Kustomize source. Tether runs them through its own KSOPS exec plugin
// (agent/decrypt/ksops), loaded by kustomize as a legacy exec plugin from a plugin home that holds
// nothing else; see agent/decrypt/README.md for why.
import { readFile, writeFile } from "node:fs/promises";
import { isMap, parseAllDocuments } from "yaml";
import { isRecord } from "./tool.ts";

/** KSOPS' generator apiVersions: v1 in its docs, v2 in its KRM test corpus; KSOPS itself reads both alike. */
export const KSOPS_API_VERSIONS: readonly string[] = ["viaduct.ai/v1", "viaduct.ai/v2"];
export const KSOPS_KIND = "ksops";

// KSOPS v4 asks kustomize to run it as a KRM exec function. Tether does not pass --enable-exec (it
// would let any repository run any program on the agent), so the annotation is removed and
// kustomize loads the generator as a legacy exec plugin, which the plugin home confines to KSOPS.
const FUNCTION_ANNOTATIONS = ["config.kubernetes.io/function", "config.k8s.io/function"];

/**
 * Finds the KSOPS generators among `files` (absolute paths inside the checkout) and removes their
 * KRM function annotation in place; the files hold generator configs, never secrets. Returns how
 * many generators were found.
 */
export async function prepareKsopsGenerators(files: Iterable<string>): Promise<number> {
  let found = 0;
  for (const file of files) {
    const text = await readFile(file, "utf8");
    if (!text.includes("viaduct.ai/")) continue;
    const docs = parseAllDocuments(text);
    let changed = false;
    for (const doc of docs) {
      if (doc.errors.length > 0) continue;
      const value: unknown = doc.toJS();
      if (!isKsops(value)) continue;
      found++;
      for (const key of FUNCTION_ANNOTATIONS) {
        if (doc.hasIn(["metadata", "annotations", key])) {
          doc.deleteIn(["metadata", "annotations", key]);
          changed = true;
        }
      }
      const annotations = doc.getIn(["metadata", "annotations"], true);
      if (isMap(annotations) && annotations.items.length === 0) doc.deleteIn(["metadata", "annotations"]);
    }
    if (changed) await writeFile(file, docs.map((d) => d.toString()).join(""));
  }
  return found;
}

/** Whether kustomize's origin annotation says the object was made by a KSOPS generator. */
export function madeByKsops(origin: { readonly configuredBy?: unknown }): boolean {
  const by = origin.configuredBy;
  return isKsops(by);
}

function isKsops(value: unknown): boolean {
  return isRecord(value) && typeof value.apiVersion === "string" && KSOPS_API_VERSIONS.includes(value.apiVersion) && value.kind === KSOPS_KIND;
}
