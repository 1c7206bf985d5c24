// The tether.dev/v1alpha1 API as TypeScript types. The CRD schemas in crds.ts describe the same shapes.
import type { KubernetesObject } from "@kubernetes/client-node";

export const GROUP = "tether.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const DEFAULT_NAMESPACE = "tether-system";
export const FIELD_MANAGER = "tether";
export const FINALIZER = "tether.dev/resources-finalizer";

/** Label and annotation put on every managed object, naming its Application as `namespace/name`... */
export const TRACKING_LABEL = "tether.dev/app";
/** ...and `namespace_name:group/kind:objnamespace/objname`, so a copied label cannot claim an object. */
export const TRACKING_ANNOTATION = "tether.dev/tracking-id";
export const REFRESH_ANNOTATION = "tether.dev/refresh";
export const SYNC_WAVE_ANNOTATIONS = ["tether.dev/sync-wave", "argocd.argoproj.io/sync-wave"] as const;
export const HOOK_ANNOTATIONS = ["tether.dev/hook", "argocd.argoproj.io/hook"] as const;
export const SYNC_OPTIONS_ANNOTATIONS = ["tether.dev/sync-options", "argocd.argoproj.io/sync-options"] as const;

export type SyncStatusCode = "Synced" | "OutOfSync" | "Unknown";
export type HealthStatusCode = "Healthy" | "Progressing" | "Degraded" | "Suspended" | "Missing" | "Unknown";
export type OperationPhase = "Running" | "Succeeded" | "Failed" | "Error";

export interface DirectorySource {
  readonly recurse?: boolean;
  /** Glob (or `{a,b}` list of globs) of files to include, relative to the source path. */
  readonly include?: string;
  readonly exclude?: string;
}

export interface KustomizeSource {
  readonly namePrefix?: string;
  readonly nameSuffix?: string;
  readonly images?: readonly string[];
  readonly commonLabels?: Readonly<Record<string, string>>;
}

export interface HelmSource {
  readonly releaseName?: string;
  readonly valueFiles?: readonly string[];
  readonly values?: string;
  readonly valuesObject?: Readonly<Record<string, unknown>>;
}

export interface ApplicationSource {
  readonly repoURL: string;
  readonly targetRevision?: string;
  readonly path?: string;
  readonly directory?: DirectorySource;
  readonly kustomize?: KustomizeSource;
  readonly helm?: HelmSource;
  readonly decryption?: { readonly secretRef?: { readonly name: string } };
}

export interface ApplicationDestination {
  readonly server?: string;
  readonly namespace?: string;
}

export interface SyncPolicy {
  readonly automated?: { readonly prune?: boolean; readonly selfHeal?: boolean; readonly allowEmpty?: boolean };
  readonly syncOptions?: readonly string[];
  readonly retry?: { readonly limit?: number; readonly backoff?: { readonly duration?: string; readonly factor?: number; readonly maxDuration?: string } };
}

export interface ResourceIgnoreDifferences {
  readonly group?: string;
  readonly kind: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly jsonPointers?: readonly string[];
}

export interface ApplicationSpec {
  readonly project?: string;
  readonly source: ApplicationSource;
  readonly destination: ApplicationDestination;
  readonly syncPolicy?: SyncPolicy;
  readonly ignoreDifferences?: readonly ResourceIgnoreDifferences[];
  readonly revisionHistoryLimit?: number;
}

/** Identity of one object: what the inventory, status and matching are keyed by. */
export interface ObjectRef {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

export interface ResourceStatus extends ObjectRef {
  readonly status: SyncStatusCode;
  readonly health?: { readonly status: HealthStatusCode; readonly message?: string };
}

export interface Condition {
  readonly type: string;
  readonly message: string;
  readonly lastTransitionTime: string;
}

export interface ApplicationStatus {
  sync?: { status: SyncStatusCode; revision?: string };
  health?: { status: HealthStatusCode; message?: string };
  resources?: ResourceStatus[];
  operationState?: { phase: OperationPhase; message?: string; startedAt?: string; finishedAt?: string; syncResult?: { revision?: string } };
  history?: { id: number; revision: string; deployedAt: string }[];
  conditions?: Condition[];
  reconciledAt?: string;
  /** The objects this Application applied, as `group/version/kind/namespace/name`: what prune compares against. */
  inventory?: string[];
  /** Render key of the last successful render (commit + options), so an unchanged commit is not rendered again. */
  observedRenderKey?: string;
}

export interface Application extends KubernetesObject {
  spec: ApplicationSpec;
  status?: ApplicationStatus;
  /** A requested sync, as Argo CD does: written by `tether app sync`, cleared by the agent. */
  operation?: { sync?: { prune?: boolean; dryRun?: boolean; revision?: string }; initiatedBy?: { username?: string } };
}

export interface AppProjectSpec {
  readonly description?: string;
  readonly sourceRepos?: readonly string[];
  readonly destinations?: readonly { readonly server?: string; readonly namespace?: string }[];
  readonly clusterResourceWhitelist?: readonly { readonly group: string; readonly kind: string }[];
  readonly clusterResourceBlacklist?: readonly { readonly group: string; readonly kind: string }[];
  readonly namespaceResourceWhitelist?: readonly { readonly group: string; readonly kind: string }[];
  readonly namespaceResourceBlacklist?: readonly { readonly group: string; readonly kind: string }[];
}

export interface AppProject extends KubernetesObject {
  spec: AppProjectSpec;
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
