// The tether.dev/v1alpha1 API, defined once: each TypeBox schema below is both the CRD's OpenAPI v3
// schema (crds.ts serialises it) and, through `Static`, the TypeScript type the code reads. A field
// added here is in the CRD and the types at once; `schema.test.ts` fails when a spec field is read nowhere.
import { Type, type Static, type TSchema } from "@sinclair/typebox";

const str = (description?: string) => Type.String(description ? { description } : {});
const opt = <T extends TSchema>(schema: T) => Type.Optional(schema);
const strings = () => Type.Array(Type.String());
const stringMap = () => Type.Unsafe<Record<string, string>>({ type: "object", additionalProperties: { type: "string" } });
/** An object the API server keeps as written (Helm values, operation state). */
const free = <T = Record<string, unknown>>() => Type.Unsafe<T>({ type: "object", "x-kubernetes-preserve-unknown-fields": true });

const JsonnetVarSchema = Type.Object({ name: Type.String(), value: Type.String(), code: opt(Type.Boolean({ description: "The value is Jsonnet code, not a string." })) });

export const DirectorySourceSchema = Type.Object({
  recurse: opt(Type.Boolean()),
  include: opt(str("Glob (or {a,b} list of globs) of files to include, relative to the source path.")),
  exclude: opt(str()),
  jsonnet: opt(Type.Object({
    extVars: opt(Type.Array(JsonnetVarSchema)),
    tlas: opt(Type.Array(JsonnetVarSchema)),
    libs: opt(strings()),
  }, { description: "How *.jsonnet files are evaluated: external variables, top-level arguments, library directories (from the repository root)." })),
});

/** A Kubernetes int-or-string (`2` or `"2"`). */
const intOrString = () => Type.Unsafe<number | string>({ "x-kubernetes-int-or-string": true });

export const KustomizePatchSchema = Type.Object({
  path: opt(str("A patch file, relative to the kustomization directory.")),
  patch: opt(str("An inline strategic-merge or JSON 6902 patch.")),
  target: opt(Type.Object({
    group: opt(str()), version: opt(str()), kind: opt(str()), name: opt(str()), namespace: opt(str()),
    labelSelector: opt(str()), annotationSelector: opt(str()),
  })),
  options: opt(Type.Unsafe<Record<string, boolean>>({ type: "object", additionalProperties: { type: "boolean" } })),
});

export const KustomizeSourceSchema = Type.Object({
  namePrefix: opt(str()),
  nameSuffix: opt(str()),
  namespace: opt(str("Sets the namespace of every object (kustomize edit set namespace).")),
  images: opt(strings()),
  commonLabels: opt(stringMap()),
  commonAnnotations: opt(stringMap()),
  replicas: opt(Type.Array(Type.Object({ name: Type.String(), count: intOrString() }), { description: "Replica counts by Deployment/StatefulSet name." })),
  patches: opt(Type.Array(KustomizePatchSchema, { description: "Appended to the kustomization's patches, as Argo CD does." })),
});

export const HelmSourceSchema = Type.Object({
  releaseName: opt(str()),
  valueFiles: opt(strings()),
  values: opt(str()),
  valuesObject: opt(free()),
  parameters: opt(Type.Array(Type.Object({
    name: Type.String(), value: Type.String(),
    forceString: opt(Type.Boolean({ description: "Pass with --set-string: the value stays a string." })),
  }), { description: "Values set with --set (after value files and inline values)." })),
  fileParameters: opt(Type.Array(Type.Object({
    name: Type.String(), path: str("A file of the repository, relative to the chart directory."),
  }), { description: "Values read from files with --set-file." })),
  skipCrds: opt(Type.Boolean({ description: "Leave out the chart's crds/ directory." })),
  version: opt(str("Helm major version; only v3 exists here.")),
  kubeVersion: opt(str("Helm's --kube-version (.Capabilities.KubeVersion), instead of the destination cluster's version, as Argo CD.")),
  apiVersions: opt(Type.Array(Type.String(), {
    description: "Helm's --api-versions (.Capabilities.APIVersions: group/version and group/version/Kind), instead of what the destination serves.",
  })),
});

export const ApplicationSourceSchema = Type.Object({
  repoURL: str("Git repository URL (https://, ssh, file:// or a path), or with chart: a Helm chart repository (https://) or OCI registry (oci://host/path or host/path)."),
  targetRevision: opt(str("Branch, tag, commit SHA (full or short) or HEAD. Default HEAD.")),
  path: opt(str("Directory inside the repository. Default: the repository root.")),
  chart: opt(str("A chart of the Helm chart repository or OCI registry repoURL; targetRevision is its version or a semver constraint.")),
  directory: opt(DirectorySourceSchema),
  kustomize: opt(KustomizeSourceSchema),
  helm: opt(HelmSourceSchema),
  ref: opt(str("With spec.sources: names this source's checkout for other sources' Helm value files ($ref/path).")),
  decryption: opt(Type.Object({ secretRef: opt(Type.Object({ name: Type.String() })) })),
});

