import { GROUP, type Manifest } from "../api/types.ts";
import { errorMessage } from "../errors.ts";
import { applicationHealth } from "./application.ts";
import { customResourceDefinitionHealth } from "./crd.ts";
import { daemonSetHealth } from "./daemonset.ts";
import { deploymentHealth } from "./deployment.ts";
import { field, list } from "./fields.ts";
import { ingressHealth } from "./ingress.ts";
import { jobHealth } from "./job.ts";
import { namespaceHealth } from "./namespace.ts";
import { podHealth } from "./pod.ts";
import { persistentVolumeClaimHealth } from "./pvc.ts";
import { replicaSetHealth } from "./replicaset.ts";
import { health, type HealthResult } from "./result.ts";
import { serviceHealth } from "./service.ts";
import { statefulSetHealth } from "./statefulset.ts";

/** Judges one live object of a known kind. Pure: it reads the object and nothing else. */
export type HealthCheck = (live: Manifest) => HealthResult;

/**
 * One check per kind, keyed `group/Kind` (`Kind` alone for the core group). Any API version of a
 * kind shares its check, because the status fields read here are the same across versions.
 */
const CHECKS: Readonly<Record<string, HealthCheck>> = {
  "apps/Deployment": deploymentHealth,
  "apps/StatefulSet": statefulSetHealth,
  "apps/DaemonSet": daemonSetHealth,
  "apps/ReplicaSet": replicaSetHealth,
  "batch/Job": jobHealth,
  "networking.k8s.io/Ingress": ingressHealth,
  "apiextensions.k8s.io/CustomResourceDefinition": customResourceDefinitionHealth,
  [`${GROUP}/Application`]: applicationHealth,
  Pod: podHealth,
  Service: serviceHealth,
  PersistentVolumeClaim: persistentVolumeClaimHealth,
  Namespace: namespaceHealth,
};

export interface AssessHealthOptions {
  /**
   * Checks that add to or replace the built-in table, keyed like it (`cert-manager.io/Certificate`,
   * `Pod`): custom resources often have their own notion of ready that no generic rule can know.
   */
  readonly checks?: Readonly<Record<string, HealthCheck>>;
}

/**
 * The health of one live object: Missing when it does not exist, Progressing while it is being
 * deleted, otherwise the verdict of its kind's check; a kind without a check is Healthy once it
 * exists. A check that throws yields Unknown with the reason, never a guess.
 */
export function assessHealth(live: Manifest | undefined, opts: AssessHealthOptions = {}): HealthResult {
  if (live === undefined) return health("Missing");
  if (field(live, "metadata", "deletionTimestamp") !== undefined) return pendingDeletion(live);
  const check = opts.checks?.[kindKey(live)] ?? CHECKS[kindKey(live)];
  if (check === undefined) return health("Healthy");
  try {
    return check(live);
  } catch (err) {
    return health("Unknown", `Health check for ${kindKey(live)} failed: ${errorMessage(err)}`);
  }
}

/** `group/Kind`, or `Kind` for the core group (apiVersion `v1`). */
function kindKey(obj: Manifest): string {
  const slash = obj.apiVersion.indexOf("/");
  return slash < 0 ? obj.kind : `${obj.apiVersion.slice(0, slash)}/${obj.kind}`;
}

/** Names the finalizers still holding the object, because a stuck deletion is almost always one of them. */
function pendingDeletion(live: Manifest): HealthResult {
  const finalizers = list(live, "metadata", "finalizers").filter((f): f is string => typeof f === "string");
  return health("Progressing", finalizers.length > 0 ? `Pending deletion: waiting for finalizers ${finalizers.join(", ")}` : "Pending deletion");
}
