import type { Manifest } from "../api/types.ts";
import { conditions } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/**
 * CustomResourceDefinition health, after Argo CD's check. Unlike Argo, a CRD that is not yet
 * Established is Progressing rather than Degraded: the API server establishes a new CRD within
 * moments, and names that cannot be served show up as NamesAccepted=False, which is Degraded.
 */
export function customResourceDefinitionHealth(obj: Manifest): HealthResult {
  const all = conditions(obj);
  const holds = (type: string, status = "True") => all.find((c) => c.type === type && c.status === status);
  const namesRejected = holds("NamesAccepted", "False");
  if (namesRejected) return health("Degraded", `CRD names have not been accepted: ${namesRejected.message ?? ""}`);
  if (!holds("Established")) return health("Progressing", "Waiting for the CRD to be established");
  const nonStructural = holds("NonStructuralSchema");
  if (nonStructural) return health("Degraded", `Schema violations found: ${nonStructural.message ?? ""}`);
  return health("Healthy");
}
