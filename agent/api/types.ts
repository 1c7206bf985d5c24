// The tether.dev/v1alpha1 API: constants, and the types that schema.ts defines together with the CRD schemas.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { ApplicationSetSpecFields, ApplicationSetStatus, ApplicationSpec, ApplicationStatus, AppProjectSpec, AppProjectStatus, Operation } from "./schema.ts";

export const GROUP = "tether.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const DEFAULT_NAMESPACE = "tether-system";
export const FIELD_MANAGER = "tether";
export const FINALIZER = "tether.dev/resources-finalizer";
/**
 * Put on an Application whose render holds PostDelete hooks (Argo CD's post-delete-finalizer): its
 * deletion runs them once the app's resources are gone. Removing it by hand deletes the app without them.
 */
export const POST_DELETE_FINALIZER = "post-delete-finalizer.tether.dev";
/**
 * Put on an Application whose render holds PreDelete hooks (Argo CD 3.x's pre-delete-finalizer): its
 * deletion runs them, and waits for them to succeed, before anything of the app is deleted.
 */
export const PRE_DELETE_FINALIZER = "pre-delete-finalizer.tether.dev";

/** Label and annotation put on every managed object, naming its Application as `namespace/name`... */
export const TRACKING_LABEL = "tether.dev/app";
/** ...and `namespace_name:group/kind:objnamespace/objname`, so a copied label cannot claim an object. */
export const TRACKING_ANNOTATION = "tether.dev/tracking-id";
export const REFRESH_ANNOTATION = "tether.dev/refresh";
/** Argo CD Notifications' record of what was sent about an Application (agent/notify): not a change to reconcile. */
export const NOTIFIED_ANNOTATION = "notified.notifications.argoproj.io";
/** On a hook an operation created: the operation's start, so an agent that resumes it finds its hooks instead of recreating them. */
export const HOOK_OPERATION_ANNOTATION = "tether.dev/hook-operation";
/** `"true"` stops automated sync and self-heal (`tether app suspend`); a requested sync still runs. */
export const SUSPEND_ANNOTATION = "tether.dev/suspend";
/**
 * Written by a rollback (`tether app rollback`, the UI): `{"id", "revision", "automated"}`, the
 * automated policy it turned off. While automated sync stays off the app shows condition `RolledBack`
 * with the command that turns it back on.
 */
export const ROLLBACK_ANNOTATION = "tether.dev/rolled-back";
export const SYNC_WAVE_ANNOTATIONS = ["tether.dev/sync-wave", "argocd.argoproj.io/sync-wave"] as const;
export const HOOK_ANNOTATIONS = ["tether.dev/hook", "argocd.argoproj.io/hook"] as const;
export const SYNC_OPTIONS_ANNOTATIONS = ["tether.dev/sync-options", "argocd.argoproj.io/sync-options"] as const;
export const COMPARE_OPTIONS_ANNOTATIONS = ["tether.dev/compare-options", "argocd.argoproj.io/compare-options"] as const;
export const HOOK_DELETE_POLICY_ANNOTATIONS = ["tether.dev/hook-delete-policy", "argocd.argoproj.io/hook-delete-policy"] as const;
/** Helm's hook annotations, mapped as Argo CD maps them (agent/apply/hooks.ts). */
export const HELM_HOOK_ANNOTATION = "helm.sh/hook";
export const HELM_HOOK_WEIGHT_ANNOTATION = "helm.sh/hook-weight";
export const HELM_HOOK_DELETE_POLICY_ANNOTATION = "helm.sh/hook-delete-policy";

export type {
  DirectorySource, KustomizeSource, HelmSource, ApplicationSource, ApplicationDestination, SyncPolicy, RetryPolicy,
  ResourceIgnoreDifferences, ApplicationSpec, SyncStatusCode, HealthStatusCode, OperationPhase, ObjectRef, ResourceStatus,
  Condition, OperationState, ResourceResult, HistoryEntry, ApplicationStatus, Operation, AppProjectSpec, SyncOperationResource, OperationTask,
  ApplicationSetSpecFields, ApplicationSetStatus, AppSetCondition, AppSetApplicationStatus, AppSetResourceStatus, RollingSyncStep,
  AppProjectStatus, JwtToken,
} from "./schema.ts";

export interface Application extends KubernetesObject {
  spec: ApplicationSpec;
  status?: ApplicationStatus;
  /** A requested sync, as Argo CD does: written by `tether app sync`, cleared by the agent. */
  operation?: Operation;
}

/** An ApplicationSet: generators → parameters → templated Applications it owns (agent/appset). */
export interface ApplicationSet extends KubernetesObject {
  spec: ApplicationSetSpecFields;
  status?: ApplicationSetStatus;
}

/** Argo CD's annotation asking the ApplicationSet controller to generate again now; it removes it after. */
export const APPSET_REFRESH_ANNOTATION = "argocd.argoproj.io/application-set-refresh";

export interface AppProject extends KubernetesObject {
  spec: AppProjectSpec;
  status?: AppProjectStatus;
}

/** A manifest as rendered from Git or read from the cluster: plain JSON. */
export interface Manifest extends KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}
