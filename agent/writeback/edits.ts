// The edits a write-back makes, pure: file text in, file text out, comments and order kept.
// - Kustomize `images:` in kustomization.yaml, as `kustomize edit set image` writes them.
// - Argo CD's parameter overrides file `.argocd-source-<app>.yaml` (Helm parameters, Kustomize images).
// - One key of a Helm values file (`image.tag`, `a.b.c`).
import { Document, isMap, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq } from "yaml";

/** A file that cannot be edited as asked: the message names the file's problem and the fix. */
export class EditError extends Error {}

/** One entry of Kustomize's `images:`. */
export interface KustomizeImage {
  /** The image as the manifests name it (what kustomize matches). */
  readonly name: string;
  /** The image to use instead, when it differs from `name`. */
  readonly newName?: string;
  readonly newTag?: string;
  /** `sha256:…`: pins the image; Kustomize then drops the tag from the manifests. */
  readonly digest?: string;
}

/**
 * Sets one image in a kustomization's `images:` as `kustomize edit set image name=newName:newTag@digest`
 * does: the entry of that name is updated in place (others untouched), or appended; a tag replaces a
 * digest and a digest a tag.
 */
export function setKustomizeImage(text: string, image: KustomizeImage, file = "kustomization.yaml"): string {
  const doc = parse(text, file);
  if (doc.contents !== null && !isMap(doc.contents)) throw new EditError(`${file} is not a YAML mapping: cannot set images in it`);
  let images = doc.get("images", true);
  if (images === undefined || images === null || (isScalar(images) && images.value === null)) {
    images = new YAMLSeq();
    doc.set("images", images);
  }
  if (!isSeq(images)) throw new EditError(`${file}: images is not a list: fix it to a list of {name, newName, newTag, digest}`);
  let entry = images.items.find((item) => isMap(item) && item.get("name") === image.name) as YAMLMap | undefined;
  if (entry === undefined) {
    entry = new YAMLMap();
    entry.set("name", image.name);
    images.items.push(entry);
  }
  setOrDelete(entry, "newName", image.newName !== undefined && image.newName !== image.name ? image.newName : undefined);
  setOrDelete(entry, "newTag", image.newTag);
  setOrDelete(entry, "digest", image.digest);
  return doc.toString();
}

/** The images a kustomization sets, by name (what a check reads back). */
export function kustomizeImages(text: string, file = "kustomization.yaml"): KustomizeImage[] {
  const value = parse(text, file).toJS() as { images?: unknown } | null;
  const list = Array.isArray(value?.images) ? value.images as Record<string, unknown>[] : [];
  return list.filter((i) => typeof i.name === "string").map((i) => ({
    name: String(i.name),
    ...(typeof i.newName === "string" ? { newName: i.newName } : {}),
    ...(typeof i.newTag === "string" || typeof i.newTag === "number" ? { newTag: String(i.newTag) } : {}),
    ...(typeof i.digest === "string" ? { digest: i.digest } : {}),
  }));
}

/** A Helm parameter as Argo CD writes it in `.argocd-source-<app>.yaml`. */
export interface HelmParameter {
  readonly name: string;
  readonly value: string;
  /** Image Updater writes every parameter with `forcestring: true` (a tag `1.10` stays a string). */
  readonly forceString?: boolean;
}

/** What one write-back puts into an Argo CD parameter overrides file. */
export interface SourceOverride {
  readonly helmParameters?: readonly HelmParameter[];
  /** Kustomize images in Argo CD's string form: `name=newName:tag`, `name:tag`, `name@digest`. */
  readonly kustomizeImages?: readonly string[];
}

/**
 * Merges an override into `.argocd-source-<app>.yaml` (empty or absent text: a new file): Helm parameters
 * replace those of the same name and stay sorted by name, as Image Updater keeps them; Kustomize images
 * replace those of the same image name.
 */
