// `tether promote status` as text: one row per stage, left to right in the pipeline as the UI draws it.
import type { PipelineView } from "../../agent/promote/view.ts";
import { age, table } from "../output.ts";

export function pipelineTable(view: PipelineView): string {
  if (view.stages.length === 0) return `No stages found in project ${view.project}.\n`;
  const rows = view.stages.map((s) => [
    s.name, s.source, s.autoPromotion ? "auto" : "manual",
    s.current ? `${s.current.alias} (${s.current.name.slice(0, 7)})` : "-",
    s.current ? (s.current.verified ? "yes" : "no") : "-",
    s.health, s.phase,
    s.available.slice(0, 3).map((f) => f.alias).join(", ") + (s.available.length > 3 ? ` +${s.available.length - 3}` : "") || "-",
    s.lastPromotion ? `${s.lastPromotion.phase}${s.lastPromotion.phase === "Failed" ? `: ${s.lastPromotion.message}` : ""}` : "-",
  ]);
  const stages = table(["STAGE", "FROM", "PROMOTION", "FREIGHT", "VERIFIED", "HEALTH", "PHASE", "AVAILABLE", "LAST PROMOTION"], rows);
  const freight = view.freight.length === 0 ? "No Freight yet: the Warehouse makes it from the registry.\n"
    : table(["FREIGHT", "ALIAS", "IMAGES", "VERIFIED IN", "AGE"], view.freight.map((f) => [
      f.name.slice(0, 12), f.alias, f.images.map((i) => `${i.repoURL}:${i.tag}`).join(", "), f.verifiedIn.join(", ") || "-", age(f.createdAt),
    ]));
  return `${stages}\n${freight}`;
}
