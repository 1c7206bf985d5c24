// The picture of one project's pipeline, for `tether promote status` and the UI's pipeline page: stages
// left to right, the Freight in each, what each may take next. Pure.
import type { Freight, FreightImage, Promotion, PromotionProject, Stage } from "../api/promotion.ts";
import { autoPromotionEnabled, availableFreight } from "./eligibility.ts";
import { newestFirst } from "./freight.ts";

export interface FreightSummary {
  readonly name: string;
  readonly alias: string;
  readonly images: readonly FreightImage[];
  readonly createdAt?: string;
  readonly verifiedIn: readonly string[];
}

export interface StageSummary {
  readonly name: string;
  /** `warehouse W` or `after test, uat`. */
  readonly source: string;
  readonly upstream: readonly string[];
  readonly autoPromotion: boolean;
  readonly phase: string;
  readonly health: string;
  readonly healthIssues: readonly string[];
  readonly current?: FreightSummary & { readonly verified: boolean; readonly promotedAt: string };
  /** Freight the stage may take now, newest first, its current Freight left out. */
  readonly available: readonly FreightSummary[];
  readonly lastPromotion?: { readonly name: string; readonly freight: string; readonly phase: string; readonly message: string };
  readonly history: readonly { readonly freight: string; readonly alias: string; readonly promotion: string; readonly promotedAt: string; readonly verifiedAt?: string }[];
  readonly message?: string;
}

export interface PipelineView {
  readonly project: string;
  readonly stages: readonly StageSummary[];
  readonly freight: readonly FreightSummary[];
}

export interface PipelineInput {
  readonly project: string;
  readonly projectObject?: PromotionProject;
  readonly stages: readonly Stage[];
  readonly freight: readonly Freight[];
  readonly promotions: readonly Promotion[];
}

const nameOf = (o: { metadata?: { name?: string } }) => o.metadata?.name ?? "";

function summary(f: Freight): FreightSummary {
  const created = f.metadata?.creationTimestamp;
  return {
    name: nameOf(f), alias: f.alias ?? nameOf(f).slice(0, 7), images: f.images,
    ...(created ? { createdAt: new Date(created).toISOString() } : {}), verifiedIn: Object.keys(f.status?.verifiedIn ?? {}).sort(),
  };
}

/** The project's stages in pipeline order: those fed by a Warehouse first, then each after its upstream stages. */
export function pipelineOrder(stages: readonly Stage[]): Stage[] {
  const depth = new Map<string, number>();
  const byName = new Map(stages.map((s) => [nameOf(s), s]));
  const depthOf = (s: Stage, seen: ReadonlySet<string>): number => {
    const known = depth.get(nameOf(s));
    if (known !== undefined) return known;
    const ups = (s.spec.subscriptions.upstreamStages ?? []).map((u) => byName.get(u.name)).filter((u): u is Stage => u !== undefined && !seen.has(nameOf(u)));
    const d = ups.length === 0 ? 0 : 1 + Math.max(...ups.map((u) => depthOf(u, new Set([...seen, nameOf(s)]))));
    depth.set(nameOf(s), d);
    return d;
  };
  return [...stages].sort((a, b) => depthOf(a, new Set()) - depthOf(b, new Set()) || nameOf(a).localeCompare(nameOf(b)));
}

export function pipelineView(input: PipelineInput): PipelineView {
  const freightByName = new Map(input.freight.map((f) => [nameOf(f), f]));
  const stages = pipelineOrder(input.stages).map((s): StageSummary => {
    const upstream = (s.spec.subscriptions.upstreamStages ?? []).map((u) => u.name);
    const cur = s.status?.currentFreight;
    const curFreight = cur ? freightByName.get(cur.name) : undefined;
    const last = newestFirst(input.promotions.filter((p) => p.spec.stage === nameOf(s)))[0];
    return {
      name: nameOf(s),
      source: s.spec.subscriptions.warehouse ? `warehouse ${s.spec.subscriptions.warehouse}` : `after ${upstream.join(", ")}`,
      upstream,
      autoPromotion: autoPromotionEnabled(input.projectObject, nameOf(s)),
      phase: s.status?.phase ?? "NotApplicable",
      health: s.status?.health?.status ?? "Unknown",
      healthIssues: s.status?.health?.issues ?? [],
      ...(cur ? {
        current: {
          ...(curFreight ? summary(curFreight) : { name: cur.name, alias: cur.images?.[0]?.tag ?? cur.name.slice(0, 7), images: cur.images ?? [], verifiedIn: [] }),
          verified: cur.verifiedAt !== undefined, promotedAt: cur.promotedAt,
        },
      } : {}),
      available: availableFreight(s, input.freight).filter((f) => nameOf(f) !== cur?.name).map(summary),
      ...(last ? { lastPromotion: { name: nameOf(last), freight: last.spec.freight, phase: last.status?.phase ?? "Pending", message: last.status?.message ?? "" } } : {}),
      history: (s.status?.history ?? []).map((h) => ({
        freight: h.name, alias: freightByName.get(h.name)?.alias ?? h.images?.[0]?.tag ?? h.name.slice(0, 7), promotion: h.promotion, promotedAt: h.promotedAt,
        ...(h.verifiedAt ? { verifiedAt: h.verifiedAt } : {}),
      })),
      ...(s.status?.message ? { message: s.status.message } : {}),
    };
  });
  return { project: input.project, stages, freight: newestFirst(input.freight).map(summary) };
}

/**
 * The Freight `--freight ID` names: its full name, a unique prefix of it, or its alias (the tag). Returns
 * the Freight or a message that says what matched.
 */
export function resolveFreight(freight: readonly Freight[], id: string): Freight | string {
  const exact = freight.find((f) => nameOf(f) === id || f.alias === id);
  if (exact) return exact;
  const prefixed = freight.filter((f) => nameOf(f).startsWith(id));
  if (prefixed.length === 1) return prefixed[0]!;
  if (prefixed.length > 1) return `--freight ${id} matches ${prefixed.length} Freight (${prefixed.map((f) => nameOf(f).slice(0, 12)).join(", ")}): give more of the name`;
  return `no Freight ${id} in the project: \`tether promote status PROJECT\` lists them (name, or alias such as the tag)`;
}
