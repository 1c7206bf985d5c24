// How `tether appset list|get|generate` print sets and Applications. Pure.
import { primarySource } from "../../agent/api/sources.ts";
import type { Application, ApplicationSet } from "../../agent/api/types.ts";
import { age, table } from "../output.ts";

const generatorKinds = (set: ApplicationSet) => set.spec.generators.map((g) => Object.keys(g).filter((k) => k !== "selector" && k !== "template")[0] ?? "?").join(",");
const condition = (set: ApplicationSet, type: string) => set.status?.conditions?.find((c) => c.type === type);

/** The first thing wrong with a set, or empty. */
export function setMessage(set: ApplicationSet): string {
  const error = condition(set, "ErrorOccurred");
  if (error?.status === "True") return error.message;
  const rollout = condition(set, "RolloutProgressing");
  return rollout?.status === "True" ? rollout.message : "";
}

/** NAME, GENERATORS, APPS, SYNCED, HEALTHY, UP-TO-DATE, AGE, MESSAGE: one line per set. */
export function setTable(sets: readonly ApplicationSet[]): string {
  return table(["NAME", "GENERATORS", "APPS", "SYNCED", "HEALTHY", "UP-TO-DATE", "AGE", "MESSAGE"], sets.map((s) => {
    const resources = s.status?.resources ?? [];
    return [s.metadata?.name ?? "", generatorKinds(s), String(resources.length),
      String(resources.filter((r) => r.status === "Synced").length), String(resources.filter((r) => r.health?.status === "Healthy").length),
      condition(s, "ResourcesUpToDate")?.status ?? "Unknown", age(s.metadata?.creationTimestamp), clip(setMessage(s), 80)];
  }));
}

/** One set: its policy and strategy, conditions, generated Applications and, with RollingSync, the rollout. */
export function setDetails(set: ApplicationSet): string {
  const lines = [
    `Name:          ${set.metadata?.name ?? ""}`,
    `Namespace:     ${set.metadata?.namespace ?? ""}`,
    `Generators:    ${generatorKinds(set)}`,
    `Template:      ${templateKind(set)}`,
    `Sync policy:   ${policyText(set)}`,
    `Strategy:      ${set.spec.strategy?.type ?? "AllAtOnce"}`,
    "",
  ];
  const conditions = set.status?.conditions ?? [];
  const parts = [lines.join("\n")];
  if (conditions.length > 0) parts.push(table(["CONDITION", "STATUS", "REASON", "MESSAGE"], conditions.map((c) => [c.type, c.status, c.reason, c.message])));
  const resources = set.status?.resources ?? [];
  parts.push(resources.length === 0 ? "No Applications generated.\n"
    : table(["APPLICATION", "SYNC", "HEALTH"], resources.map((r) => [r.name, r.status ?? "Unknown", r.health?.status ?? "Unknown"])));
  const rollout = set.status?.applicationStatus ?? [];
  if (rollout.length > 0) parts.push(table(["APPLICATION", "STEP", "ROLLOUT", "MESSAGE"], rollout.map((a) => [a.application, a.step, a.status, a.message])));
  return parts.join("\n");
}

function templateKind(set: ApplicationSet): string {
  if (!set.spec.goTemplate) return "fasttemplate";
  const options = set.spec.goTemplateOptions ?? [];
  return options.length > 0 ? `Go template (${options.join(", ")})` : "Go template";
}

function policyText(set: ApplicationSet): string {
  const policy = set.spec.syncPolicy;
  return `${policy?.applicationsSync ?? "sync"}${policy?.preserveResourcesOnDeletion ? ", preserveResourcesOnDeletion" : ""}`;
}

/** What `generate` prints by default: each Application's project, source and destination. */
export function generatedTable(apps: readonly Application[]): string {
  return table(["NAME", "PROJECT", "REPO", "PATH", "TARGET", "DESTINATION"], apps.map((a) => {
    const source = primarySource(a);
    const d = a.spec.destination;
    return [a.metadata?.name ?? "", a.spec.project ?? "default", source?.repoURL ?? "", source?.chart ?? source?.path ?? ".",
      source?.targetRevision ?? "HEAD", `${d.server ?? d.name ?? "in-cluster"}/${d.namespace ?? ""}`];
  }));
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
