// The shapes the UI's JSON API sends and the list filter, shared with the browser (ui/src imports
// this file). No imports: the browser bundle must not pull in the agent.

/** Identity of one object, as agent/api/types.ts spells it. */
export interface ObjectRef {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** One row of the applications list. */
export interface AppSummary {
  readonly name: string;
  readonly project: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly sync: string;
  readonly health: string;
  readonly healthMessage?: string;
  readonly revision?: string;
  readonly targetRevision: string;
  readonly repoURL: string;
  readonly path?: string;
  readonly destination: { readonly server?: string; readonly namespace?: string };
  readonly automated: boolean;
  readonly lastSync?: string;
  readonly operationPhase?: string;
  readonly deleting: boolean;
}

export interface HistoryView {
  readonly id: number;
  readonly revision: string;
  readonly deployedAt: string;
}

/** The application page: the summary plus what only one application needs. */
export interface AppDetail extends AppSummary {
  readonly conditions: readonly { readonly type: string; readonly message: string; readonly lastTransitionTime?: string }[];
  readonly operationState?: { readonly phase: string; readonly message?: string; readonly startedAt?: string; readonly finishedAt?: string };
  readonly operationRequested: boolean;
  readonly history: readonly HistoryView[];
  readonly cascadeDelete: boolean;
  readonly selfHeal: boolean;
  readonly prune: boolean;
}

/** One object in an application's tree: a managed one (from the status) or one created by another. */
export interface TreeNode {
  /** `group/version/kind/namespace/name`, as the inventory spells it. */
  readonly key: string;
  readonly ref: ObjectRef;
  /** Keys of the objects that own this one (owner references; a Service for its Endpoints). */
  readonly parents: readonly string[];
  /** True for objects the Application applies from Git; false for those created by them. */
  readonly managed: boolean;
  readonly sync?: string;
  readonly health?: string;
  readonly healthMessage?: string;
  readonly hook?: string;
  readonly wave?: number;
  /** The child Application's name, for a managed Application (app-of-apps). */
  readonly application?: string;
  readonly createdAt?: string;
  readonly exists: boolean;
}

/** One object that differs between Git and the cluster (agent/ui/diff.ts). */
export interface ObjectDiffView {
  readonly key: string;
  readonly name: string;
  readonly diff: string;
  readonly change: "create" | "update" | "prune";
}

/** One Kubernetes Event, as `kubectl describe` shows them. */
export interface EventView {
  readonly type: string;
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly lastTimestamp?: string;
  readonly source?: string;
}

/** Matches the filters of the list page: project, sync, health, a `key=value` label and free text. */
export interface AppFilter {
  readonly project?: string;
  readonly sync?: string;
  readonly health?: string;
  readonly label?: string;
  readonly search?: string;
}

export function matches(app: AppSummary, filter: AppFilter): boolean {
  if (filter.project && app.project !== filter.project) return false;
  if (filter.sync && app.sync !== filter.sync) return false;
  if (filter.health && app.health !== filter.health) return false;
  if (filter.label && !labelMatches(app.labels, filter.label)) return false;
  const text = filter.search?.trim().toLowerCase();
  if (!text) return true;
  return [app.name, app.project, app.repoURL, app.path ?? "", app.destination.namespace ?? ""].some((f) => f.toLowerCase().includes(text));
}

/** `key=value`, or `key` alone for "has the label". */
function labelMatches(labels: Readonly<Record<string, string>>, selector: string): boolean {
  const [key = "", value] = selector.split("=", 2).map((s) => s.trim());
  if (!(key in labels)) return false;
  return value === undefined || labels[key] === value;
}
