// How Applications look on a terminal. Pure: objects in, text out.
import { declaredSources, primarySource } from "../../agent/api/sources.ts";
import type { Application } from "../../agent/api/types.ts";
import { age, table } from "../output.ts";
import { isSuspended } from "./suspend.ts";

const short = (rev: string | undefined) => (rev ?? "").slice(0, 7);
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * Why an app is not fine, in one line: its first condition, else its health message. Empty for an
 * app that is Synced and Healthy with no condition.
 */
export function appReason(app: Application): string {
  if (isSuspended(app) && !app.status?.conditions?.some((c) => c.type === "Suspended")) return `Suspended: automated sync is off (tether app resume ${app.metadata?.name ?? ""})`;
  const c = app.status?.conditions?.[0];
  if (c) return `${c.type}: ${c.message}`.replace(/\s+/g, " ");
  const health = app.status?.health;
  return health?.message && health.status !== "Healthy" ? health.message.replace(/\s+/g, " ") : "";
}

export interface TableOptions {
  readonly wide?: boolean;
  /** Listing several namespaces (`-A`): a NAMESPACE column first. */
  readonly namespaces?: boolean;
}

export function appTable(apps: readonly Application[], opts: TableOptions | boolean = {}): string {
  const { wide = false, namespaces = false } = typeof opts === "boolean" ? { wide: opts } : opts;
  const header = [...(namespaces ? ["NAMESPACE"] : []), "NAME", "PROJECT", "SYNC", "HEALTH", "REVISION", "AGE",
    ...(wide ? ["REPO", "PATH", "TARGET", "DESTINATION", "SYNC POLICY"] : []), "MESSAGE"];
  const rows = apps.map((a) => [
    ...(namespaces ? [a.metadata?.namespace ?? ""] : []),
    ...statusCells(a),
    ...(wide ? sourceCells(a) : []),
    wide ? allConditions(a) : clip(appReason(a), 80),
  ]);
  return table(header, rows);
}

function statusCells(a: Application): string[] {
  return [a.metadata?.name ?? "", a.spec.project ?? "default", a.status?.sync?.status ?? "Unknown", a.status?.health?.status ?? "Unknown",
    short(a.status?.sync?.revision), age(a.metadata?.creationTimestamp)];
}

function sourceCells(a: Application): string[] {
  const d = a.spec.destination;
  const source = primarySource(a);
  return [source?.repoURL ?? "", source?.chart ?? source?.path ?? ".", source?.targetRevision ?? "HEAD",
    `${d.server ?? d.name ?? "in-cluster"}/${d.namespace ?? ""}`, syncPolicy(a)];
}

function syncPolicy(app: Application): string {
  const auto = app.spec.syncPolicy?.automated;
  if (!auto) return "manual";
  if (isSuspended(app)) return "suspended";
  return ["auto", ...(auto.prune ? ["prune"] : []), ...(auto.selfHeal ? ["selfHeal"] : [])].join(",");
}

function allConditions(app: Application): string {
  const conditions = (app.status?.conditions ?? []).map((c) => `${c.type}: ${c.message}`.replace(/\s+/g, " "));
  return conditions.length > 0 ? conditions.join("; ") : appReason(app);
}

/** The summary, then `tree` (the live objects) when given, else the resources the status lists. */
export function appDetails(app: Application, wide = false, tree?: string): string {
  const s = app.status ?? {};
  const lines = [...summaryLines(app), ...(wide ? wideLines(app) : [])];
  for (const c of s.conditions ?? []) lines.push(`Condition:     ${c.type}: ${c.message}${wide ? ` (since ${c.lastTransitionTime})` : ""}`);
  const hooks = hookTable(app);
  return `${lines.join("\n")}\n\n${tree ?? resourceTable(app, wide)}${hooks ? `\n\n${hooks}` : ""}`;
}

/** The hooks the last sync operation ran, with how far each got (Argo CD lists them with the resources). */
function hookTable(app: Application): string | undefined {
  const hooks = (app.status?.operationState?.syncResult?.resources ?? []).filter((r) => r.hookType);
  if (hooks.length === 0) return undefined;
  return table(["HOOK", "KIND", "NAME", "PHASE", "MESSAGE"], hooks.map((h) => [h.hookType ?? "", h.kind, h.name, h.hookPhase ?? "", h.message ?? ""]));
}

function summaryLines(app: Application): string[] {
  const s = app.status ?? {};
  const d = app.spec.destination;
  return [
    `Name:          ${app.metadata?.namespace ?? ""}/${app.metadata?.name ?? ""}`,
    `Project:       ${app.spec.project ?? "default"}`,
    ...declaredSources(app).map((s, i) => `${i === 0 ? "Source:" : "       "}        ${s.repoURL} @ ${s.targetRevision ?? "HEAD"} ${s.chart === undefined ? `path ${s.path ?? "."}` : `chart ${s.chart}`}${s.ref ? ` (ref ${s.ref})` : ""}`),
    `Destination:   ${d.server ?? d.name ?? "in-cluster"} namespace ${d.namespace ?? ""}`,
    `Sync Policy:   ${policyLine(app)}`,
    `Sync Status:   ${s.sync?.status ?? "Unknown"} to ${short(s.sync?.revision)}`,
    `Health Status: ${s.health?.status ?? "Unknown"}${s.health?.message ? ` (${s.health.message})` : ""}`,
    `Last Sync:     ${s.operationState ? `${s.operationState.phase} ${s.operationState.finishedAt ?? ""}: ${s.operationState.message ?? ""}` : "never"}`,
  ];
}

function policyLine(app: Application): string {
  const auto = app.spec.syncPolicy?.automated;
  if (!auto) return "manual";
  return `automated (prune=${auto.prune === true}, selfHeal=${auto.selfHeal === true})${isSuspended(app) ? ", suspended" : ""}`;
}

function wideLines(app: Application): string[] {
  return [
    `Reconciled:    ${app.status?.reconciledAt ?? "never"}`,
    `Created:       ${String(app.metadata?.creationTimestamp ?? "")}`,
    `Labels:        ${Object.entries(app.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(",") || "none"}`,
  ];
}

function resourceTable(app: Application, wide: boolean): string {
  const resources = app.status?.resources ?? [];
  if (wide) {
    return table(["GROUP", "VERSION", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "MESSAGE"],
      resources.map((r) => [r.group ?? "", r.version, r.kind, r.namespace ?? "", r.name, r.status, r.health?.status ?? "", r.health?.message ?? ""]));
  }
  return table(["KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH"],
    resources.map((r) => [r.group ? `${r.kind}.${r.group}` : r.kind, r.namespace ?? "", r.name, r.status, r.health?.status ?? ""]));
}

export function historyTable(app: Application): string {
  return table(["ID", "DATE", "REVISION"], [...(app.status?.history ?? [])].reverse().map((h) => [String(h.id), h.deployedAt, h.revision]));
}

/** The object as scripts want it: without managedFields, which only the API server reads. */
export function withoutManagedFields<T extends { metadata?: object }>(obj: T): T {
  if (!obj.metadata || !("managedFields" in obj.metadata)) return obj;
  const metadata: Record<string, unknown> = { ...obj.metadata };
  delete metadata.managedFields;
  return { ...obj, metadata };
}
