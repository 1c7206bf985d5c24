// Compare options (`tether.dev/compare-options` or `argocd.argoproj.io/compare-options`, comma-separated),
// as Argo CD reads them: `IgnoreExtraneous` on an object, `ServerSideDiff=true|false` on an Application.
import { COMPARE_OPTIONS_ANNOTATIONS, type Manifest } from "../api/types.ts";

/** The compare options an object or Application carries, both spellings together. */
export function compareOptionsOf(obj: Pick<Manifest, "metadata"> | undefined): Set<string> {
  const out = new Set<string>();
  for (const key of COMPARE_OPTIONS_ANNOTATIONS) {
    for (const option of (obj?.metadata?.annotations?.[key] ?? "").split(",")) {
      if (option.trim() !== "") out.add(option.trim());
    }
  }
  return out;
}

/**
 * `IgnoreExtraneous`: a live object Git no longer (or never) holds does not make its app OutOfSync
 * (Argo CD's compare option; the object itself is still listed OutOfSync, and health still counts).
 * Read from the live object, the only side an extraneous object has.
 */
export function ignoresExtraneous(live: Pick<Manifest, "metadata"> | undefined): boolean {
  return compareOptionsOf(live).has("IgnoreExtraneous");
}
