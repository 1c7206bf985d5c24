import type { Manifest } from "../api/types.ts";
import { holds } from "./conditions.ts";
import { condition } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/**
 * Crossplane claims, composite resources and managed resources: Synced=False is a reconcile error
 * (Degraded, with Crossplane's message); then Ready. The same rule applies to any kind that carries
 * these conditions, since claims and composites live in the user's own API groups.
 */
export function crossplaneHealth(obj: Manifest): HealthResult {
  const synced = condition(obj, "Synced");
  if (synced?.status === "False") return health("Degraded", synced.message ?? synced.reason ?? "Crossplane could not reconcile the resource");
  const ready = condition(obj, "Ready");
  if (ready?.status === "True") return health("Healthy", ready.message);
  if (ready !== undefined) return health("Progressing", ready.message ?? ready.reason ?? "Waiting for the resource to become ready");
  if (synced === undefined) return health("Progressing", "Waiting for Crossplane to reconcile the resource");
  return health("Progressing", "Waiting for the resource to become ready");
}

/** Crossplane packages (Provider, Configuration, Function): Installed and Healthy. */
export function crossplanePackageHealth(obj: Manifest): HealthResult {
  const healthy = condition(obj, "Healthy");
  if (healthy?.status === "False") return health("Degraded", healthy.message ?? healthy.reason ?? "Package is unhealthy");
  const installed = holds(obj, "Installed");
  if (installed && healthy?.status === "True") return health("Healthy", healthy.message);
  return health("Progressing", healthy?.message ?? "Waiting for the package to be installed and healthy");
}

/** Whether an object of a kind nobody described is a Crossplane claim or composite. */
export function looksLikeCrossplane(obj: Manifest): boolean {
  const spec = obj.spec as Record<string, unknown> | undefined;
  const group = obj.apiVersion.split("/")[0] ?? "";
  return group.endsWith(".crossplane.io") || (spec !== undefined && ("compositionRef" in spec || "resourceRef" in spec
    || "compositionSelector" in spec || "crossplane" in spec));
}