export const ApplicationDestinationSchema = Type.Object({
  server: opt(str("API server URL; https://kubernetes.default.svc is the agent's own cluster.")),
  name: opt(str("Cluster name from a cluster Secret; in-cluster is the agent's own cluster.")),
  namespace: opt(str()),
});

export const RetrySchema = Type.Object({
  limit: opt(Type.Integer({ description: "Attempts after the first failure; negative retries forever." })),
  backoff: opt(Type.Object({
    duration: opt(str("First delay, e.g. 5s (default).")),
    factor: opt(Type.Integer({ description: "Multiplier per attempt (default 2)." })),
    maxDuration: opt(str("Longest delay, e.g. 3m (default).")),
  })),
});

export const SyncPolicySchema = Type.Object({
  automated: opt(Type.Object({ prune: opt(Type.Boolean()), selfHeal: opt(Type.Boolean()), allowEmpty: opt(Type.Boolean()) })),
  syncOptions: opt(strings()),
  managedNamespaceMetadata: opt(Type.Object({ labels: opt(stringMap()), annotations: opt(stringMap()) },
    { description: "With CreateNamespace=true: labels and annotations set on the destination namespace." })),
  retry: opt(RetrySchema),
});

export const IgnoreDifferencesSchema = Type.Object({
  group: opt(str()),
  kind: Type.String(),
  name: opt(str()),
  namespace: opt(str()),
  jsonPointers: opt(strings()),
  jqPathExpressions: opt(Type.Array(Type.String(), { description: "jq paths of fields to ignore: paths, pipes and select(PATH == VALUE) (and/or); anything else is refused with InvalidSpecError." })),
  managedFieldsManagers: opt(Type.Array(Type.String(), { description: "Fields the live object's managedFields give to these managers (an autoscaler, a mutating webhook) are ignored, as in Argo CD." })),
});

export const ApplicationSpecSchema = Type.Object({
  project: opt(Type.String({ default: "default" })),
  source: opt(ApplicationSourceSchema),
  sources: opt(Type.Array(ApplicationSourceSchema, { description: "Several sources merged into one app (Argo CD 2.6+); wins over source. One of source and sources is required." })),
  destination: ApplicationDestinationSchema,
  syncPolicy: opt(SyncPolicySchema),
  ignoreDifferences: opt(Type.Array(IgnoreDifferencesSchema)),
  revisionHistoryLimit: opt(Type.Integer({ minimum: 0 })),
});

const SyncStatusCodeSchema = Type.Union([Type.Literal("Synced"), Type.Literal("OutOfSync"), Type.Literal("Unknown")]);
const HealthStatusCodeSchema = Type.Union([Type.Literal("Healthy"), Type.Literal("Progressing"), Type.Literal("Degraded"),
  Type.Literal("Suspended"), Type.Literal("Missing"), Type.Literal("Unknown")]);
const OperationPhaseSchema = Type.Union([Type.Literal("Running"), Type.Literal("Succeeded"), Type.Literal("Failed"), Type.Literal("Error")]);
const HealthSchema = Type.Object({ status: HealthStatusCodeSchema, message: opt(str()) });

export const ObjectRefSchema = Type.Object({
  group: Type.String(),
  version: Type.String(),
  kind: Type.String(),
  namespace: opt(str()),
  name: Type.String(),
});

/**
 * One entry of `status.resources`, as Argo CD writes it: `group` left out for the core group and `health`
 * for a kind without a health check (Go's `omitempty`), which keeps a 5,000-object app's status small.
 */
export const ResourceStatusSchema = Type.Object({
  group: opt(str()), version: Type.String(), kind: Type.String(), namespace: opt(str()), name: Type.String(),
  status: SyncStatusCodeSchema, health: opt(HealthSchema),
});

export const ConditionSchema = Type.Object({ type: Type.String(), message: Type.String(), lastTransitionTime: Type.String() });

const lit = <T extends string>(...values: T[]) => Type.Union(values.map((v) => Type.Literal(v)));

