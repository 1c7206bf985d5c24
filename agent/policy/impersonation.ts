// Which ServiceAccount an Application syncs as, from its AppProject's `destinationServiceAccounts`,
// as Argo CD 2.13+ chooses it: the first entry whose server and namespace globs match the destination
// wins; `defaultServiceAccount` is NAME (in the destination namespace) or NAMESPACE:NAME. Apply and prune
// then run as `system:serviceaccount:NAMESPACE:NAME`, so the cluster's RBAC, not Tether, decides what
// the app may touch. Pure.
import type { AppProject } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { globMatch } from "./project.ts";

/** What impersonation needs from an Application's destination. */
export interface Destination {
  /** `spec.destination.server`, `https://kubernetes.default.svc` for the agent's own cluster. */
  readonly server: string;
  /** `spec.destination.namespace`; may be empty. */
  readonly namespace: string;
}

/** The identity a sync runs as. */
export interface Impersonation {
  /** `system:serviceaccount:NAMESPACE:NAME`, the value of the Impersonate-User header. */
  readonly user: string;
  readonly serviceAccount: { readonly namespace: string; readonly name: string };
}

const SA_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * The ServiceAccount to impersonate for `destination`, or undefined when the project lists no
 * `destinationServiceAccounts` (the agent then uses its own identity). Throws PolicyViolation when the
 * project lists some but none matches, or the matching one cannot name a ServiceAccount: a project
 * that asks for impersonation must never fall back to the agent's wider rights.
 */
export function impersonationFor(project: AppProject, destination: Destination): Impersonation | undefined {
  const entries = project.spec.destinationServiceAccounts ?? [];
  if (entries.length === 0) return undefined;
  const projectName = project.metadata?.name ?? "?";
  const where = `destination ${destination.server} namespace "${destination.namespace}"`;
  const entry = entries.find((e) => globMatch(e.server ?? "*", destination.server) && globMatch(e.namespace ?? "*", destination.namespace));
  if (entry === undefined) {
    throw new TetherError("PolicyViolation",
      `project ${projectName} impersonates per destination, and no entry of its destinationServiceAccounts matches ${where}: add one`,
      { object: `AppProject/${projectName}`, retryable: false });
  }
  const [namespace, name] = entry.defaultServiceAccount.includes(":")
    ? entry.defaultServiceAccount.split(":", 2) as [string, string]
    : [destination.namespace, entry.defaultServiceAccount];
  if (namespace === "" || !SA_NAME.test(name)) {
    const why = namespace === "" ? "has no namespace (write NAMESPACE:NAME, or give the Application a destination namespace)" : "is not a valid ServiceAccount name";
    throw new TetherError("PolicyViolation",
      `project ${projectName}: defaultServiceAccount '${entry.defaultServiceAccount}' for ${where} ${why}`,
      { object: `AppProject/${projectName}`, retryable: false });
  }
  return { user: `system:serviceaccount:${namespace}:${name}`, serviceAccount: { namespace, name } };
}
