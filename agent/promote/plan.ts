// What a Promotion will do, decided before it does anything: the commits to write (one per repository
// and branch, every image edit of that branch in it) and the Applications to sync. Every check that can
// refuse a promotion runs here, so a refused one has written nothing. Pure.
import type { Application } from "../api/types.ts";
import type { Freight, FreightImage, GitRepoUpdate, Promotion, Stage } from "../api/promotion.ts";
import { eligibility } from "./eligibility.ts";
import { appNamespaceOf, sameRepo } from "./verify.ts";

/** One image edit in a branch: a kustomization's `images:` entry, or a value of a Helm values file. */
export type ImageEdit =
  | { readonly kind: "kustomize"; readonly path: string; readonly image: string; readonly newTag?: string; readonly digest?: string }
  | { readonly kind: "helm"; readonly valuesFilePath: string; readonly key: string; readonly value: string };

/** One commit of a promotion: edits to `writeBranch` of `repoURL`, starting from `readBranch`. */
export interface BranchWrite {
  readonly repoURL: string;
  readonly readBranch?: string;
  readonly writeBranch: string;
  readonly edits: readonly ImageEdit[];
  /** The commit message: which Freight, which stage, which Promotion. */
  readonly message: string;
}

export interface PromotionPlan {
  readonly freight: Freight;
  readonly writes: readonly BranchWrite[];
  /** Applications to sync, as `{namespace, name}`, after every write. */
  readonly syncs: readonly { readonly namespace: string; readonly name: string }[];
}

export type PlanResult = { readonly plan: PromotionPlan } | { readonly refused: string };

export interface PlanInput {
  readonly promotion: Promotion;
  readonly stage: Stage | undefined;
  readonly freight: Freight | undefined;
  readonly apps: ReadonlyMap<string, Application>;
  readonly agentNamespace: string;
}

/** The plan of `promotion`, or why it is refused (the message names the object, the field and the fix). */
export function planPromotion(input: PlanInput): PlanResult {
  const { promotion, stage, freight } = input;
  const ns = promotion.metadata?.namespace ?? "";
  if (stage === undefined) return { refused: `Stage ${ns}/${promotion.spec.stage} not found: fix spec.stage of Promotion ${promotion.metadata?.name ?? ""}` };
  if (freight === undefined) {
    return { refused: `Freight ${promotion.spec.freight} not found in project ${ns}: list what is available with \`tether promote status ${ns}\`` };
  }
  const eligible = eligibility(stage, freight);
  if (!eligible.ok) return { refused: eligible.reason };
  const stageName = stage.metadata?.name ?? "";
  const updates = stage.spec.promotionMechanisms?.gitRepoUpdates ?? [];
  const writes: BranchWrite[] = [];
  for (const [i, update] of updates.entries()) {
    const edits = editsOf(update, freight.images, `Stage ${ns}/${stageName}: spec.promotionMechanisms.gitRepoUpdates[${i}]`);
    if (typeof edits === "string") return { refused: edits };
    const same = writes.findIndex((w) => sameRepo(w.repoURL, update.repoURL) && w.writeBranch === update.writeBranch);
    if (same >= 0) writes[same] = { ...writes[same]!, edits: [...writes[same]!.edits, ...edits] };
    else writes.push({ repoURL: update.repoURL, ...(update.readBranch ? { readBranch: update.readBranch } : {}), writeBranch: update.writeBranch, edits, message: messageOf(freight, stageName, promotion) });
  }
  const syncs: { namespace: string; name: string }[] = [];
  for (const [i, u] of (stage.spec.promotionMechanisms?.argoCDAppUpdates ?? []).entries()) {
    const namespace = appNamespaceOf(u.appNamespace, input.agentNamespace);
    if (!input.apps.has(`${namespace}/${u.appName}`)) {
      return { refused: `Stage ${ns}/${stageName}: spec.promotionMechanisms.argoCDAppUpdates[${i}] names Application ${namespace}/${u.appName}, which does not exist; create it or fix appName` };
    }
    syncs.push({ namespace, name: u.appName });
  }
  if (writes.length === 0 && syncs.length === 0) {
    return { refused: `Stage ${ns}/${stageName} has no promotionMechanisms: add gitRepoUpdates or argoCDAppUpdates` };
  }
  return { plan: { freight, writes, syncs } };
}

function editsOf(update: GitRepoUpdate, images: readonly FreightImage[], at: string): ImageEdit[] | string {
  const edits: ImageEdit[] = [];
  for (const [j, k] of (update.kustomize?.images ?? []).entries()) {
    const image = images.find((i) => i.repoURL === k.image);
    if (image === undefined) return missing(`${at}.kustomize.images[${j}]`, k.image, images);
    if (k.useDigest && !image.digest) return `${at}.kustomize.images[${j}]: useDigest is set but the Freight has no digest for ${k.image}`;
    edits.push({ kind: "kustomize", path: k.path, image: k.image, ...(k.useDigest ? { digest: image.digest! } : { newTag: image.tag }) });
  }
  for (const [j, h] of (update.helm?.images ?? []).entries()) {
    const image = images.find((i) => i.repoURL === h.image);
    if (image === undefined) return missing(`${at}.helm.images[${j}]`, h.image, images);
    const value = helmValue(image, h.value);
    if (value === undefined) return `${at}.helm.images[${j}]: value ${h.value} needs a digest, and the Freight has none for ${h.image}`;
    edits.push({ kind: "helm", valuesFilePath: h.valuesFilePath, key: h.key, value });
  }
  return edits;
}

function missing(at: string, image: string, images: readonly FreightImage[]): string {
  return `${at}: image ${image} is not in the Freight (it has ${images.map((i) => i.repoURL).join(", ") || "no images"}); write the Warehouse's repoURL there`;
}

/** Kargo's ImageUpdateValueType. */
function helmValue(image: FreightImage, value: "ImageAndTag" | "Tag" | "ImageAndDigest" | "Digest"): string | undefined {
  switch (value) {
    case "ImageAndTag": return `${image.repoURL}:${image.tag}`;
    case "Tag": return image.tag;
    case "ImageAndDigest": return image.digest ? `${image.repoURL}@${image.digest}` : undefined;
    case "Digest": return image.digest;
  }
}

function messageOf(freight: Freight, stage: string, promotion: Promotion): string {
  const images = freight.images.map((i) => `${i.repoURL}:${i.tag}`).join(", ");
  return `Promote ${images} to ${stage}\n\nFreight: ${freight.metadata?.name ?? ""}\nPromotion: ${promotion.metadata?.namespace ?? ""}/${promotion.metadata?.name ?? ""}`;
}
