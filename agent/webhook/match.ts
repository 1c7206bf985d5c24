// Which Applications a push concerns: same repository, a pushed branch or tag the app follows, and,
// when the payload lists the changed files, a change under the app's path. Pure.
import { posix } from "node:path";
import { declaredSources } from "../api/sources.ts";
import type { Application, ApplicationSource } from "../api/types.ts";
import { credentialScope } from "../source/credentials.ts";
import { parseRepoUrl } from "../source/repo-url.ts";
import type { Push } from "./forges.ts";

/**
 * Argo CD's annotation: `;`-separated paths (relative to the source path, or from the repository root
 * when they start with `/`) whose changes concern the app. Needed when an app reads files outside its
 * path (a kustomize `../base`): without it only changes under the path refresh it.
 */
export const MANIFEST_PATHS_ANNOTATIONS = ["tether.dev/manifest-generate-paths", "argocd.argoproj.io/manifest-generate-paths"] as const;

/** The names of the Applications to refresh for a push, sorted. */
export function appsToRefresh(apps: readonly Application[], push: Push): string[] {
  const repoKeys = new Set(push.repoURLs.flatMap(repoKey));
  return apps
    .filter((app) => declaredSources(app).some((source) => sourceConcerned(app, source, push, repoKeys)))
    .map((app) => app.metadata?.name ?? "")
    .filter((name) => name !== "")
    .sort();
}


function sourceConcerned(app: Application, source: ApplicationSource, push: Push, repoKeys: ReadonlySet<string>): boolean {
  if (!repoKey(source.repoURL).some((key) => repoKeys.has(key))) return false;
  if (!revisionPushed(source.targetRevision ?? "", push)) return false;
  return pathsChanged(app, source, push.changedFiles);
}

/**
 * A repository's identity across the URLs a forge gives for it: host and path, whatever the scheme,
 * so an app reading `git@host:org/repo.git` is refreshed by a push that names `https://host/org/repo`.
 */
function repoKey(url: string): string[] {
  const scope = credentialScope(url);
  if (scope !== undefined) return [`${scope.host}/${scope.segments.join("/")}`];
  try {
    return [parseRepoUrl(url).key];
  } catch {
    return [];
  }
}

/** Whether the push moved the revision an app follows; a payload that names no ref moves every one. */
export function revisionPushed(targetRevision: string, push: Push): boolean {
  if (push.refs.length === 0) return true;
  const rev = targetRevision.trim();
  if (rev === "" || rev === "HEAD") {
    return push.refs.some((ref) => ref.kind === "branch" && (push.defaultBranch === undefined || ref.name === push.defaultBranch));
  }
  if (rev.startsWith("refs/heads/")) return push.refs.some((ref) => ref.kind === "branch" && `refs/heads/${ref.name}` === rev);
  if (rev.startsWith("refs/tags/")) return push.refs.some((ref) => ref.kind === "tag" && `refs/tags/${ref.name}` === rev);
  return push.refs.some((ref) => ref.name === rev);
}

/** Whether a changed file lies under one of the app's paths; true when the files are not listed. */
export function pathsChanged(app: Application, source: ApplicationSource, files: readonly string[] | undefined): boolean {
  if (files === undefined || files.length === 0) return true;
  const watched = watchedPaths(app, source);
  return files.some((file) => watched.some((dir) => dir === "" || file === dir || file.startsWith(`${dir}/`)));
}

function watchedPaths(app: Application, source: ApplicationSource): string[] {
  const base = clean(source.path ?? "");
  const annotation = MANIFEST_PATHS_ANNOTATIONS.map((key) => app.metadata?.annotations?.[key]).find((v) => v !== undefined);
  if (annotation === undefined) return [base];
  return annotation.split(";").map((p) => p.trim()).filter((p) => p !== "")
    .map((p) => (p.startsWith("/") ? clean(p) : clean(posix.join(base, p))));
}

/** A repository-relative directory without `./`, leading or trailing `/`; `""` is the root. */
function clean(path: string): string {
  const normal = posix.normalize(`/${path}`).replace(/^\/+|\/+$/g, "");
  return normal === "." ? "" : normal;
}
