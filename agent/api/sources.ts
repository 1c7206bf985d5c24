// Which sources an Application has: `spec.sources` (Argo CD 2.6+) or the single `spec.source`.
// One place decides it, so the reconcile, the webhook, policy and the CLI agree.
import { TetherError } from "../errors.ts";
import type { Application, ApplicationSource } from "./types.ts";

/** The default key Secret (`*.agekey` entries) when no source names one. */
export const DEFAULT_KEY_SECRET = "tether-sops";

/**
 * `spec.sources` when it has entries (as Argo CD: it wins over `spec.source`), else `[spec.source]`.
 * An Application with neither is an InvalidSpecError naming the fix.
 */
export function sourcesOf(app: Application): ApplicationSource[] {
  const declared = declaredSources(app);
  if (declared.length > 0) return declared;
  const name = app.metadata?.name ?? "?";
  throw new TetherError("InvalidSpecError",
    `Application ${name} has neither spec.source nor spec.sources: set spec.source (one repository) or spec.sources (a list)`,
    { object: `Application/${name}` });
}

/** {@link sourcesOf} without the error: none for an app that has neither (a webhook concerns no such app). */
export function declaredSources(app: Application): ApplicationSource[] {
  const many = app.spec.sources ?? [];
  if (many.length > 0) return [...many];
  return app.spec.source === undefined ? [] : [app.spec.source];
}

/** Whether `spec.source` is set but ignored because `spec.sources` wins (shown as a warning, never silently). */
export function ignoredSingleSource(app: Application): boolean {
  return app.spec.source !== undefined && (app.spec.sources?.length ?? 0) > 0;
}

/**
 * The source that stands for the app where one is shown or inherited (CLI tables, child apps without
 * a repoURL): the first Git source, else the first source. Undefined when the spec has none.
 */
export function primarySource(app: Application): ApplicationSource | undefined {
  const many = app.spec.sources ?? [];
  if (many.length === 0) return app.spec.source;
  return many.find((s) => s.chart === undefined) ?? many[0];
}

/** The key Secret of the app: the first source that names one, else `tether-sops`. */
export function keySecretOf(app: Application): string {
  const all = [...(app.spec.sources ?? []), ...(app.spec.source ? [app.spec.source] : [])];
  return all.map((s) => s.decryption?.secretRef?.name).find((n) => n !== undefined) ?? DEFAULT_KEY_SECRET;
}
