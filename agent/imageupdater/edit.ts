// What a write-back changes for the images chosen, per target: pure functions from the plan, the chosen
// tags and the current file text to the new text. The I/O (reading and writing the work tree) is in
// updater.ts.
import { imageName, type ImageRef } from "../registry/reference.ts";
import { parseDocument } from "yaml";
import {
  kustomizeImageName, kustomizeImages, setHelmValue, setKustomizeImage, setSourceOverride, type HelmParameter,
} from "../writeback/edits.ts";
import type { FollowedImage } from "./annotations.ts";

/** One image moving to a new tag (or digest). */
export interface ImageChange {
  readonly image: FollowedImage;
  readonly tag: string;
  /** Set for the digest strategy: the tag's digest, which is what gets pinned. */
  readonly digest?: string;
}

/** How the app renders, as far as a write-back cares. */
export type AppKind = "helm" | "kustomize";

/** `tag`, or `tag@sha256:…` for the digest strategy, as Image Updater writes Helm's tag parameter. */
export function tagWithDigest(change: ImageChange): string {
  return change.digest === undefined ? change.tag : `${change.tag}@${change.digest}`;
}

/** The image's name as written (registry/repository, Docker Hub short). */
export function nameOf(image: ImageRef): string {
  return imageName(image);
}

/** Helm parameters for the changes: `helm.image-spec` alone, else `helm.image-name` and `helm.image-tag`. */
export function helmParameters(changes: readonly ImageChange[]): HelmParameter[] {
  return changes.flatMap((c) => {
    const name = nameOf(c.image.image);
    if (c.image.helm.imageSpec !== undefined) return [{ name: c.image.helm.imageSpec, value: `${name}:${tagWithDigest(c)}` }];
    return [{ name: c.image.helm.imageName, value: name }, { name: c.image.helm.imageTag, value: tagWithDigest(c) }];
  });
}

/** Argo CD's Kustomize image strings: `name:tag`, or `original=new:tag` when `kustomize.image-name` differs. */
export function kustomizeImageStrings(changes: readonly ImageChange[]): string[] {
  return changes.map((c) => {
    const name = nameOf(c.image.image);
    const target = c.digest === undefined ? `${name}:${c.tag}` : `${name}@${c.digest}`;
    return c.image.kustomizeImageName === name ? target : `${c.image.kustomizeImageName}=${target}`;
  });
}

/** `.argocd-source-<app>.yaml` after the changes. */
export function editOverride(text: string | undefined, kind: AppKind, changes: readonly ImageChange[], file: string): string {
  return kind === "helm"
    ? setSourceOverride(text, { helmParameters: helmParameters(changes) }, file)
    : setSourceOverride(text, { kustomizeImages: kustomizeImageStrings(changes) }, file);
}

/** kustomization.yaml after the changes, as `kustomize edit set image` would leave it. */
export function editKustomization(text: string, changes: readonly ImageChange[], file: string): string {
  return changes.reduce((out, c) => {
    const name = nameOf(c.image.image);
    return setKustomizeImage(out, {
      name: c.image.kustomizeImageName, newName: name,
      ...(c.digest === undefined ? { newTag: c.tag } : { digest: c.digest }),
    }, file);
  }, text);
}

/** A Helm values file after the changes: the keys the Helm parameters name. */
export function editHelmValues(text: string, changes: readonly ImageChange[], file: string): string {
  return helmParameters(changes).reduce((out, p) => setHelmValue(out, p.name, p.value, file), text);
}

/** Which file a change is written to, as far as reading the tag it replaces goes. */
export type TagFile = "override" | "kustomization" | "helmvalues";

/**
 * The tag each image has in `text` before the change (by alias): what the commit message says it moved
 * from. Only what the file says; an image it does not name is absent. A file that does not parse names
 * nothing (the edit reports it).
 */
export function currentTags(text: string | undefined, file: TagFile, changes: readonly ImageChange[]): Map<string, string> {
  const found = new Map<string, string>();
  if (text === undefined) return found;
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return found;
  const data = doc.toJS() as unknown;
  for (const c of changes) {
    const tag = file === "kustomization" ? kustomizationTag(text, c) : file === "helmvalues" ? helmValuesTag(data, c) : overrideTag(data, c);
    if (tag !== undefined) found.set(c.image.alias, tag);
  }
  return found;
}

function kustomizationTag(text: string, change: ImageChange): string | undefined {
  const entry = kustomizeImages(text).find((i) => i.name === change.image.kustomizeImageName);
  return entry?.newTag ?? entry?.digest;
}

function helmValuesTag(data: unknown, change: ImageChange): string | undefined {
  const { imageSpec, imageTag } = change.image.helm;
  const value = valueAt(data, imageSpec ?? imageTag);
  return value === undefined ? undefined : imageSpec === undefined ? value : tagOfSpec(value);
}

function overrideTag(data: unknown, change: ImageChange): string | undefined {
  const override = data as { helm?: { parameters?: unknown }; kustomize?: { images?: unknown } } | null;
  const { imageSpec, imageTag } = change.image.helm;
  const parameters = Array.isArray(override?.helm?.parameters) ? override.helm.parameters as { name?: unknown; value?: unknown }[] : [];
  const value = parameters.find((p) => p.name === (imageSpec ?? imageTag))?.value;
  if (typeof value === "string" || typeof value === "number") return imageSpec === undefined ? String(value) : tagOfSpec(String(value));
  const images = Array.isArray(override?.kustomize?.images) ? (override.kustomize.images as unknown[]).map(String) : [];
  const image = images.find((i) => kustomizeImageName(i) === change.image.kustomizeImageName);
  return image === undefined ? undefined : tagOfSpec(image.includes("=") ? image.slice(image.indexOf("=") + 1) : image);
}

/** `a.b.c` in a values document, as a string when it is a scalar. */
function valueAt(data: unknown, key: string): string | undefined {
  let node: unknown = data;
  for (const part of key.split(".").filter((p) => p !== "")) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === "string" || typeof node === "number" ? String(node) : undefined;
}

/** `registry:5000/team/web:1.2.0` → `1.2.0`; `…@sha256:…` → the digest; no tag → undefined. */
function tagOfSpec(spec: string): string | undefined {
  const at = spec.indexOf("@");
  if (at >= 0) return spec.slice(at + 1);
  const colon = spec.lastIndexOf(":");
  return colon > spec.lastIndexOf("/") ? spec.slice(colon + 1) : undefined;
}

/** The commit message: Image Updater's, so history reads the same. */
export function commitMessage(app: string, changes: readonly ImageChange[], previous: ReadonlyMap<string, string>): string {
  const lines = changes.map((c) => {
    const from = previous.get(c.image.alias);
    return `updates image ${nameOf(c.image.image)} tag '${from ?? "(unknown)"}' to '${tagWithDigest(c)}'`;
  });
  return `build: automatic update of ${app}\n\n${lines.join("\n")}\n`;
}
