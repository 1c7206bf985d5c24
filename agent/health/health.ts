import { GROUP, type Manifest } from "../api/types.ts";
import { errorMessage } from "../errors.ts";
import { applicationHealth } from "./application.ts";
import { celHealth } from "./cel.ts";
import { certificateHealth, certificateRequestHealth, issuerHealth } from "./certmanager.ts";
import { customResourceDefinitionHealth } from "./crd.ts";
import { crossplaneHealth, crossplanePackageHealth, looksLikeCrossplane } from "./crossplane.ts";
import { externalSecretsHealth } from "./externalsecrets.ts";
import { fluxHealth } from "./flux.ts";
import { genericHealth, genericSignal } from "./generic.ts";
import { kedaHealth } from "./keda.ts";
import { luaHealth } from "./lua.ts";
import { analysisRunHealth, rolloutHealth } from "./rollouts.ts";
import { customCheck, healthRulesInUse, type HealthRules } from "./rules.ts";
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
  // The custom resources platform teams run most, written here (not Argo CD's scripts).
  "cert-manager.io/Certificate": certificateHealth,
  "cert-manager.io/CertificateRequest": certificateRequestHealth,
  "cert-manager.io/Issuer": issuerHealth,
  "cert-manager.io/ClusterIssuer": issuerHealth,
  "argoproj.io/Rollout": rolloutHealth,
  "argoproj.io/AnalysisRun": analysisRunHealth,
  "kustomize.toolkit.fluxcd.io/Kustomization": fluxHealth,
  "helm.toolkit.fluxcd.io/HelmRelease": fluxHealth,
  "source.toolkit.fluxcd.io/GitRepository": fluxHealth,
  "source.toolkit.fluxcd.io/HelmRepository": fluxHealth,
  "source.toolkit.fluxcd.io/OCIRepository": fluxHealth,
  "source.toolkit.fluxcd.io/HelmChart": fluxHealth,
  "source.toolkit.fluxcd.io/Bucket": fluxHealth,
  "pkg.crossplane.io/Provider": crossplanePackageHealth,
  "pkg.crossplane.io/Configuration": crossplanePackageHealth,
  "pkg.crossplane.io/Function": crossplanePackageHealth,
  "external-secrets.io/ExternalSecret": externalSecretsHealth,
  "external-secrets.io/ClusterExternalSecret": externalSecretsHealth,
  "external-secrets.io/SecretStore": externalSecretsHealth,
  "external-secrets.io/ClusterSecretStore": externalSecretsHealth,
  "keda.sh/ScaledObject": kedaHealth,
  "keda.sh/ScaledJob": kedaHealth,
};

/** Which rule judged an object, for `tether health` and the README's order. */
export type HealthRule = "missing" | "deleting" | "lua" | "cel" | "check" | "built-in" | "crossplane" | "generic";

export interface AssessHealthOptions {
  /** tether-cm's customizations; by default the ones the agent installed (rules.ts, useHealthRules). */
  readonly rules?: HealthRules;
  /**
   * Checks that add to or replace the built-in table, keyed like it (`cert-manager.io/Certificate`,
   * `Pod`): custom resources often have their own notion of ready that no generic rule can know.
   */
  readonly checks?: Readonly<Record<string, HealthCheck>>;
}

/**
 * The health of one live object: Missing when it does not exist, Progressing while it is being
 * deleted, otherwise the first rule that knows its kind: the user's Lua check in tether-cm, the user's
 * CEL check, a check passed in `checks`, the built-in table, then the generic rule (kstatus conditions,
 * Crossplane's Synced/Ready). A check that fails yields Unknown with the reason, never a guess.
 */
export function assessHealth(live: Manifest | undefined, opts: AssessHealthOptions = {}): HealthResult {
  return explainHealth(live, opts).result;
}

/** assessHealth, and which rule decided (for `tether health -o text` and tests). */
export function explainHealth(live: Manifest | undefined, opts: AssessHealthOptions = {}): { result: HealthResult; rule: HealthRule } {
  if (live === undefined) return { result: health("Missing"), rule: "missing" };
  if (field(live, "metadata", "deletionTimestamp") !== undefined) return { result: pendingDeletion(live), rule: "deleting" };
  const key = kindKey(live);
  const custom = customCheck(opts.rules ?? healthRulesInUse(), key);
  if (custom?.kind === "lua") return { result: luaHealth(live, custom.script, custom.openLibs), rule: "lua" };
  if (custom?.kind === "cel") return { result: guarded(key, () => celHealth(live, custom.check)), rule: "cel" };
  if (custom?.kind === "invalid") return { result: health("Unknown", custom.message), rule: "cel" };
  const given = opts.checks?.[key];
  if (given) return { result: guarded(key, () => given(live)), rule: "check" };
  const builtIn = CHECKS[key];
  if (builtIn) return { result: guarded(key, () => builtIn(live)), rule: "built-in" };
  if (looksLikeCrossplane(live)) return { result: guarded(key, () => crossplaneHealth(live)), rule: "crossplane" };
  return { result: guarded(key, () => genericHealth(live)), rule: "generic" };
}

/**
 * The health an Application's `status.resources` lists for one object: assessHealth's, except for an
 * object no rule has anything to say about (the generic rule found no condition and no generation to
 * observe: a ConfigMap, a Secret, a Role), which has none, as in Argo CD (gitops-engine's
 * `GetResourceHealth` returns nil for a kind without a health check, and the status leaves `health` out).
 */
export function resourceHealth(live: Manifest | undefined, opts: AssessHealthOptions = {}): HealthResult | undefined {
  const { result, rule } = explainHealth(live, opts);
  return rule === "generic" && live !== undefined && result.status === "Healthy" && guardedSignal(live) === undefined ? undefined : result;
}

function guardedSignal(live: Manifest): HealthResult | undefined {
  try {
    return genericSignal(live);
  } catch {
    return health("Unknown");
  }
}

function guarded(key: string, check: () => HealthResult): HealthResult {
  try {
    return check();
  } catch (err) {
    return health("Unknown", `Health check for ${key} failed: ${errorMessage(err)}`);
  }
}

/** `group/Kind`, or `Kind` for the core group (apiVersion `v1`). */
export function kindKey(obj: Manifest): string {
  const slash = obj.apiVersion.indexOf("/");
  return slash < 0 ? obj.kind : `${obj.apiVersion.slice(0, slash)}/${obj.kind}`;
}

/** Names the finalizers still holding the object, because a stuck deletion is almost always one of them. */
function pendingDeletion(live: Manifest): HealthResult {
  const finalizers = list(live, "metadata", "finalizers").filter((f): f is string => typeof f === "string");
  return health("Progressing", finalizers.length > 0 ? `Pending deletion: waiting for finalizers ${finalizers.join(", ")}` : "Pending deletion");
}
