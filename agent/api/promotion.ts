// The promotion kinds of tether.dev/v1alpha1, with Kargo's (kargo.akuity.io/v1alpha1, the v0.7 API with
// Stage `subscriptions` and `promotionMechanisms`) field names: Warehouse → Freight → Stage, Promotion, and
// Project (Kargo's promotion project, not Argo CD's AppProject). Each TypeBox schema is the CRD's OpenAPI
// schema (crds.ts) and, through `Static`, the type agent/promote reads. As in Kargo, the objects of project
// P live in namespace P; Project is cluster-scoped.
import type { KubernetesObject } from "@kubernetes/client-node";
import { Type, type Static, type TSchema } from "@sinclair/typebox";

const str = (description?: string) => Type.String(description ? { description } : {});
const opt = <T extends TSchema>(schema: T) => Type.Optional(schema);
const lit = <T extends string>(...values: T[]) => Type.Union(values.map((v) => Type.Literal(v)));
/** A field the API server refuses to change once set: Freight is immutable. */
const immutable = <T extends TSchema>(schema: T, field: string) => Type.Unsafe<Static<T>>({
  ...schema, "x-kubernetes-validations": [{ rule: "self == oldSelf", message: `Freight is immutable: ${field} cannot change; a new artifact makes new Freight` }],
});

export const ImageSubscriptionSchema = Type.Object({
  repoURL: str("The image repository without a tag: host/path (127.0.0.1:5000/nginx), or a Docker Hub name (nginx)."),
  imageSelectionStrategy: opt(lit("SemVer", "Lexical", "NewestBuild", "Digest")),
  semverConstraint: opt(str("With SemVer (the default): only tags inside this range (^1.24.0, >=1.0.0 <2.0.0).")),
  allowTags: opt(str("A regular expression tags must match.")),
  ignoreTags: opt(Type.Array(Type.String(), { description: "Tags never selected." })),
  discoveryLimit: opt(Type.Integer({ minimum: 1, maximum: 100, description: "How many of the best tags become Freight candidates (default 20); the newest one becomes Freight." })),
});

export const WarehouseSpecSchema = Type.Object({
  subscriptions: Type.Array(Type.Object({ image: opt(ImageSubscriptionSchema) }), {
    description: "Image repositories to watch; each new selection makes one Freight of all their images.",
  }),
  interval: opt(str("How often the registries are polled (default 5m; Kargo's field).")),
});

const ConditionSchema = Type.Object({
  type: Type.String(), status: lit("True", "False", "Unknown"), reason: Type.String(), message: Type.String(), lastTransitionTime: opt(str()),
});

export const WarehouseStatusSchema = Type.Object({
  lastFreight: opt(Type.Object({ name: Type.String() })),
  discoveredAt: opt(str("When the registries were last read successfully.")),
  observedGeneration: opt(Type.Integer()),
  message: opt(str()),
  conditions: opt(Type.Array(ConditionSchema)),
});

// Bounded, so the API server can price the immutability rule (CEL's cost estimate).
export const FreightImageSchema = Type.Object({
  repoURL: Type.String({ maxLength: 512 }), tag: Type.String({ maxLength: 128 }), digest: opt(Type.String({ maxLength: 128 })),
});

export const FreightStatusSchema = Type.Object({
  verifiedIn: opt(Type.Unsafe<Record<string, { verifiedAt?: string; promotion?: string }>>({
    type: "object", additionalProperties: { type: "object", properties: { verifiedAt: { type: "string" }, promotion: { type: "string" } } },
    description: "Stages whose Applications were Synced and Healthy at the promoted revision with this Freight.",
  })),
  approvedFor: opt(Type.Unsafe<Record<string, object>>({
    type: "object", additionalProperties: { type: "object" },
    description: "Stages this Freight may be promoted to without being verified upstream (Kargo's manual approval).",
  })),
});

/** Freight's fields sit at the top level, as Kargo's do; its name is the hash of its artifacts. */
export const FreightFields = {
  alias: opt(str("A friendly name (the first image's tag).")),
  warehouse: immutable(Type.String({ maxLength: 253 }), "warehouse"),
  images: immutable(Type.Array(FreightImageSchema, { maxItems: 32 }), "images"),
  status: opt(FreightStatusSchema),
};

const KustomizeImageUpdateSchema = Type.Object({
  image: str("The image (repoURL of the Warehouse subscription) whose tag is written."),
  path: str("The directory of the kustomization.yaml, relative to the repository root."),
  useDigest: opt(Type.Boolean({ description: "Write image@digest instead of image:tag." })),
});

const HelmImageUpdateSchema = Type.Object({
  image: Type.String(),
  valuesFilePath: str("A values file relative to the repository root."),
  key: str("Dotted path of the value written (image.tag)."),
  value: lit("ImageAndTag", "Tag", "ImageAndDigest", "Digest"),
});

export const GitRepoUpdateSchema = Type.Object({
  repoURL: Type.String(),
  readBranch: opt(str("The branch the edit starts from (default: writeBranch itself, created from the default branch when missing).")),
  writeBranch: str("The stage's branch the promotion commits to (stage/test)."),
  kustomize: opt(Type.Object({ images: Type.Array(KustomizeImageUpdateSchema) })),
  helm: opt(Type.Object({ images: Type.Array(HelmImageUpdateSchema) })),
});

