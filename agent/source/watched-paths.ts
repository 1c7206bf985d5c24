// Which files of a repository an app's render reads, so a commit that changes none of them is known to
// render the same objects: Argo CD's `manifest-generate-paths`, and by default the source's own
// directory where the renderer cannot read outside it. The webhook uses it to choose the apps a push
// concerns, the build stage to keep the previous render for a new commit (agent/controller/build.ts).
// Pure.
import { posix } from "node:path";
import type { Application, ApplicationSource } from "../api/types.ts";

/**
 * Argo CD's annotation: `;`-separated paths (relative to the source path, or from the repository root
 * when they start with `/`) whose changes concern the app. Needed when an app reads files outside its
 * path (a kustomize `../base`): without it only changes under the path refresh it.
 */
export const MANIFEST_PATHS_ANNOTATIONS = ["tether.dev/manifest-generate-paths", "argocd.argoproj.io/manifest-generate-paths"] as const;

/** The directories whose changes concern the app's `source`: the annotation's, else the source path. Repository-relative; `""` is the root. */
export function watchedPaths(app: Application, source: ApplicationSource): string[] {
  const base = cleanPath(source.path ?? "");
  const annotation = manifestPathsAnnotation(app);
  if (annotation === undefined) return [base];
  return annotation.split(";").map((p) => p.trim()).filter((p) => p !== "")
    .map((p) => (p.startsWith("/") ? cleanPath(p) : cleanPath(posix.join(base, p))));
}

/** The `manifest-generate-paths` annotation (Tether's spelling first), when the app sets it. */
export function manifestPathsAnnotation(app: Application): string | undefined {
  return MANIFEST_PATHS_ANNOTATIONS.map((key) => app.metadata?.annotations?.[key]).find((v) => v !== undefined);
}

/** Whether one of `files` lies under one of `dirs` (`""` is the whole repository). */
export function touches(files: readonly string[], dirs: readonly string[]): boolean {
  return files.some((file) => dirs.some((dir) => dir === "" || file === dir || file.startsWith(`${dir}/`)));
}

/** A repository-relative directory without `./`, leading or trailing `/`; `""` is the root. */
export function cleanPath(path: string): string {
  const normal = posix.normalize(`/${path}`).replace(/^\/+|\/+$/g, "");
  return normal === "." ? "" : normal;
}

/** One entry of a commit's tree: its repository-relative path and git mode (`120000` is a symlink). */
export interface TreeEntry {
  readonly path: string;
  readonly mode: string;
}

/**
 * What a render of one Git source may read: only `paths` (a commit that changes nothing there renders
 * the same objects), or anything in the repository (`whole`), with why.
 */
export type RenderReach =
  | { readonly kind: "paths"; readonly paths: readonly string[]; readonly why: string }
  | { readonly kind: "whole"; readonly why: string };

const KUSTOMIZATION = new Set(["kustomization.yaml", "kustomization.yml", "Kustomization"]);
const SYMLINK_MODE = "120000";

/**
 * What the render of `source` reads. The annotation is the user's word (Argo CD's contract: a change
 * elsewhere is not rendered). Without it only a plain directory of manifests is confined to its path:
 * Kustomize (`../base`), Helm (value files, `file://` dependencies), Jsonnet (imports) and symlinks
 * may read elsewhere in the repository. `entries` is the source path's tree at the new commit.
 */
/** Whether a file may make a render read beyond its directory: a symlink, Jsonnet (its imports). */
export function reachesOutside(entry: TreeEntry): boolean {
  return entry.mode === SYMLINK_MODE || entry.path.endsWith(".jsonnet") || entry.path.endsWith(".libsonnet");
}

export function renderReach(app: Application, source: ApplicationSource, entries: readonly TreeEntry[]): RenderReach {
  if (manifestPathsAnnotation(app) !== undefined) {
    return { kind: "paths", paths: watchedPaths(app, source), why: "manifest-generate-paths" };
  }
  if (source.chart !== undefined || source.helm !== undefined || source.kustomize !== undefined || source.directory?.jsonnet !== undefined) {
    return { kind: "whole", why: "its renderer may read files outside its path" };
  }
  const base = cleanPath(source.path ?? "");
  const top = (e: TreeEntry) => posix.dirname(e.path) === (base === "" ? "." : base);
  const outside = entries.find((e) => reachesOutside(e) || (top(e) && (KUSTOMIZATION.has(posix.basename(e.path)) || posix.basename(e.path) === "Chart.yaml")));
  if (outside !== undefined) return { kind: "whole", why: `${outside.path} may make it read files outside its path` };
  return { kind: "paths", paths: [base], why: "a directory of manifests reads only its path" };
}