export function setSourceOverride(text: string | undefined, override: SourceOverride, file: string): string {
  const doc = parse(text ?? "", file);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) doc.contents = doc.createNode({});
  if (!isMap(doc.contents)) throw new EditError(`${file} is not a YAML mapping: fix or remove it`);
  if (override.helmParameters !== undefined && override.helmParameters.length > 0) {
    const current = asList(doc.getIn(["helm", "parameters"]), `${file}: helm.parameters`) as Record<string, unknown>[];
    const byName = new Map(current.map((p) => [String(p.name), p]));
    for (const p of override.helmParameters) {
      byName.set(p.name, { name: p.name, value: p.value, ...(p.forceString === false ? {} : { forcestring: true }) });
    }
    const sorted = [...byName.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)));
    doc.setIn(["helm", "parameters"], doc.createNode(sorted));
  }
  if (override.kustomizeImages !== undefined && override.kustomizeImages.length > 0) {
    const current = asList(doc.getIn(["kustomize", "images"]), `${file}: kustomize.images`).map(String);
    const names = new Set(override.kustomizeImages.map(kustomizeImageName));
    const merged = [...current.filter((i) => !names.has(kustomizeImageName(i))), ...override.kustomizeImages];
    doc.setIn(["kustomize", "images"], doc.createNode(merged));
  }
  return doc.toString();
}

/** `name=newName:tag` → `name`; `name:tag` / `name@sha256:…` → `name` (a registry port is kept). */
export function kustomizeImageName(image: string): string {
  const eq = image.indexOf("=");
  if (eq >= 0) return image.slice(0, eq);
  const at = image.indexOf("@");
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = noDigest.lastIndexOf(":");
  return colon > noDigest.lastIndexOf("/") ? noDigest.slice(0, colon) : noDigest;
}

/**
 * Sets `key` (dotted: `image.tag`) in a Helm values file to `value`, creating the maps on the way; the rest
 * of the file, comments included, is kept. A key whose path runs through something that is not a map is
 * refused.
 */
export function setHelmValue(text: string, key: string, value: string, file: string): string {
  const doc = parse(text, file);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) doc.contents = doc.createNode({});
  const path = key.split(".").filter((p) => p !== "");
  if (path.length === 0) throw new EditError(`the values key '${key}' is empty: set <alias>.helm.image-tag to a key such as image.tag`);
  let node: unknown = doc.contents;
  for (const [i, part] of path.slice(0, -1).entries()) {
    if (!isMap(node)) throw new EditError(`${file}: ${path.slice(0, i).join(".") || "the document"} is not a mapping, so '${key}' cannot be set: fix the key or the file`);
    let next: unknown = node.get(part, true);
    if (next === undefined || (isScalar(next) && next.value === null)) {
      next = new YAMLMap();
      node.set(part, next);
    }
    node = next;
  }
  if (!isMap(node)) throw new EditError(`${file}: ${path.slice(0, -1).join(".")} is not a mapping, so '${key}' cannot be set: fix the key or the file`);
  const last = path.at(-1)!;
  const existing = node.get(last, true);
  if (existing !== undefined && !isScalar(existing)) throw new EditError(`${file}: '${key}' is not a single value: fix the key`);
  // A string node, so `1.10` stays the string "1.10" (quoted) rather than the number 1.1.
  node.set(last, doc.createNode(value));
  return doc.toString();
}

function parse(text: string, file: string): Document {
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length > 0) throw new EditError(`${file} is not valid YAML (${doc.errors[0]!.message.split("\n")[0]}): fix it before images can be written to it`);
  return doc;
}

function setOrDelete(map: YAMLMap, key: string, value: string | undefined): void {
  if (value === undefined) map.delete(key);
  else map.set(key, value);
}

function asList(node: unknown, what: string): unknown[] {
  if (node === undefined || node === null) return [];
  if (!isSeq(node)) throw new EditError(`${what} is not a list: fix it`);
  return node.toJSON();
}
