// Which Freight a Stage may take, and whether it takes one on its own (auto-promotion). Pure: the
// objects in, a decision with its reason out, so every refusal a user sees is a table row in a test.
import type { Freight, Promotion, PromotionProject, Stage } from "../api/promotion.ts";
import { newestFirst } from "./freight.ts";

export type Eligibility = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const nameOf = (o: { metadata?: { name?: string } }) => o.metadata?.name ?? "";
const label = (f: Freight) => (f.alias ? `Freight ${nameOf(f)} (${f.alias})` : `Freight ${nameOf(f)}`);

/**
 * Whether `stage` may take `freight`: straight from the Warehouse it subscribes to, or, with
 * `upstreamStages`, only once one of them verified it (its Applications Synced and Healthy at the
 * promoted revision) or someone approved it for this stage, as in Kargo.
 */
export function eligibility(stage: Stage, freight: Freight): Eligibility {
  const subs = stage.spec.subscriptions;
  const name = nameOf(stage);
  if (subs.warehouse) {
    return freight.warehouse === subs.warehouse ? { ok: true }
      : { ok: false, reason: `${label(freight)} comes from Warehouse ${freight.warehouse}, but Stage ${name} takes Freight from Warehouse ${subs.warehouse}` };
  }
  const upstream = (subs.upstreamStages ?? []).map((s) => s.name);
  if (upstream.length === 0) {
    return { ok: false, reason: `Stage ${name} has no subscriptions: set spec.subscriptions.warehouse or spec.subscriptions.upstreamStages` };
  }
  const verifiedIn = Object.keys(freight.status?.verifiedIn ?? {});
  if (upstream.some((u) => verifiedIn.includes(u))) return { ok: true };
  if (freight.status?.approvedFor?.[name] !== undefined) return { ok: true };
  const where = upstream.length === 1 ? `upstream Stage ${upstream[0]!}` : `any of the upstream Stages ${upstream.join(", ")}`;
  const verified = verifiedIn.length > 0 ? `it is verified in ${verifiedIn.join(", ")} only` : "it is verified in no Stage yet";
  return {
    ok: false,
    reason: `${label(freight)} is not verified in ${where} (${verified}); promote it to ${upstream[0]!} and wait until its Applications are Synced and Healthy`,
  };
}

/** The Freight `stage` may take, newest first. */
export function availableFreight(stage: Stage, freight: readonly Freight[]): Freight[] {
  return newestFirst(freight.filter((f) => eligibility(stage, f).ok));
}

export type AutoPromotion = { readonly promote: Freight } | { readonly skip: string };

/** The Project's policy for a stage: auto-promotion is off unless a `promotionPolicies` entry turns it on. */
export function autoPromotionEnabled(project: PromotionProject | undefined, stage: string): boolean {
  return (project?.spec?.promotionPolicies ?? []).some((p) => p.stage === stage && p.autoPromotionEnabled === true);
}

const ACTIVE: readonly string[] = ["Pending", "Running"];

/**
 * Kargo's auto-promotion: when the Project allows it for this stage, the newest Freight available to it,
 * unless the stage has it already, a promotion of the stage is under way, or that Freight was promoted to
 * it before (a failed promotion is not repeated on its own; `tether promote` asks again).
 */
export function autoPromotion(project: PromotionProject | undefined, stage: Stage, available: readonly Freight[],
  promotions: readonly Promotion[]): AutoPromotion {
  const name = nameOf(stage);
  if (!autoPromotionEnabled(project, name)) return { skip: `auto-promotion is off for Stage ${name} in Project ${nameOf(project ?? {})}` };
  const latest = newestFirst(available)[0];
  if (latest === undefined) return { skip: `no Freight is available to Stage ${name}` };
  if (stage.status?.currentFreight?.name === nameOf(latest)) return { skip: `Stage ${name} has the newest Freight ${nameOf(latest)} already` };
  const ofStage = promotions.filter((p) => p.spec.stage === name);
  const active = ofStage.find((p) => ACTIVE.includes(p.status?.phase ?? "Pending"));
  if (active) return { skip: `Promotion ${nameOf(active)} of Stage ${name} is under way` };
  const before = ofStage.find((p) => p.spec.freight === nameOf(latest));
  if (before) return { skip: `Freight ${nameOf(latest)} was promoted to Stage ${name} before (Promotion ${nameOf(before)}, ${before.status?.phase ?? "Pending"})` };
  return { promote: latest };
}
