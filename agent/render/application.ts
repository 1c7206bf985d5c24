// The render stage's dispatch for one Application: which renderer its source needs, with the
// decrypt stage plugged in.
import { existsSync } from "node:fs";
import path from "node:path";
import type { Application } from "../api/types.ts";
import { sopsDecryptor } from "../decrypt/sops.ts";
import { TetherError } from "../errors.ts";
import { safeJoin } from "../source/index.ts";
import { renderDirectory } from "./directory.ts";
import type { RenderedObject } from "./types.ts";

export interface ApplicationRenderInput {
  /** The checked-out tree of the commit. */
  readonly root: string;
  readonly app: Application;
  readonly decryptionKeys: readonly string[];
}

/** Renders the source of `app` from the tree at `root`. */
export async function renderApplication(input: ApplicationRenderInput): Promise<RenderedObject[]> {
  const src = input.app.spec.source;
  const rel = src.path ?? ".";
  const dir = await safeJoin(input.root, rel);
  if (!existsSync(dir)) {
    throw new TetherError("RenderFailed", `path ${rel} does not exist in ${src.repoURL} at this revision; fix spec.source.path or push the directory`, { object: rel });
  }
  const decrypt = sopsDecryptor({ ageKeys: input.decryptionKeys });
  const kind = sourceType(dir);
  if (kind !== "directory") {
    throw new TetherError("RenderFailed", `${rel}: ${kind} sources are not supported yet`, { object: rel });
  }
  return await renderDirectory({ root: input.root, path: rel, ...(src.directory ? { directory: src.directory } : {}), decrypt });
}

/** Kustomize when a kustomization file is present, Helm when a Chart.yaml is, else plain manifests. */
export function sourceType(dir: string): "kustomize" | "helm" | "directory" {
  if (["kustomization.yaml", "kustomization.yml", "Kustomization"].some((f) => existsSync(path.join(dir, f)))) return "kustomize";
  if (existsSync(path.join(dir, "Chart.yaml"))) return "helm";
  return "directory";
}
