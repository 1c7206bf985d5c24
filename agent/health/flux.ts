import type { Manifest } from "../api/types.ts";
import { generationBehind, holds, readyHealth } from "./conditions.ts";
import { condition, conditions, field, str } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/**
 * Flux Kustomization, HelmRelease, GitRepository, HelmRepository, OCIRepository: suspended is Suspended;
 * then kstatus as Flux writes it (generation not observed or Reconciling → Progressing, Stalled →
 * Degraded), then Ready: Flux sets Ready=False when a reconcile failed, so False is Degraded, retrying or not.
 */
export function fluxHealth(obj: Manifest): HealthResult {
  if (field(obj, "spec", "suspend") === true) return health("Suspended", `${obj.kind} is suspended`);
  // A HelmRepository of type oci is not reconciled by the source-controller: it has no status to wait for.
  if (obj.kind === "HelmRepository" && str(obj, "spec", "type") === "oci" && conditions(obj).length === 0) return health("Healthy");
  const behind = generationBehind(obj);
  if (behind) return behind;
  const stalled = holds(obj, "Stalled");
  if (stalled) return health("Degraded", stalled.message ?? "Reconciliation stalled");
  // Ready=False is a failed attempt even while Flux retries it (Reconciling, reason ProgressingWithRetry).
  const ready = condition(obj, "Ready");
  if (ready?.status === "False" && ready.reason !== "Progressing") return health("Degraded", ready.message ?? ready.reason);
  const reconciling = holds(obj, "Reconciling");
  if (reconciling) return health("Progressing", reconciling.message ?? "Reconciliation in progress");
  return readyHealth(obj, "Progressing", "Waiting for the controller to reconcile");
}
