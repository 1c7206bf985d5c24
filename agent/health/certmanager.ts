import type { Manifest } from "../api/types.ts";
import { holds, readyHealth } from "./conditions.ts";
import { condition, conditions } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/**
 * cert-manager Certificate: Progressing while a certificate is being issued (Issuing, which cert-manager
 * sets next to Ready=False when the Secret does not exist yet), then by Ready: a Certificate that is not
 * Ready and not issuing has failed (a bad issuer, a rejected order).
 */
export function certificateHealth(obj: Manifest): HealthResult {
  const issuing = holds(obj, "Issuing");
  if (issuing) return health("Progressing", issuing.message ?? "Issuing certificate");
  if (conditions(obj).length === 0) return health("Progressing", "Waiting for certificate");
  return readyHealth(obj, "Degraded", "Waiting for certificate");
}

/** cert-manager CertificateRequest: Ready=False with reason Pending is still going; Denied or Failed is not. */
export function certificateRequestHealth(obj: Manifest): HealthResult {
  for (const type of ["InvalidRequest", "Denied"]) {
    const c = holds(obj, type);
    if (c) return health("Degraded", c.message ?? `CertificateRequest ${type}`);
  }
  const ready = condition(obj, "Ready");
  if (ready?.status === "False" && ready.reason === "Pending") return health("Progressing", ready.message ?? "Waiting for the issuer");
  return readyHealth(obj, "Degraded", "Waiting for the issuer to sign the request");
}

/** cert-manager Issuer and ClusterIssuer: Ready once the issuer is registered (e.g. the ACME account). */
export function issuerHealth(obj: Manifest): HealthResult {
  return readyHealth(obj, "Degraded", "Initializing issuer");
}
