// Which Applications a push concerns: same repository and a pushed branch or tag the app follows.
// Those with a change under their paths (or all, when the payload lists no files) are refreshed at
// once; the others only moved to a new revision that renders what they have (Argo CD's
// `manifest-generate-paths`). Pure.
import { declaredSources } from "../api/sources.ts";
import type { Application, ApplicationSource } from "../api/types.ts";
import { credentialScope } from "../source/credentials.ts";
import { parseRepoUrl } from "../source/repo-url.ts";
import { touches, watchedPaths } from "../source/watched-paths.ts";
import type { Push } from "./forges.ts";

/** The Applications a push concerns, by name, sorted. */
export interface PushTargets {
  /** A change under their paths, or a payload without a file list: refreshed (fetch, render, apply) first. */
  readonly refresh: readonly string[];
  /** Their revision moved and nothing under their paths changed: queued behind, to record the new revision without a render. */
  readonly revisionOnly: readonly string[];
  /** The payload listed its files: each app in `refresh` has a change under its paths (not merely an unknown one). */
  readonly listed: boolean;
}

/** Which Applications a push refreshes, and which only move to its revision. */
export function pushTargets(apps: readonly Application[], push: Push): PushTargets {
  const repoKeys = new Set(push.repoURLs.flatMap(repoKey));
  const refresh: string[] = [];
  const revisionOnly: string[] = [];
  for (const app of apps) {
    const name = app.metadata?.name ?? "";
    const moved = declaredSources(app).filter((source) => sourceMoved(source, push, repoKeys));
    if (name === "" || moved.length === 0) continue;
    if (moved.some((source) => pathsChanged(app, source, push.changedFiles))) refresh.push(name);
    else revisionOnly.push(name);
  }
  return { refresh: refresh.sort(), revisionOnly: revisionOnly.sort(), listed: (push.changedFiles?.length ?? 0) > 0 };
}

/** Whether the push moved the revision `source` follows in its repository. */
function sourceMoved(source: ApplicationSource, push: Push, repoKeys: ReadonlySet<string>): boolean {
  return repoKey(source.repoURL).some((key) => repoKeys.has(key)) && revisionPushed(source.targetRevision ?? "", push);
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
  return touches(files, watchedPaths(app, source));
}
