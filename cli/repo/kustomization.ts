// kustomization.yaml files, edited in place: the YAML Document API keeps the user's comments, key
// order and quoting, so a scaffolding commit changes only the lines it means to.
import { isScalar, isSeq, parseDocument, YAMLSeq, type Document } from "yaml";
import { UsageError } from "../errors.ts";

export { KUSTOMIZATION_FILES } from "../../agent/render/kustomize.ts";

/** A new kustomization listing `resources`. */
export function newKustomization(resources: readonly string[], comment?: string): string {
  const header = comment ? `${comment.split("\n").map((l) => `# ${l}`.trimEnd()).join("\n")}\n` : "";
  const list = resources.length > 0 ? `resources:\n${resources.map((r) => `  - ${r}\n`).join("")}` : "resources: []\n";
  return `${header}apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${list}`;
}

/**
 * The document as text again, formatted as the user wrote it as far as the library can tell: no
 * folding of long lines, and spaces inside `{ }` and `[ ]` only if the file had them.
 */
function print(doc: Document, original: string): string {
  return doc.toString({ lineWidth: 0, flowCollectionPadding: /[[{] +[^\s\]}]/.test(original) });
}

function load(text: string, file: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new UsageError(`${file}: ${doc.errors[0]!.message.split("\n")[0]}; fix the file, then run the command again`);
  const kind = doc.get("kind");
  if (kind !== undefined && kind !== "Kustomization") throw new UsageError(`${file} is a ${JSON.stringify(kind)}, not a Kustomization`);
  return doc;
}

/** The text of a list entry; "" for anything but a plain scalar. */
function entry(item: unknown): string {
  const value = isScalar(item) ? item.value : undefined;
  return typeof value === "string" ? value : "";
}

/** `text` with `resource` appended to `resources` (created when missing); unchanged when listed already. */
export function addResource(text: string, file: string, resource: string): string {
  const doc = load(text, file);
  const seq = doc.get("resources");
  if (seq !== undefined && !isSeq(seq)) throw new UsageError(`${file}: resources is not a list; fix the file, then run the command again`);
  if (isSeq(seq)) {
    if (seq.items.some((i) => entry(i) === resource)) return text;
    seq.add(doc.createNode(resource));
  } else {
    const created = new YAMLSeq();
    created.add(doc.createNode(resource));
    doc.set("resources", created);
  }
  return print(doc, text);
}

/** `text` without `resource` in `resources`; unchanged when it was not listed. */
export function removeResource(text: string, file: string, resource: string): string {
  const doc = load(text, file);
  const seq = doc.get("resources");
  if (!isSeq(seq)) return text;
  const index = seq.items.findIndex((i) => entry(i) === resource);
  if (index < 0) return text;
  seq.delete(index);
  return print(doc, text);
}

/** Entries of resources/components/bases that are neither URLs nor inside the kustomization's directory. */
export function referencesOutside(text: string, file: string): string[] {
  const doc = load(text, file);
  const out: string[] = [];
  for (const key of ["resources", "components", "bases"]) {
    const seq = doc.get(key);
    if (!isSeq(seq)) continue;
    for (const item of seq.items) {
      const value = entry(item);
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^[^/]+@[^/:]+:/.test(value)) continue;
      if (value.startsWith("/") || value.split("/").includes("..")) out.push(value);
    }
  }
  return out;
}
