// The agent's serving certificate in the cluster: made once by `tether install` and `tether bootstrap`
// (Secrets tether-agent-tls and tether-agent-ca), kept when they run again, renewed with the same CA
// when it has less than 30 days left, so what clients trust stays the same.
import type { Manifest, ObjectRef } from "../../agent/api/types.ts";
import type { Cluster } from "../../agent/apply/cluster.ts";
import { fingerprint, validFor } from "../../bootstrap/certificate.ts";
import { AGENT_CA_SECRET, AGENT_TLS_SECRET, agentTlsSecrets } from "../../bootstrap/manifests.ts";

/** Renewed when fewer days than this are left. */
const RENEW_DAYS = 30;

export interface AgentTlsOutcome {
  readonly action: "created" | "kept" | "renewed";
  /** The CA clients trust (PEM). */
  readonly caCert: string;
}

const secretRef = (name: string, namespace: string): ObjectRef => ({ group: "", version: "v1", kind: "Secret", name, namespace });
const field = (secret: Manifest | undefined, key: string): string =>
  Buffer.from(String((secret?.data as Record<string, string> | undefined)?.[key] ?? ""), "base64").toString("utf8");

/** Makes, keeps or renews the agent's serving certificate in `namespace`. */
export async function ensureAgentTls(cluster: Cluster, namespace: string, now = new Date()): Promise<AgentTlsOutcome> {
  const serving = await cluster.get(secretRef(AGENT_TLS_SECRET, namespace));
  const caCert = field(serving, "ca.crt");
  if (serving && validFor(field(serving, "tls.crt"), caCert, RENEW_DAYS, now)) return { action: "kept", caCert };
  const ca = await cluster.get(secretRef(AGENT_CA_SECRET, namespace));
  const key = field(ca, "ca.key");
  // The same CA when its key is still here and it is the one clients were given; else a new one.
  const sameCa = serving !== undefined && key !== "" && field(ca, "ca.crt") === caCert && validFor(caCert, caCert, RENEW_DAYS, now);
  const made = agentTlsSecrets(namespace, ...(sameCa ? [{ cert: caCert, key }] as const : []));
  if (!sameCa) await cluster.apply(made.ca);
  await cluster.apply(made.serving);
  return { action: serving ? "renewed" : "created", caCert: field(made.serving, "ca.crt") };
}

/** What the install prints: what happened, and how a client gets the CA to trust. */
export function describeAgentTls(outcome: AgentTlsOutcome, namespace: string): string[] {
  const what = { created: "created", kept: "kept", renewed: "renewed (same CA unless the old one could not sign again)" }[outcome.action];
  return [
    `Secret ${namespace}/${AGENT_TLS_SECRET} ${what}: the agent serves HTTPS with a certificate of its own CA `
      + `(SHA-256 fingerprint ${fingerprint(outcome.caCert)}).`,
    "  Trust it (a browser, Prometheus, a webhook's proxy) with the CA from the Secret:",
    `  kubectl -n ${namespace} get secret ${AGENT_TLS_SECRET} -o jsonpath='{.data.ca\\.crt}' | base64 -d > tether-agent-ca.crt`,
  ];
}
