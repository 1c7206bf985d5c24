// A Stage's health and verification, from its Applications as the agent reports them. Pure.
import type { Application } from "../api/types.ts";
import type { Stage, StageHistoryEntry, StageStatus } from "../api/promotion.ts";

/** Kargo's appNamespace `argocd` (or none) is the agent namespace, where Tether's Applications live. */
export function appNamespaceOf(appNamespace: string | undefined, agentNamespace: string): string {
  return appNamespace === undefined || appNamespace === "" || appNamespace === "argocd" ? agentNamespace : appNamespace;
}

export type StageHealth = NonNullable<StageStatus["health"]>;

/**
 * The health of `stage` and whether its current Freight is verified: every Application of
 * `argoCDAppUpdates` Synced and Healthy, at the commit the promotion wrote to the branch the app tracks
 * (an app that follows another branch is judged on Synced and Healthy alone). A stage without
 * Applications is verified once its promotion succeeded, as in Kargo.
 */
export function stageHealth(stage: Stage, current: StageHistoryEntry | undefined, apps: ReadonlyMap<string, Application>,
  agentNamespace: string): { readonly health: StageHealth; readonly verified: boolean } {
  const updates = stage.spec.promotionMechanisms?.argoCDAppUpdates ?? [];
  const issues: string[] = [];
  const argoCDApps: NonNullable<StageHealth["argoCDApps"]> = [];
  let progressing = false;
  for (const u of updates) {
    const namespace = appNamespaceOf(u.appNamespace, agentNamespace);
    const app = apps.get(`${namespace}/${u.appName}`);
    if (app === undefined) {
      issues.push(`Application ${namespace}/${u.appName} (argoCDAppUpdates) not found; create it or fix appName`);
      continue;
    }
    const revision = app.status?.sync?.revision;
    argoCDApps.push({
      namespace, name: u.appName, syncStatus: app.status?.sync?.status ?? "Unknown", healthStatus: app.status?.health?.status ?? "Unknown",
      ...(revision ? { revision } : {}),
    });
    const judged = appState(app, current);
    if (judged === "progressing") progressing = true;
    else if (judged !== "ready") issues.push(judged.issue);
  }
  const status: StageHealth["status"] = issues.length > 0 ? "Unhealthy" : progressing ? "Progressing" : current ? "Healthy" : "Unknown";
  return {
    health: { status, ...(issues.length > 0 ? { issues } : {}), ...(argoCDApps.length > 0 ? { argoCDApps } : {}) },
    verified: current !== undefined && status === "Healthy",
  };
}

/** One Application: ready, still progressing, or the issue that makes the stage Unhealthy. */
type AppState = "ready" | "progressing" | { readonly issue: string };

function appState(app: Application, current: StageHistoryEntry | undefined): AppState {
  const sync = app.status?.sync?.status ?? "Unknown";
  const health = app.status?.health?.status ?? "Unknown";
  if (health === "Degraded" || health === "Missing") {
    const why = app.status?.health?.message;
    return { issue: `Application ${app.metadata?.name ?? ""} is ${sync} and ${health}${why ? `: ${why}` : ""}` };
  }
  if (sync !== "Synced" || health !== "Healthy") return "progressing";
  const expected = expectedRevision(app, current);
  if (expected !== undefined && !(app.status?.sync?.revisions ?? [app.status?.sync?.revision]).includes(expected)) return "progressing";
  if (current !== undefined && !syncedSince(app, current.promotedAt)) return "progressing";
  return "ready";
}

/** The sync the promotion requested has run: an operation that started after the promotion and succeeded. */
function syncedSince(app: Application, promotedAt: string): boolean {
  const op = app.status?.operationState;
  return op?.phase === "Succeeded" && op.startedAt !== undefined && Date.parse(op.startedAt) >= Date.parse(promotedAt);
}

/** The commit the app must run: the one the promotion pushed to the branch its source tracks. */
export function expectedRevision(app: Application, current: Pick<StageHistoryEntry, "commits"> | undefined): string | undefined {
  const sources = app.spec.sources ?? (app.spec.source ? [app.spec.source] : []);
  for (const c of current?.commits ?? []) {
    if (sources.some((s) => sameRepo(s.repoURL, c.repoURL) && (s.targetRevision ?? "HEAD") === c.branch)) return c.id;
  }
  return undefined;
}

/** `https://host/x.git` and `https://host/x` name one repository. */
export function sameRepo(a: string, b: string): boolean {
  const norm = (u: string) => u.trim().replace(/\/+$/, "").replace(/\.git$/, "").toLowerCase();
  return norm(a) === norm(b);
}
