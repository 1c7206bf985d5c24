// The render stage's dispatch for one Application: which renderer its source needs, with the
// decrypt stage plugged in.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { sourcesOf } from "../api/sources.ts";
import type { Application, ApplicationSource } from "../api/types.ts";
import { sopsDecryptor } from "../decrypt/sops.ts";
import { TetherError } from "../errors.ts";
import { safeJoin } from "../source/safe-join.ts";
import type { DependencyFetch } from "./chart-deps.ts";
import { renderDirectory } from "./directory.ts";
import { renderHelm } from "./helm.ts";
import { KUSTOMIZATION_FILES, renderKustomize } from "./kustomize.ts";
import type { Capabilities, DecryptFn, RenderedObject } from "./types.ts";

export interface ApplicationRenderInput {
  /** The checked-out tree of the commit: a throwaway copy (the Kustomize renderer edits it). */
  readonly root: string;
  readonly app: Application;
  /**
   * age identities from the Application's key Secret; never logged. As a function they are read only
   * when the render needs them (a Kustomize build, an encrypted file): most apps' plain files and every
   * Helm chart render without reading the key Secret.
   */
  readonly decryptionKeys: AgeKeys;
  /** Whether a remote Kustomize base may be fetched (the AppProject decides); refused when absent. */
  readonly allowRemoteBases?: (url: string) => boolean;
  /** Whether a remote Kustomize base may be a repository on the agent's disk (`--allow-local-repos`). */
  readonly allowLocalRepos?: boolean;
  /** Where Helm chart dependencies missing from charts/ come from; without it they must be vendored. */
  readonly charts?: DependencyFetch;
  /** Checkouts of the sources with a `ref` (multiple sources), for `$ref/…` Helm value files. */
  readonly valueRoots?: Readonly<Record<string, string>>;
  /** The destination's version and APIs, for Helm's `.Capabilities`. */
  readonly capabilities?: Capabilities;
}

export type SourceType = "directory" | "kustomize" | "helm";

/** Renders the source of `app` from the tree at `root`. */
export async function renderApplication(input: ApplicationRenderInput): Promise<RenderedObject[]> {
  const { app, root } = input;
  const src = theSource(app);
  const path = src.path ?? ".";
  const dir = await safeJoin(root, path);
  if (await stat(dir).then((s) => !s.isDirectory(), () => true)) {
    throw new TetherError("RenderFailed", `path ${path} does not exist in ${src.repoURL} at this revision; fix spec.source.path or push the directory`, { object: path });
  }
  switch (explicitType(app) ?? await detectType(dir)) {
    case "kustomize":
      return renderKustomize({
        root, path, ageKeys: await keysOf(input.decryptionKeys),
        ...(src.kustomize ? { kustomize: src.kustomize } : {}),
        ...(input.allowRemoteBases ? { allowRemoteBases: input.allowRemoteBases } : {}),
        ...(input.allowLocalRepos === true ? { allowLocalRepos: true } : {}),
      });
    case "helm":
      return renderHelm({
        root, path, releaseName: src.helm?.releaseName ?? app.metadata?.name ?? "release",
        ...(src.helm ? { helm: src.helm } : {}),
        ...(app.spec.destination.namespace ? { namespace: app.spec.destination.namespace } : {}),
        ...(input.charts ? { dependencies: input.charts } : {}),
        ...(input.valueRoots ? { valueRoots: input.valueRoots } : {}),
        ...(input.capabilities ? { capabilities: input.capabilities } : {}),
      });
    case "directory":
      return renderDirectory({ root, path, ...(src.directory ? { directory: src.directory } : {}), decrypt: lazyDecryptor(input.decryptionKeys) });
  }
}

/** age identities, or how to read them when a render first needs them. */
export type AgeKeys = readonly string[] | (() => Promise<readonly string[]>);

async function keysOf(keys: AgeKeys): Promise<readonly string[]> {
  return typeof keys === "function" ? await keys() : keys;
}

/** SOPS decryption whose keys are read when the first encrypted file asks for them. */
export function lazyDecryptor(keys: AgeKeys): DecryptFn {
  return async (text, file, format) => sopsDecryptor({ ageKeys: await keysOf(keys) })(text, file, format);
}

/** The type the Application names by setting `directory`, `kustomize` or `helm` (as Argo CD reads it). */
export function explicitType(app: Application): SourceType | undefined {
  const src = theSource(app);
  const named = (["directory", "kustomize", "helm"] as const).filter((t) => src[t] !== undefined);
  if (named.length > 1) {
    throw new TetherError("RenderFailed", `spec.source sets ${named.join(" and ")}: an Application has one source type, keep only one`, { object: "spec.source" });
  }
  return named[0];
}

/** The one source a renderer of one tree renders (renderSources hands each source over as spec.source). */
function theSource(app: Application): ApplicationSource {
  return sourcesOf(app)[0]!;
}

/** Kustomize when a kustomization file is present, Helm when a Chart.yaml is, else plain manifests. */
export async function detectType(dir: string): Promise<SourceType> {
  // One read of the directory, not a stat per candidate name: every render of every app asks.
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const has = async (name: string): Promise<boolean> => {
    const entry = byName.get(name);
    if (entry === undefined) return false;
    // A link is followed, as stat does: a file it leads to counts.
    return entry.isFile() || (entry.isSymbolicLink() && await stat(join(dir, name)).then((s) => s.isFile(), () => false));
  };
  for (const name of KUSTOMIZATION_FILES) if (await has(name)) return "kustomize";
  if (await has("Chart.yaml")) return "helm";
  return "directory";
}
