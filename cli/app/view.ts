// How Applications look on a terminal. Pure: objects in, text out.
import type { Application } from "../../agent/api/types.ts";
import { age, table } from "../output.ts";

const short = (rev: string | undefined) => (rev ?? "").slice(0, 7);

export function appTable(apps: readonly Application[], wide = false): string {
  const header = ["NAME", "PROJECT", "SYNC", "HEALTH", "REVISION", "AGE", ...(wide ? ["REPO", "PATH", "DESTINATION", "CONDITIONS"] : [])];
  const rows = apps.map((a) => [
    a.metadata?.name ?? "", a.spec.project ?? "default", a.status?.sync?.status ?? "Unknown", a.status?.health?.status ?? "Unknown",
    short(a.status?.sync?.revision), age(a.metadata?.creationTimestamp),
    ...(wide ? [a.spec.source.repoURL, a.spec.source.path ?? ".", a.spec.destination.namespace ?? "",
      (a.status?.conditions ?? []).map((c) => c.type).join(",")] : []),
  ]);
  return table(header, rows);
}

export function appDetails(app: Application): string {
  const s = app.status ?? {};
  const lines = [
    `Name:          ${app.metadata?.name ?? ""}`,
    `Project:       ${app.spec.project ?? "default"}`,
    `Source:        ${app.spec.source.repoURL} @ ${app.spec.source.targetRevision ?? "HEAD"} path ${app.spec.source.path ?? "."}`,
    `Destination:   ${app.spec.destination.server ?? "in-cluster"} namespace ${app.spec.destination.namespace ?? ""}`,
    `Sync Policy:   ${app.spec.syncPolicy?.automated ? `automated (prune=${app.spec.syncPolicy.automated.prune === true}, selfHeal=${app.spec.syncPolicy.automated.selfHeal === true})` : "manual"}`,
    `Sync Status:   ${s.sync?.status ?? "Unknown"} to ${short(s.sync?.revision)}`,
    `Health Status: ${s.health?.status ?? "Unknown"}${s.health?.message ? ` (${s.health.message})` : ""}`,
    `Last Sync:     ${s.operationState ? `${s.operationState.phase} ${s.operationState.finishedAt ?? ""}: ${s.operationState.message ?? ""}` : "never"}`,
  ];
  for (const c of s.conditions ?? []) lines.push(`Condition:     ${c.type}: ${c.message}`);
  const resources = table(["GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "MESSAGE"],
    (s.resources ?? []).map((r) => [r.group, r.kind, r.namespace ?? "", r.name, r.status, r.health?.status ?? "", r.health?.message ?? ""]));
  return `${lines.join("\n")}\n\n${resources}`;
}

export function historyTable(app: Application): string {
  return table(["ID", "DATE", "REVISION"], [...(app.status?.history ?? [])].reverse().map((h) => [String(h.id), h.deployedAt, h.revision]));
}
