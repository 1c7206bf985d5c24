// The ApplicationSet spec as Argo CD spells it (argoproj.io/v1alpha1 ApplicationSetSpec), shared by the
// generators here and the controller, CRD and CLI.

/** Template metadata: every string may hold `{{...}}`. */
export interface ApplicationSetTemplateMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly finalizers?: readonly string[];
}

/** `spec.template` and the per-generator `template` overrides. */
export interface ApplicationSetTemplate {
  readonly metadata?: ApplicationSetTemplateMeta;
  readonly spec?: Readonly<Record<string, unknown>>;
}

/** metav1.LabelSelector. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  readonly values?: readonly string[];
}

export interface ListGenerator {
  readonly elements?: readonly unknown[];
  readonly elementsYaml?: string;
  readonly template?: ApplicationSetTemplate;
}

export interface ClusterGenerator {
  readonly selector?: LabelSelector;
  readonly values?: Readonly<Record<string, string>>;
  readonly template?: ApplicationSetTemplate;
  readonly flatList?: boolean;
}

export interface GitPathItem {
  readonly path: string;
  readonly exclude?: boolean;
}

export interface GitGenerator {
  readonly repoURL: string;
  readonly revision?: string;
  readonly directories?: readonly GitPathItem[];
  readonly files?: readonly GitPathItem[];
  readonly pathParamPrefix?: string;
  readonly values?: Readonly<Record<string, string>>;
  readonly requeueAfterSeconds?: number;
  readonly template?: ApplicationSetTemplate;
}

export interface PluginGenerator {
  readonly configMapRef: { readonly name: string };
  readonly input?: { readonly parameters?: Readonly<Record<string, unknown>> };
  readonly values?: Readonly<Record<string, string>>;
  readonly requeueAfterSeconds?: number;
  readonly template?: ApplicationSetTemplate;
}

export interface MatrixGenerator {
  readonly generators: readonly ApplicationSetGenerator[];
  readonly template?: ApplicationSetTemplate;
}

export interface MergeGenerator {
  readonly generators: readonly ApplicationSetGenerator[];
  readonly mergeKeys: readonly string[];
  readonly template?: ApplicationSetTemplate;
}

/** One entry of `spec.generators` (or of a matrix/merge's `generators`): exactly one kind, plus `selector`. */
export interface ApplicationSetGenerator {
  readonly list?: ListGenerator;
  readonly clusters?: ClusterGenerator;
  readonly git?: GitGenerator;
  readonly matrix?: MatrixGenerator;
  readonly merge?: MergeGenerator;
  readonly plugin?: PluginGenerator;
  /** Not built: a generator naming them fails with a message saying so. */
  readonly scmProvider?: Readonly<Record<string, unknown>>;
  readonly pullRequest?: Readonly<Record<string, unknown>>;
  readonly clusterDecisionResource?: Readonly<Record<string, unknown>>;
  /** A post-filter on the parameters each element produced (flattened, as Argo CD matches them). */
  readonly selector?: LabelSelector;
}

export type ApplicationsSyncPolicy = "create-only" | "create-update" | "create-delete" | "sync";

export interface RollingSyncStep {
  readonly matchExpressions?: ReadonlyArray<{
    readonly key: string;
    readonly operator: "In" | "NotIn";
    readonly values?: readonly string[];
  }>;
  /** An integer or a percentage (`"25%"`), as Argo CD's IntOrString. */
  readonly maxUpdate?: number | string;
}

export interface ApplicationSetSpec {
  readonly generators: readonly ApplicationSetGenerator[];
  readonly template: ApplicationSetTemplate;
  /** A Go (or fasttemplate) template whose output, YAML or JSON, is merged over each generated Application. */
  readonly templatePatch?: string;
  readonly goTemplate?: boolean;
  /** Go's template options; only `missingkey=...` exists. */
  readonly goTemplateOptions?: readonly string[];
  readonly syncPolicy?: {
    readonly applicationsSync?: ApplicationsSyncPolicy;
    readonly preserveResourcesOnDeletion?: boolean;
  };
  readonly strategy?: {
    readonly type?: "AllAtOnce" | "RollingSync";
    readonly rollingSync?: { readonly steps?: readonly RollingSyncStep[] };
    readonly deletionOrder?: string;
  };
  readonly ignoreApplicationDifferences?: ReadonlyArray<{
    readonly name?: string;
    readonly jsonPointers?: readonly string[];
    readonly jqPathExpressions?: readonly string[];
  }>;
  readonly preservedFields?: { readonly annotations?: readonly string[]; readonly labels?: readonly string[] };
  readonly applyNestedSelectors?: boolean;
}
