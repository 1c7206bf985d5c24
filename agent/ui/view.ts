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

/** Matches the filters of the list page: project, sync, health, a `key=value` label and free text; `name` is one app. */
export interface AppFilter {
  readonly name?: string;
  readonly project?: string;
  readonly sync?: string;
  readonly health?: string;
  readonly label?: string;
  readonly search?: string;
}

export function matches(app: AppSummary, filter: AppFilter): boolean {
  if (filter.name !== undefined && app.name !== filter.name) return false;
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

/** How the list is ordered: a column, ascending unless `desc`. Ties go by name. */
export const SORT_KEYS = ["name", "sync", "health", "project", "lastSync"] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** One page of the list as the browser asks for it: the filters, the order and the window. */
export interface AppQuery extends AppFilter {
  readonly sort?: SortKey;
  readonly desc?: boolean;
  readonly offset?: number;
  /** Rows per page; absent is every row. */
  readonly limit?: number;
}

/** One page of the list and what the page does not show. */
export interface AppPage {
  readonly items: readonly AppSummary[];
  /** Apps that match the filters (the pages together). */
  readonly matched: number;
  /** Apps the caller may see, filters aside. */
  readonly total: number;
  readonly offset: number;
  /** Projects among the apps the caller may see, sorted (the project filter's choices). */
  readonly projects: readonly string[];
}

/** The most rows one page holds, whatever is asked. */
export const MAX_PAGE = 500;

/** The page `query` asks for out of `apps`. Pure; O(n log n) in the matching apps. */
export function queryApps(apps: Iterable<AppSummary>, query: AppQuery): AppPage {
  const matching: AppSummary[] = [];
  const projects = new Set<string>();
  let total = 0;
  for (const app of apps) {
    total++;
    projects.add(app.project);
    if (matches(app, query)) matching.push(app);
  }
  const key = query.sort ?? "name";
  const sign = query.desc === true ? -1 : 1;
  matching.sort((a, b) => sign * (compareField(a, b, key) || compareText(a.name, b.name)));
  const offset = Math.max(0, Math.min(query.offset ?? 0, matching.length));
  const limit = Math.min(query.limit ?? matching.length, MAX_PAGE);
  return { items: matching.slice(offset, offset + Math.max(0, limit)), matched: matching.length, total, offset, projects: [...projects].sort() };
}

function compareField(a: AppSummary, b: AppSummary, key: SortKey): number {
  return compareText(a[key] ?? "", b[key] ?? "");
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The query a URL's parameters ask for (`?search=&project=&sync=&health=&label=&sort=&desc=1&offset=&limit=`). */
export function parseQuery(params: URLSearchParams): AppQuery {
  const text = (name: string) => params.get(name) ?? undefined;
  const count = (name: string) => {
    const n = Number(params.get(name) ?? "");
    return params.has(name) && Number.isInteger(n) && n >= 0 ? n : undefined;
  };
  const sort = SORT_KEYS.find((k) => k === params.get("sort"));
  const fields: Record<string, unknown> = {
    project: text("project"), sync: text("sync"), health: text("health"), label: text("label"), search: text("search"), name: text("name"),
    sort, desc: params.get("desc") === "1" ? true : undefined, offset: count("offset"), limit: count("limit"),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== ""));
}

/** The URL parameters of `query`, as {@link parseQuery} reads them. */
export function queryParams(query: AppQuery): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === "" || v === false) continue;
    params.set(k, v === true ? "1" : String(v));
  }
  return params.toString();
}