/** What a sync operation did to one object or hook, as Argo CD's `syncResult.resources[]` says it. */
export const ResourceResultSchema = Type.Composite([ObjectRefSchema, Type.Object({
  status: lit("Synced", "SyncFailed", "Pruned", "PruneSkipped"),
  message: opt(str()),
  /** Set for hooks: the hook type it ran as, and how far it got. */
  hookType: opt(lit("PreSync", "Sync", "PostSync", "SyncFail", "PreDelete", "PostDelete")),
  hookPhase: opt(OperationPhaseSchema),
  syncPhase: opt(lit("PreSync", "Sync", "PostSync", "SyncFail")),
})]);

/** One step of an operation as planned when it started: its phase and wave, how many objects it applies, the hooks it runs. */
export const OperationTaskSchema = Type.Object({
  phase: lit("PreSync", "Sync", "Prune", "PostSync", "SyncFail"),
  wave: Type.Integer(),
  objects: opt(Type.Integer()),
  hooks: opt(Type.Array(Type.String({ description: "KIND/NAMESPACE/NAME, generated names included." }))),
});

export const OperationStateSchema = Type.Object({
  phase: OperationPhaseSchema,
  message: opt(str()),
  startedAt: opt(str()),
  finishedAt: opt(str()),
  /** How many retries `syncPolicy.retry` has spent on this operation. */
  retryCount: opt(Type.Integer()),
  /** The operation this state is of (Argo CD's `operationState.operation`): the request, or an automated sync. */
  operation: opt(free()),
  /** The steps planned when the operation started (written before its first side effect). */
  tasks: opt(Type.Array(OperationTaskSchema)),
  syncResult: opt(Type.Object({
    revision: opt(str()), revisions: opt(Type.Array(Type.String())), resources: opt(Type.Array(ResourceResultSchema)),
    renderKey: opt(str("What the operation synced (commit + every render input): an automated sync does not repeat it after a failure.")),
  })),
}, { "x-kubernetes-preserve-unknown-fields": true });

export const HistoryEntrySchema = Type.Object({
  id: Type.Integer(),
  revision: Type.String({ description: "The revision deployed; with several sources, the first source's (revisions has all)." }),
  revisions: opt(Type.Array(Type.String(), { description: "With spec.sources: one revision per source (commit SHA or chart version), as Argo CD." })),
  source: opt(free()),
  sources: opt(Type.Array(free())),
  deployedAt: Type.String(),
  initiatedBy: opt(Type.Object({ username: opt(str()), automated: opt(Type.Boolean()) })),
});

export const ApplicationStatusSchema = Type.Object({
  sync: opt(Type.Object({
    status: SyncStatusCodeSchema, revision: opt(str()),
    revisions: opt(Type.Array(Type.String(), { description: "With spec.sources: one revision per source, as Argo CD." })),
  })),
  health: opt(HealthSchema),
  resources: opt(Type.Array(ResourceStatusSchema)),
  operationState: opt(OperationStateSchema),
  history: opt(Type.Array(HistoryEntrySchema)),
  conditions: opt(Type.Array(ConditionSchema)),
  reconciledAt: opt(str()),
  inventory: opt(Type.Array(Type.String(), {
    description: "Before inventoryFromResources: every object this Application owns (namespace_name_group_kind_version). Read when present; the next status replaces it.",
  })),
  inventoryFromResources: opt(Type.Object({
    except: opt(Type.Array(Type.String(), { description: "Objects status.resources lists that the app does not own (another app's, a create that failed, not applied yet)." })),
    only: opt(Type.Array(Type.String(), { description: "Instead of except when shorter: the objects status.resources lists that the app owns." })),
    also: opt(Type.Array(Type.String(), { description: "Objects the app owns that status.resources does not list (gone from the cluster and from Git)." })),
  }, { description: "What prune may delete: the objects of status.resources (except these, or only those), plus also; entries namespace_name_group_kind_version." })),
  observedRenderKey: opt(str("Key of the last successful render (commit + every render input).")),
  sourceCredential: opt(str("The repository credential Secret (namespace/name, never its value) the source was fetched with.")),
});

/** One entry of `operation.sync.resources` (Argo CD's SyncOperationResource): `*` matches anything, an empty namespace any namespace. */
export interface SyncOperationResource {
  readonly group?: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  /** `!GROUP:KIND:NAME`: everything but this. */
  readonly exclude?: boolean;
}

export const OperationSchema = free<{
  /** `revisions`: with spec.sources, one per source (a rollback to a history entry), as Argo CD. */
  sync?: { prune?: boolean; dryRun?: boolean; revision?: string; revisions?: string[]; resources?: SyncOperationResource[] };
  initiatedBy?: { username?: string; automated?: boolean };
}>();

