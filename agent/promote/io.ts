// The promotion controller's two edges to the outside, on the shared modules: a Warehouse's registry reads
// through agent/registry (the one OCI client and tag selection), a promotion's commits through
// agent/writeback (the one Git writer: fetch, edit, commit, push with the repository's credential, retry a
// non-fast-forward). Kargo's names map onto theirs here and nowhere else.
import { readFile, realpath, writeFile } from "node:fs/promises";
import path from "node:path";
import { TetherError } from "../errors.ts";
import type { FreightImage, ImageSubscription } from "../api/promotion.ts";
import { discoverTags } from "../registry/discover.ts";
import { parseAllowTags, parseImageRef, type RegistryClient, type SelectionRule, type UpdateStrategy } from "../registry/index.ts";
import type { GitSource } from "../source/index.ts";
import { setHelmValue, setKustomizeImage, type GitWriter } from "../writeback/index.ts";
import type { BranchWriter, ImageDiscovery } from "./controller.ts";
import type { BranchWrite, ImageEdit } from "./plan.ts";

/** Kargo's imageSelectionStrategy → Image Updater's update strategy (the registry module's names). */
const STRATEGIES: Record<NonNullable<ImageSubscription["imageSelectionStrategy"]>, UpdateStrategy> = {
  SemVer: "semver", Lexical: "alphabetical", NewestBuild: "newest-build", Digest: "digest",
};

/** The newest image of a subscription: its tags listed, filtered and chosen as Kargo's strategy says, with its digest. */
export function registryDiscovery(client: RegistryClient): ImageDiscovery {
  return async (sub) => {
    const image = parseImageRef(sub.repoURL);
    const allow = sub.allowTags ? parseAllowTags(`regexp:${sub.allowTags}`) : undefined;
    const rule: SelectionRule = {
      strategy: STRATEGIES[sub.imageSelectionStrategy ?? "SemVer"],
      ...(sub.semverConstraint ? { constraint: sub.semverConstraint } : {}),
      ...(allow ? { allow } : {}), ...(sub.ignoreTags ? { ignore: sub.ignoreTags } : {}),
    };
    const found = await discoverTags(client, image, rule, { limit: sub.discoveryLimit ?? 1 });
    if (found.selection.kind !== "selected") {
      throw new TetherError("RegistryFailed", `image ${sub.repoURL}: no tag to take: ${found.selection.reason}`, { object: sub.repoURL });
    }
    const tag = found.selection.tag;
    return { repoURL: sub.repoURL, tag: tag.name, ...(tag.digest ? { digest: tag.digest } : {}) } satisfies FreightImage;
  };
}

/** Commits a promotion's edits to the stage's branch; an unchanged branch (the same Freight again) gives its head. */
export function gitBranchWriter(writer: GitWriter, source: GitSource): BranchWriter {
  return async (w) => {
    const result = await writer.write({
      repoURL: w.repoURL, branch: w.readBranch ?? "", pushBranch: w.writeBranch, message: w.message,
      author: { name: "Tether Promotion", email: "noreply@tether.dev" },
      edit: (dir) => applyEdits(dir, w),
    });
    if (result.kind === "pushed") return { commit: result.commit };
    return { commit: await source.resolve(w.repoURL, w.writeBranch) };
  };
}

/** Applies the edits inside the work tree; a path that leaves it is refused. */
async function applyEdits(dir: string, w: BranchWrite): Promise<{ files: string[] }> {
  const files: string[] = [];
  for (const edit of w.edits) {
    const file = edit.kind === "kustomize" ? await kustomizationOf(dir, edit.path) : inside(dir, edit.valuesFilePath);
    const rel = path.relative(dir, file);
    // A symlink in the repository must not lead the edit outside the work tree.
    inside(await realpath(dir), await realpath(file).catch(() => file));
    const text = await readFile(file, "utf8").catch(() => {
      throw new TetherError("WriteBackFailed", `${rel} does not exist on ${w.writeBranch} of ${w.repoURL}: fix the path in the Stage's gitRepoUpdates`, { object: w.repoURL });
    });
    await writeFile(file, edited(text, edit, rel));
    files.push(rel);
  }
  return { files: [...new Set(files)] };
}

function edited(text: string, edit: ImageEdit, file: string): string {
  if (edit.kind === "helm") return setHelmValue(text, edit.key, edit.value, file);
  return setKustomizeImage(text, { name: edit.image, ...(edit.newTag ? { newTag: edit.newTag } : {}), ...(edit.digest ? { digest: edit.digest } : {}) }, file);
}

async function kustomizationOf(dir: string, rel: string): Promise<string> {
  const base = inside(dir, rel);
  for (const name of ["kustomization.yaml", "kustomization.yml", "Kustomization"]) {
    const candidate = path.join(base, name);
    if (await readFile(candidate).then(() => true, () => false)) return candidate;
  }
  return path.join(base, "kustomization.yaml");
}

function inside(dir: string, rel: string): string {
  const full = path.resolve(dir, rel);
  if (full !== dir && !full.startsWith(dir + path.sep)) {
    throw new TetherError("WriteBackFailed", `path ${rel} leaves the repository: write a path relative to its root`, { object: rel });
  }
  return full;
}
