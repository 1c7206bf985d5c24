// What a write-back changes for the images chosen, per target: pure functions from the plan, the chosen
// tags and the current file text to the new text. The I/O (reading and writing the work tree) is in
// updater.ts.
import { imageName, type ImageRef } from "../registry/reference.ts";
import { setHelmValue, setKustomizeImage, setSourceOverride, type HelmParameter } from "../writeback/edits.ts";
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

/** The commit message: Image Updater's, so history reads the same. */
export function commitMessage(app: string, changes: readonly ImageChange[], previous: ReadonlyMap<string, string>): string {
  const lines = changes.map((c) => {
    const from = previous.get(c.image.alias);
    return `updates image ${nameOf(c.image.image)} tag '${from ?? "(unknown)"}' to '${tagWithDigest(c)}'`;
  });
  return `build: automatic update of ${app}\n\n${lines.join("\n")}\n`;
}