/** A project role's token as Argo CD lists it: issued at, expiry (0 or absent: none) and id, never the token itself. */
const JwtTokenSchema = Type.Object({ iat: Type.Integer(), exp: opt(Type.Integer()), id: opt(str()) });

/**
 * Tokens `tether proj role create-token` issued, by role (Argo CD's status.jwtTokensByRole): kept out of
 * spec so an AppProject applied from Git keeps them.
 */
export const AppProjectStatusSchema = Type.Object({
  jwtTokensByRole: opt(Type.Unsafe<Record<string, { items?: Static<typeof JwtTokenSchema>[] }>>({
    type: "object", additionalProperties: { type: "object", properties: { items: { type: "array", items: wire(JwtTokenSchema) } } },
  })),
});

export const AppProjectSpecSchema = Type.Object({
  description: opt(str()),
  sourceRepos: opt(strings()),
  destinations: opt(Type.Array(Type.Object({ server: opt(str()), name: opt(str()), namespace: opt(str()) }))),
  clusterResourceWhitelist: opt(Type.Array(Type.Object({ group: Type.String(), kind: Type.String() }))),
  clusterResourceBlacklist: opt(Type.Array(Type.Object({ group: Type.String(), kind: Type.String() }))),
  namespaceResourceWhitelist: opt(Type.Array(Type.Object({ group: Type.String(), kind: Type.String() }))),
  namespaceResourceBlacklist: opt(Type.Array(Type.Object({ group: Type.String(), kind: Type.String() }))),
  destinationServiceAccounts: opt(Type.Array(Type.Object({
    server: opt(str("Destination server glob.")),
    namespace: opt(str("Destination namespace glob.")),
    defaultServiceAccount: str("ServiceAccount to apply and prune as: NAME (in the destination namespace) or NAMESPACE:NAME."),
  }), { description: "Impersonation as Argo CD 2.13+: the first entry matching the destination names the ServiceAccount the sync runs as." })),
  decryptionKeys: opt(Type.Array(Type.String(), {
    description: "Key Secrets (in the agent namespace; names or globs, ! denies) the project's apps may decrypt SOPS files with, by decryption.secretRef or the default tether-sops. Beyond Argo CD.",
  })),
  roles: opt(Type.Array(Type.Object({
    name: str("The role, addressed as proj:<project>:<role> in policies."),
    description: opt(str()),
    policies: opt(Type.Array(Type.String(), { description: "Casbin lines 'p, proj:<project>:<role>, applications, sync, <project>/*, allow', as Argo CD." })),
    groups: opt(Type.Array(Type.String(), { description: "OIDC groups given this role." })),
    jwtTokens: opt(Type.Array(JwtTokenSchema, { description: "Tokens issued for the role, written in Git; one removed here is refused at once." })),
  }), { description: "Project roles for people (groups) and CI (tokens), Argo CD's AppProject roles." })),
  childProjects: opt(Type.Array(Type.String(), {
    description: "Projects (names or globs, ! denies) that Applications rendered by this project's apps (app-of-apps) may name; without it only this project. Beyond Argo CD.",
  })),
});

/** A label expression of a RollingSync step (Argo CD's ApplicationMatchExpression: `In` / `NotIn`). */
const MatchExpressionSchema = Type.Object({ key: Type.String(), operator: Type.String(), values: opt(strings()) });

/**
 * An ApplicationSet (Argo CD's spec). `generators` and `template` are kept as written and checked by
 * agent/appset/generate's parseApplicationSetSpec, which names the field at fault.
 */
export const ApplicationSetSpecSchema = Type.Object({
  generators: Type.Array(free(), { description: "List, clusters, git, matrix, merge, plugin generators, as Argo CD's." }),
  template: free(),
  templatePatch: opt(str("A Go template of a patch merged into each generated Application (goTemplate only).")),
  goTemplate: opt(Type.Boolean({ description: "Go text/template with Sprig; otherwise fasttemplate {{param}}." })),
  goTemplateOptions: opt(Type.Array(Type.String(), { description: "e.g. missingkey=error." })),
  syncPolicy: opt(Type.Object({
    applicationsSync: opt(lit("create-only", "create-update", "create-delete", "sync")),
    preserveResourcesOnDeletion: opt(Type.Boolean({ description: "Generated Applications get no resources finalizer: deleting the set or an app leaves its objects." })),
  })),
  strategy: opt(Type.Object({
    type: opt(lit("AllAtOnce", "RollingSync")),
    rollingSync: opt(Type.Object({
      steps: opt(Type.Array(Type.Object({ matchExpressions: opt(Type.Array(MatchExpressionSchema)), maxUpdate: opt(intOrString()) }))),
    })),
  })),
  preservedFields: opt(Type.Object({ annotations: opt(strings()), labels: opt(strings()) },
    { description: "Annotations and labels of generated Applications that others may change: kept as they are live." })),
});

