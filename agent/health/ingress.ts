import type { Manifest } from "../api/types.ts";
import { list } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/**
 * Ingress health, as Argo CD judges it: Progressing until an ingress controller publishes an
 * address. A cluster without an ingress controller therefore keeps its Ingresses Progressing.
 */
export function ingressHealth(obj: Manifest): HealthResult {
  if (list(obj, "status", "loadBalancer", "ingress").length > 0) return health("Healthy");
  return health("Progressing", "Waiting for an ingress controller to publish an address");
}