export const StageSpecSchema = Type.Object({
  subscriptions: Type.Object({
    warehouse: opt(str("Freight comes straight from this Warehouse.")),
    upstreamStages: opt(Type.Array(Type.Object({ name: Type.String() }), { description: "Freight comes from these Stages once they verified it." })),
  }),
  promotionMechanisms: opt(Type.Object({
    gitRepoUpdates: opt(Type.Array(GitRepoUpdateSchema)),
    argoCDAppUpdates: opt(Type.Array(Type.Object({
      appName: Type.String(),
      appNamespace: opt(str("Kargo's; argocd (or empty) is the agent namespace, where Tether's Applications live.")),
    }))),
  })),
});

export const FreightReferenceSchema = Type.Object({
  name: Type.String(),
  images: opt(Type.Array(FreightImageSchema)),
});

export const StageHistoryEntrySchema = Type.Composite([FreightReferenceSchema, Type.Object({
  promotion: Type.String(),
  commits: opt(Type.Array(Type.Object({ repoURL: Type.String(), branch: Type.String(), id: Type.String() }))),
  promotedAt: Type.String(),
  verifiedAt: opt(str()),
})]);

export const StageStatusSchema = Type.Object({
  phase: opt(lit("NotApplicable", "Steady", "Promoting", "Verifying")),
  currentFreight: opt(StageHistoryEntrySchema),
  history: opt(Type.Array(StageHistoryEntrySchema, { description: "What ran here, newest first (at most 10)." })),
  currentPromotion: opt(Type.Object({ name: Type.String(), freight: Type.String() })),
  health: opt(Type.Object({
    status: lit("Healthy", "Unhealthy", "Progressing", "Unknown"),
    issues: opt(Type.Array(Type.String())),
    argoCDApps: opt(Type.Array(Type.Object({
      namespace: Type.String(), name: Type.String(), syncStatus: opt(str()), revision: opt(str()), healthStatus: opt(str()),
    }))),
  })),
  message: opt(str()),
  conditions: opt(Type.Array(ConditionSchema)),
});

export const PromotionSpecSchema = Type.Object({
  stage: Type.String(),
  freight: str("The Freight's name (its id)."),
});

export const PromotionStatusSchema = Type.Object({
  phase: opt(lit("Pending", "Running", "Succeeded", "Failed", "Errored")),
  message: opt(str()),
  freight: opt(FreightReferenceSchema),
  commits: opt(Type.Array(Type.Object({ repoURL: Type.String(), branch: Type.String(), id: Type.String() }))),
  startedAt: opt(str()),
  finishedAt: opt(str()),
});

export const ProjectSpecSchema = Type.Object({
  promotionPolicies: opt(Type.Array(Type.Object({
    stage: Type.String(),
    autoPromotionEnabled: opt(Type.Boolean({ description: "New Freight available to the stage is promoted to it without a request." })),
  }))),
});

export const ProjectStatusSchema = Type.Object({ phase: opt(lit("Initializing", "InitializationFailed", "Ready")), message: opt(str()) });

export type ImageSubscription = Static<typeof ImageSubscriptionSchema>;
export type WarehouseSpec = Static<typeof WarehouseSpecSchema>;
export type WarehouseStatus = Static<typeof WarehouseStatusSchema>;
export type FreightImage = Static<typeof FreightImageSchema>;
export type FreightStatus = Static<typeof FreightStatusSchema>;
export type GitRepoUpdate = Static<typeof GitRepoUpdateSchema>;
export type StageSpec = Static<typeof StageSpecSchema>;
export type StageStatus = Static<typeof StageStatusSchema>;
export type StageHistoryEntry = Static<typeof StageHistoryEntrySchema>;
export type PromotionSpec = Static<typeof PromotionSpecSchema>;
export type PromotionStatus = Static<typeof PromotionStatusSchema>;
export type PromotionPhase = NonNullable<PromotionStatus["phase"]>;
export type ProjectSpec = Static<typeof ProjectSpecSchema>;
export type PromotionCondition = Static<typeof ConditionSchema>;

export interface Warehouse extends KubernetesObject { spec: WarehouseSpec; status?: WarehouseStatus }
export interface Freight extends KubernetesObject {
  alias?: string;
  warehouse: string;
  images: FreightImage[];
  status?: FreightStatus;
}
export interface Stage extends KubernetesObject { spec: StageSpec; status?: StageStatus }
export interface Promotion extends KubernetesObject { spec: PromotionSpec; status?: PromotionStatus }
export interface PromotionProject extends KubernetesObject { spec?: ProjectSpec; status?: Static<typeof ProjectStatusSchema> }

/** Kargo's API group, whose manifests in Git are taken as these kinds (agent/render/kargo.ts). */
export const KARGO_API_VERSION = "kargo.akuity.io/v1alpha1";
export const PROMOTION_KINDS = ["Warehouse", "Freight", "Stage", "Promotion", "Project"] as const;