const AppSetConditionSchema = Type.Object({
  type: Type.String(), status: lit("True", "False", "Unknown"), reason: Type.String(), message: Type.String(), lastTransitionTime: opt(str()),
});

export const ApplicationSetStatusSchema = Type.Object({
  conditions: opt(Type.Array(AppSetConditionSchema)),
  resources: opt(Type.Array(Type.Object({
    group: opt(str()), version: opt(str()), kind: opt(str()), name: Type.String(), namespace: opt(str()),
    status: opt(str("The Application's sync status.")), health: opt(Type.Object({ status: opt(str()), message: opt(str()) })),
  }))),
  applicationStatus: opt(Type.Array(Type.Object({
    application: Type.String(), status: lit("Waiting", "Pending", "Progressing", "Healthy"), message: Type.String(),
    step: Type.String(), lastTransitionTime: opt(str()), targetRevisions: opt(strings()),
  }), { description: "RollingSync: where each generated Application is in the rollout." })),
});

/** A CRD's top-level schema: apiVersion, kind, metadata, then the given fields. */
export function resourceSchema(fields: Record<string, TSchema>, required: readonly string[]): Record<string, unknown> {
  return wire(Type.Object({ apiVersion: opt(str()), kind: opt(str()), metadata: opt(Type.Unsafe({ type: "object" })), ...fields }, { required: [...required] }));
}

/**
 * The schema as JSON the API server accepts: TypeBox's symbol keys dropped, a union of string literals
 * as an `enum` (structural schemas have no `const`), and empty `required` lists left out.
 */
export function wire(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema, (key, value: unknown) => {
    if (key === "required" && Array.isArray(value) && value.length === 0) return undefined;
    const anyOf = (value as { anyOf?: { const?: unknown }[] } | null)?.anyOf;
    if (anyOf?.every((s) => typeof s.const === "string")) {
      const rest: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      delete rest.anyOf;
      return { ...rest, type: "string", enum: anyOf.map((s) => s.const) };
    }
    return value;
  })) as Record<string, unknown>;
}

export type DirectorySource = Static<typeof DirectorySourceSchema>;
export type KustomizeSource = Static<typeof KustomizeSourceSchema>;
export type HelmSource = Static<typeof HelmSourceSchema>;
export type ApplicationSource = Static<typeof ApplicationSourceSchema>;
export type ApplicationDestination = Static<typeof ApplicationDestinationSchema>;
export type SyncPolicy = Static<typeof SyncPolicySchema>;
export type RetryPolicy = Static<typeof RetrySchema>;
export type ResourceIgnoreDifferences = Static<typeof IgnoreDifferencesSchema>;
export type ApplicationSpec = Static<typeof ApplicationSpecSchema>;
export type SyncStatusCode = Static<typeof SyncStatusCodeSchema>;
export type HealthStatusCode = Static<typeof HealthStatusCodeSchema>;
export type OperationPhase = Static<typeof OperationPhaseSchema>;
export type ObjectRef = Static<typeof ObjectRefSchema>;
export type ResourceStatus = Static<typeof ResourceStatusSchema>;
export type Condition = Static<typeof ConditionSchema>;
export type OperationState = Static<typeof OperationStateSchema>;
export type OperationTask = Static<typeof OperationTaskSchema>;
export type ResourceResult = Static<typeof ResourceResultSchema>;
export type HistoryEntry = Static<typeof HistoryEntrySchema>;
export type ApplicationStatus = Static<typeof ApplicationStatusSchema>;
export type Operation = Static<typeof OperationSchema>;
export type AppProjectSpec = Static<typeof AppProjectSpecSchema>;
export type ApplicationSetSpecFields = Static<typeof ApplicationSetSpecSchema>;
export type ApplicationSetStatus = Static<typeof ApplicationSetStatusSchema>;
export type AppSetCondition = Static<typeof AppSetConditionSchema>;
export type AppSetApplicationStatus = NonNullable<ApplicationSetStatus["applicationStatus"]>[number];
export type AppSetResourceStatus = NonNullable<ApplicationSetStatus["resources"]>[number];
export type RollingSyncStep = NonNullable<NonNullable<NonNullable<ApplicationSetSpecFields["strategy"]>["rollingSync"]>["steps"]>[number];
export type AppProjectStatus = Static<typeof AppProjectStatusSchema>;
export type JwtToken = Static<typeof JwtTokenSchema>;
