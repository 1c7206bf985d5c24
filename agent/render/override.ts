// Argo CD's parameter override files: `.argocd-source.yaml` and then `.argocd-source-<app>.yaml` in a
// Git source's path are merged into the source before it renders (a JSON merge patch, RFC 7386, as Argo
// CD's repo server applies them: maps merge, lists and values replace). Image Updater's Git write-back
// writes Helm parameters and Kustomize images there.
import { lstatSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parse } from "yaml";
import type { ApplicationSource } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { isInside, safeJoin } from "../source/safe-join.ts";

/** The override files of an app, in the order they apply. */
export function overrideFiles(appName: string): string[] {
  return [".argocd-source.yaml", `.argocd-source-${appName}.yaml`];
}

/** `source` with the override files found in its path merged in; unchanged when there are none. */
export async function withOverrides(root: string, source: ApplicationSource, appName: string): Promise<ApplicationSource> {
  if (source.chart !== undefined || source.path === undefined) return source;
  let merged: unknown = source;
  for (const name of overrideFiles(appName)) {
    const file = `${source.path.replace(/\/+$/, "")}/${name}`;
    if (absent(root, file)) continue;
    let text: string;
    try {
      text = await readFile(await safeJoin(root, file), "utf8");
    } catch (err) {
      if (err instanceof TetherError) throw err;
      continue;
    }
    let patch: unknown;
    try {
      patch = parse(text);
    } catch (err) {
      throw new TetherError("RenderFailed", `${file} is not valid YAML (${err instanceof Error ? err.message.split("\n")[0] : String(err)}): fix or remove it`, { object: file });
    }
    if (patch === null || patch === undefined) continue;
    if (typeof patch !== "object" || Array.isArray(patch)) {
      throw new TetherError("RenderFailed", `${file} must be a mapping of source fields (helm:, kustomize:, directory:): fix or remove it`, { object: file });
    }
    merged = mergePatch(merged, withArgoFieldNames(patch as Record<string, unknown>));
  }
  const result = merged as ApplicationSource;
  // The override may change how the source renders, never where it comes from.
  return { ...result, repoURL: source.repoURL, ...(source.targetRevision === undefined ? {} : { targetRevision: source.targetRevision }), path: source.path };
}

/**
 * Whether `file` is certainly not in the checkout: most sources have neither override file, and one
 * lstat says so (a safeJoin that fails takes four calls to the disk, twice per render). Anything that
 * is there (a link too), or that lstat cannot tell, goes through safeJoin, which refuses what leaves the checkout.
 */
function absent(root: string, file: string): boolean {
  const lexical = resolve(root, file);
  if (!isInside(resolve(root), lexical)) return false;
  try {
    return lstatSync(lexical, { throwIfNoEntry: false }) === undefined;
  } catch {
    return false;
  }
}

/**
 * Argo CD reads these files with Go's case-insensitive JSON field matching, and Image Updater writes
 * `forcestring`: Helm parameters' field names are taken in Argo CD's spelling.
 */
function withArgoFieldNames(patch: Record<string, unknown>): Record<string, unknown> {
  const helm = patch.helm as { parameters?: unknown } | undefined;
  if (typeof helm !== "object" || helm === null || !Array.isArray(helm.parameters)) return patch;
  const parameters = helm.parameters.map((p: unknown) => {
    if (typeof p !== "object" || p === null) return p;
    return Object.fromEntries(Object.entries(p).map(([k, v]) => [k.toLowerCase() === "forcestring" ? "forceString" : k, v]));
  });
  return { ...patch, helm: { ...helm, parameters } };
}

/** RFC 7386 JSON merge patch: objects merge key by key, `null` removes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === "object" && target !== null && !Array.isArray(target) ? { ...target as Record<string, unknown> } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}
