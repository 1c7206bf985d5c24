// `tether app diff --revision` and `tether app manifests --revision` rendered where the agent renders: the
// app's spec with the caller's overrides (a revision; Helm, Kustomize or directory options, a path), and
// nothing else. The repository and chart stay the app's, so an override reads nothing its project and the
// agent's credentials do not already read for it. Pure.
import type { Application, ApplicationSource } from "../api/types.ts";
import { BadRequest } from "./actions.ts";

/** What a caller may change for one render (Argo CD's `argocd app diff --revision`, `app manifests --revision`). */
export interface RenderOverrides {
  readonly revision?: string;
  /** Merged into the source field by field (helm, kustomize, directory one level deep). */
  readonly source?: Partial<Pick<ApplicationSource, "path" | "helm" | "kustomize" | "directory">>;
}

const OVERRIDABLE = new Set(["path", "helm", "kustomize", "directory"]);

/** Reads `?revision=REV&source=JSON`; an override of anything else is a 400 that names the fields allowed. */
export function overridesFrom(params: URLSearchParams): RenderOverrides {
  const revision = params.get("revision") ?? undefined;
  if (revision !== undefined && !/^[\w./@^~+-]{1,255}$/.test(revision)) throw new BadRequest(`revision "${revision}": expected a branch, tag or commit SHA`);
  const raw = params.get("source");
  if (raw === null) return revision ? { revision } : {};
  let source: unknown;
  try {
    source = JSON.parse(raw);
  } catch {
    throw new BadRequest("source: expected JSON, e.g. {\"helm\":{\"valuesObject\":{\"replicas\":2}}}");
  }
  if (typeof source !== "object" || source === null || Array.isArray(source)) throw new BadRequest("source: expected a JSON object");
  const refused = Object.keys(source).filter((k) => !OVERRIDABLE.has(k));
  if (refused.length > 0) {
    throw new BadRequest(`source: ${refused.join(", ")} cannot be overridden (only ${[...OVERRIDABLE].join(", ")}); the repository and chart stay the app's`);
  }
  return { ...(revision ? { revision } : {}), source };
}

/** The app as it renders with `overrides`; a multi-source app takes no overrides (which source would they mean?). */
export function withOverrides(app: Application, overrides: RenderOverrides): Application {
  if (overrides.revision === undefined && overrides.source === undefined) return app;
  const source = app.spec.source;
  if (!source) throw new BadRequest(`application ${app.metadata?.name ?? ""} has several sources: render it at its own revisions, without overrides`);
  const o = overrides.source ?? {};
  const merged: ApplicationSource = {
    ...source,
    ...(overrides.revision ? { targetRevision: overrides.revision } : {}),
    ...(o.path !== undefined ? { path: o.path } : {}),
    ...(o.helm ? { helm: { ...source.helm, ...o.helm } } : {}),
    ...(o.kustomize ? { kustomize: { ...source.kustomize, ...o.kustomize } } : {}),
    ...(o.directory ? { directory: { ...source.directory, ...o.directory } } : {}),
  };
  return { ...app, spec: { ...app.spec, source: merged } };
}
