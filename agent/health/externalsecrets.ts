import type { Manifest } from "../api/types.ts";
import { generationBehind, holds, readyHealth } from "./conditions.ts";
import { health, type HealthResult } from "./result.ts";

/**
 * External Secrets ExternalSecret, SecretStore, ClusterSecretStore: the operator keeps Ready=False for
 * errors (SecretSyncedError, InvalidProviderConfig), so False is Degraded; before the first sync it is
 * Progressing.
 */
export function externalSecretsHealth(obj: Manifest): HealthResult {
  const behind = generationBehind(obj);
  if (behind) return behind;
  // ClusterExternalSecret reports per-namespace failures with conditions of its own.
  // PartiallyReady next to Ready=True is a namespace that failed earlier; the set as a whole is ready.
  const failed = holds(obj, "NotReady") ?? (holds(obj, "Ready") ? undefined : holds(obj, "PartiallyReady"));
  if (failed) return health("Degraded", failed.message ?? `${obj.kind} is not ready in every namespace`);
  const refresh = obj.kind === "ExternalSecret" ? "Waiting for the first sync" : "Waiting for the store to be validated";
  return readyHealth(obj, "Degraded", refresh);
}
