import type { Manifest } from "../api/types.ts";
import { list, str } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/** Service health: only a LoadBalancer waits, for the cloud to hand out an address. */
export function serviceHealth(obj: Manifest): HealthResult {
  if (str(obj, "spec", "type") !== "LoadBalancer") return health("Healthy");
  if (list(obj, "status", "loadBalancer", "ingress").length > 0) return health("Healthy");
  return health("Progressing", "Waiting for the load balancer to be assigned an address");
}
