// The promotion controller: Warehouses → Freight → Stages, as Kargo. Each pass reads every promotion
// object and the Applications once, then runs named steps over that snapshot: projects (their namespace),
// warehouses (poll the registries, make Freight), verification (a stage's apps Synced and Healthy at the
// promoted commit mark its Freight verified there), auto-promotion (a Promotion when the Project allows
// it), promotions (plan, write the branches through agent/writeback, sync the apps through the agent's
// operation API). The decisions are pure (eligibility.ts, plan.ts, verify.ts); this file does the I/O.
import { errorMessage } from "../errors.ts";
import { parseDuration } from "../duration.ts";
import type { LogFn } from "../log.ts";
import type { FreightImage, ImageSubscription, Promotion, PromotionCondition, Stage, StageHistoryEntry, StageStatus, Warehouse } from "../api/promotion.ts";
import { API_VERSION } from "../api/types.ts";
import type { PromotionClient, Snapshot } from "./client.ts";
import { autoPromotion, availableFreight } from "./eligibility.ts";
import { freightOf } from "./freight.ts";
import { planPromotion, type BranchWrite, type PromotionPlan } from "./plan.ts";
import { expectedRevision, stageHealth } from "./verify.ts";

/** The newest image of a subscription, as a registry lists it (agent/registry through discover.ts). */
export type ImageDiscovery = (sub: ImageSubscription, namespace: string) => Promise<FreightImage>;
/** Commits one branch write and pushes it (agent/writeback through writer.ts); returns the commit. */
export type BranchWriter = (write: BranchWrite) => Promise<{ readonly commit: string }>;

export interface PromotionControllerOptions {
  readonly client: PromotionClient;
  readonly discover: ImageDiscovery;
  readonly write: BranchWriter;
  readonly log: LogFn;
  /** How often the controller looks at the promotion objects (default 5 s); Warehouses poll at their own interval. */
  readonly tickMs?: number;
  /** Whether this replica writes now (leader election, shards). */
  readonly owns?: () => boolean;
}

const DEFAULT_WAREHOUSE_INTERVAL_MS = 5 * 60_000;
const HISTORY_LIMIT = 10;
const nameOf = (o: { metadata?: { name?: string } }) => o.metadata?.name ?? "";
const nsOf = (o: { metadata?: { namespace?: string } }) => o.metadata?.namespace ?? "";
const key = (o: { metadata?: { namespace?: string; name?: string } }) => `${nsOf(o)}/${nameOf(o)}`;

export class PromotionController {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The last pass's failure, logged once until it changes (a cluster without the CRDs, RBAC refusing). */
  private lastError = "";

  constructor(private readonly opts: PromotionControllerOptions) {}

  start(): void {
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick().then(() => { this.lastError = ""; }, (err: unknown) => {
        const message = errorMessage(err);
        if (message !== this.lastError) this.opts.log(`promotion: ${message}; trying again every pass`);
        this.lastError = message;
      }).finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.opts.tickMs ?? 5000);
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over every project. */
  async tick(): Promise<void> {
    if (this.opts.owns && !this.opts.owns()) return;
    const snap = await this.opts.client.snapshot();
    await this.projects(snap);
    await this.warehouses(snap);
    await this.verification(snap);
    await this.autoPromotions(snap);
    await this.promotions(snap);
  }

  private async projects(snap: Snapshot): Promise<void> {
    for (const p of snap.projects) {
      if (p.status?.phase === "Ready") continue;
      try {
        await this.opts.client.ensureNamespace(nameOf(p));
        await this.opts.client.writeProjectStatus(p, { phase: "Ready", message: `namespace ${nameOf(p)} holds the project's Warehouses, Stages and Freight` });
      } catch (err) {
        await this.opts.client.writeProjectStatus(p, { phase: "InitializationFailed", message: `namespace ${nameOf(p)}: ${errorMessage(err)}` });
      }
    }
  }

  private async warehouses(snap: Snapshot): Promise<void> {
    for (const w of snap.warehouses) {
      if (!this.warehouseDue(w)) continue;
      const now = new Date().toISOString();
      try {
        const images = await this.discover(w);
        const freight = freightOf(nameOf(w), nsOf(w), images);
        if (await this.opts.client.createFreight(freight)) {
          this.opts.log(`promotion: Warehouse ${key(w)} made Freight ${nameOf(freight)} (${freight.alias ?? ""})`);
          await this.opts.client.recordEvent({ ...w, kind: "Warehouse" }, { type: "Normal", reason: "FreightCreated", message: `Freight ${nameOf(freight)}: ${freight.images.map((i) => `${i.repoURL}:${i.tag}`).join(", ")}` });
        }
        await this.opts.client.writeWarehouseStatus(w, {
          lastFreight: { name: nameOf(freight) }, discoveredAt: now, ...generation(w),
          conditions: conditions(w.status?.conditions, { type: "Ready", status: "True", reason: "Discovered", message: `newest: ${freight.alias ?? ""}` }, now),
        });
      } catch (err) {
        const message = `Warehouse ${key(w)}: ${errorMessage(err)}`;
        this.opts.log(`promotion: ${message}`);
        await this.opts.client.writeWarehouseStatus(w, {
          ...(w.status?.lastFreight ? { lastFreight: w.status.lastFreight } : {}), discoveredAt: now, ...generation(w), message,
          conditions: conditions(w.status?.conditions, { type: "Ready", status: "False", reason: "DiscoveryFailed", message }, now),
        });
      }
    }
  }

  private warehouseDue(w: Warehouse): boolean {
    const last = w.status?.discoveredAt;
    if (last === undefined || w.status?.observedGeneration !== w.metadata?.generation) return true;
    let interval = DEFAULT_WAREHOUSE_INTERVAL_MS;
    try {
      if (w.spec.interval) interval = parseDuration(w.spec.interval);
    } catch {
      // A bad interval is named by discover() below; poll at the default meanwhile.
    }
    return Date.now() - Date.parse(last) >= interval;
  }

  private async discover(w: Warehouse): Promise<FreightImage[]> {
    if (w.spec.interval) {
      try {
        parseDuration(w.spec.interval);
      } catch (err) {
        throw new Error(`spec.interval: ${errorMessage(err)}`, { cause: err });
      }
    }
    if (w.spec.subscriptions.length === 0) throw new Error("spec.subscriptions is empty: subscribe to an image repository");
    const images: FreightImage[] = [];
    for (const [i, sub] of w.spec.subscriptions.entries()) {
      if (sub.image === undefined) {
        throw new Error(`spec.subscriptions[${i}] has no image: Tether's Warehouses subscribe to image repositories only (Kargo's git and chart subscriptions are not implemented)`);
      }
      images.push(await this.opts.discover(sub.image, nsOf(w)));
    }
    return images;
  }

  private async verification(snap: Snapshot): Promise<void> {
    for (const stage of snap.stages) {
      const current = stage.status?.currentFreight;
      const { health, verified } = stageHealth(stage, current, snap.apps, this.opts.client.agentNamespace);
      if (current !== undefined && verified && current.verifiedAt === undefined) {
        await this.markVerified(snap, stage, current);
        continue;
      }
      if (JSON.stringify(health) !== JSON.stringify(stage.status?.health)) {
        await this.opts.client.writeStageStatus(stage, { ...stage.status, health, phase: stage.status?.phase ?? "NotApplicable" });
      }
    }
  }

  private async markVerified(snap: Snapshot, stage: Stage, current: StageHistoryEntry): Promise<void> {
    const now = new Date().toISOString();
    const freight = snap.freight.find((f) => nsOf(f) === nsOf(stage) && nameOf(f) === current.name);
    // Freight first: a stage that says "verified" always has Freight that says so too.
    if (freight) await this.opts.client.patchFreightStatus(freight, { verifiedIn: { [nameOf(stage)]: { verifiedAt: now, promotion: current.promotion } } });
    const verifiedEntry = { ...current, verifiedAt: now };
    const history = (stage.status?.history ?? []).map((h) => (h.promotion === current.promotion ? verifiedEntry : h));
    const { health } = stageHealth(stage, verifiedEntry, snap.apps, this.opts.client.agentNamespace);
    await this.opts.client.writeStageStatus(stage, { ...stage.status, phase: "Steady", currentFreight: verifiedEntry, history, health });
    this.opts.log(`promotion: Freight ${current.name} verified in Stage ${key(stage)}`);
    await this.opts.client.recordEvent({ ...stage, kind: "Stage" }, { type: "Normal", reason: "FreightVerified", message: `Freight ${current.name} verified: its Applications are Synced and Healthy at the promoted revision` });
  }

  private async autoPromotions(snap: Snapshot): Promise<void> {
    for (const stage of snap.stages) {
      const project = snap.projects.find((p) => nameOf(p) === nsOf(stage));
      const freight = snap.freight.filter((f) => nsOf(f) === nsOf(stage));
      const promotions = snap.promotions.filter((p) => nsOf(p) === nsOf(stage));
      const decision = autoPromotion(project, stage, availableFreight(stage, freight), promotions);
      if (!("promote" in decision)) continue;
      const promotion = newPromotion(stage, nameOf(decision.promote), "auto-promotion");
      await this.opts.client.createPromotion(promotion);
      this.opts.log(`promotion: auto-promotion of Freight ${nameOf(decision.promote)} to Stage ${key(stage)} (Promotion ${nameOf(promotion)})`);
    }
  }

  /** Each stage runs one Promotion at a time, oldest first; a Running one (an agent restart) is resumed. */
  private async promotions(snap: Snapshot): Promise<void> {
    const open = snap.promotions.filter((p) => p.status?.phase === undefined || p.status.phase === "Pending" || p.status.phase === "Running");
    const byStage = new Map<string, Promotion[]>();
    for (const p of open) byStage.set(`${nsOf(p)}/${p.spec.stage}`, [...byStage.get(`${nsOf(p)}/${p.spec.stage}`) ?? [], p]);
    for (const list of byStage.values()) {
      const next = list.find((p) => p.status?.phase === "Running") ?? oldestFirst(list)[0];
      if (next === undefined) continue;
      try {
        await this.runPromotion(snap, next);
      } catch (err) {
        this.opts.log(`promotion: Promotion ${key(next)}: ${errorMessage(err)}; trying again`);
      }
    }
  }

  private async runPromotion(snap: Snapshot, promotion: Promotion): Promise<void> {
    const ns = nsOf(promotion);
    const stage = snap.stages.find((s) => nsOf(s) === ns && nameOf(s) === promotion.spec.stage);
    const freight = snap.freight.find((f) => nsOf(f) === ns && nameOf(f) === promotion.spec.freight);
    const planned = planPromotion({ promotion, stage, freight, apps: snap.apps, agentNamespace: this.opts.client.agentNamespace });
    if ("refused" in planned) {
      await this.fail(promotion, stage, { message: planned.refused, reason: "PromotionRefused" });
      return;
    }
    const plan = planned.plan;
    const startedAt = promotion.status?.startedAt ?? new Date().toISOString();
    let status = { ...promotion.status, phase: "Running" as const, startedAt, freight: { name: nameOf(plan.freight), images: plan.freight.images } };
    if (promotion.status?.phase !== "Running") {
      // Written before the first side effect: an agent that stops here resumes this promotion.
      await this.opts.client.writePromotionStatus(promotion, { ...status, message: "writing the stage's branches" });
      await this.opts.client.writeStageStatus(stage!, { ...stage!.status, phase: "Promoting", currentPromotion: { name: nameOf(promotion), freight: nameOf(plan.freight) } });
    }
    const commits = [...status.commits ?? []];
    for (const w of plan.writes) {
      if (commits.some((c) => c.repoURL === w.repoURL && c.branch === w.writeBranch)) continue;
      try {
        const { commit } = await this.opts.write(w);
        commits.push({ repoURL: w.repoURL, branch: w.writeBranch, id: commit });
        status = { ...status, commits };
        await this.opts.client.writePromotionStatus(promotion, { ...status, message: `wrote ${w.writeBranch} of ${w.repoURL} (${commit.slice(0, 7)})` });
      } catch (err) {
        const pushed = commits.length > 0 ? ` (already pushed: ${commits.map((c) => `${c.branch} of ${c.repoURL}`).join(", ")})` : "";
        await this.fail(promotion, stage, { message: `writing branch ${w.writeBranch} of ${w.repoURL} failed: ${errorMessage(err)}${pushed}`, reason: "PromotionFailed", status });
        return;
      }
    }
    const busy = await this.requestSyncs(snap, plan, promotion, commits);
    if (busy !== undefined) {
      await this.opts.client.writePromotionStatus(promotion, { ...status, message: busy });
      return;
    }
    await this.succeed(promotion, stage!, plan, { ...status, commits });
  }

  /** Asks the agent to sync each Application; returns why it waits when one has an operation under way (nothing is queued, as Argo CD). */
  private async requestSyncs(snap: Snapshot, plan: PromotionPlan, promotion: Promotion, commits: StageHistoryEntry["commits"]): Promise<string | undefined> {
    const busy = plan.syncs.map((s) => snap.apps.get(`${s.namespace}/${s.name}`)!)
      .filter((app) => app.operation !== undefined || app.status?.operationState?.phase === "Running");
    if (busy.length > 0) return `waiting for the operation under way on Application ${busy.map(nameOf).join(", ")} to finish before syncing`;
    for (const s of plan.syncs) {
      const revision = expectedRevision(snap.apps.get(`${s.namespace}/${s.name}`)!, { commits });
      await this.opts.client.requestSync(s.namespace, s.name, {
        sync: { ...(revision ? { revision } : {}) }, initiatedBy: { username: `promotion:${nsOf(promotion)}/${nameOf(promotion)}` },
      });
    }
    return undefined;
  }

  private async succeed(promotion: Promotion, stage: Stage, plan: PromotionPlan, status: NonNullable<Promotion["status"]>): Promise<void> {
    const finishedAt = new Date().toISOString();
    const commits = status.commits ?? [];
    const entry: StageHistoryEntry = {
      name: nameOf(plan.freight), images: plan.freight.images, promotion: nameOf(promotion), promotedAt: status.startedAt ?? finishedAt,
      ...(commits.length > 0 ? { commits } : {}),
    };
    const history = [entry, ...(stage.status?.history ?? []).filter((h) => h.promotion !== entry.promotion)].slice(0, HISTORY_LIMIT);
    const rest = withoutPromotion(stage.status);
    await this.opts.client.writeStageStatus(stage, { ...rest, phase: "Verifying", currentFreight: entry, history, message: `promoted Freight ${entry.name} (Promotion ${nameOf(promotion)})` });
    const synced = plan.syncs.map((s) => s.name).join(", ");
    await this.opts.client.writePromotionStatus(promotion, {
      ...status, phase: "Succeeded", finishedAt,
      message: `${commits.map((c) => `${c.branch} at ${c.id.slice(0, 7)}`).join(", ") || "no branch written"}${synced ? `; sync requested for ${synced}` : ""}`,
    });
    this.opts.log(`promotion: Promotion ${key(promotion)} succeeded: Freight ${entry.name} in Stage ${nameOf(stage)}`);
    await this.opts.client.recordEvent({ ...promotion, kind: "Promotion" }, { type: "Normal", reason: "Promoted", message: `Freight ${entry.name} promoted to Stage ${nameOf(stage)}` });
  }

  private async fail(promotion: Promotion, stage: Stage | undefined,
    o: { readonly message: string; readonly reason: string; readonly status?: Promotion["status"] }): Promise<void> {
    const { message, reason } = o;
    const status = o.status ?? promotion.status;
    const finishedAt = new Date().toISOString();
    await this.opts.client.writePromotionStatus(promotion, { ...status, phase: "Failed", message, finishedAt });
    if (stage !== undefined) {
      const rest = withoutPromotion(stage.status);
      await this.opts.client.writeStageStatus(stage, {
        ...rest, phase: rest.currentFreight ? (rest.currentFreight.verifiedAt ? "Steady" : "Verifying") : "NotApplicable", message,
        conditions: conditions(stage.status?.conditions, { type: "Promoted", status: "False", reason, message: `Promotion ${nameOf(promotion)}: ${message}` }, finishedAt),
      });
    }
    this.opts.log(`promotion: Promotion ${key(promotion)} failed: ${message}`);
    await this.opts.client.recordEvent({ ...promotion, kind: "Promotion" }, { type: "Warning", reason, message });
  }
}

function withoutPromotion(status: StageStatus | undefined): StageStatus {
  const rest = { ...status };
  delete rest.currentPromotion;
  return rest;
}

function generation(w: Warehouse): { observedGeneration?: number } {
  return w.metadata?.generation === undefined ? {} : { observedGeneration: w.metadata.generation };
}

/** `previous` with `next` in place of the condition of its type; the transition time kept while the status stays. */
function conditions(previous: readonly PromotionCondition[] | undefined, next: Omit<PromotionCondition, "lastTransitionTime">, now: string): PromotionCondition[] {
  const old = (previous ?? []).find((c) => c.type === next.type);
  const lastTransitionTime = old?.status === next.status && old.lastTransitionTime ? old.lastTransitionTime : now;
  return [...(previous ?? []).filter((c) => c.type !== next.type), { ...next, lastTransitionTime }];
}

function oldestFirst(list: readonly Promotion[]): Promotion[] {
  const t = (p: Promotion) => new Date(p.metadata?.creationTimestamp ?? 0).getTime();
  return [...list].sort((a, b) => t(a) - t(b) || nameOf(a).localeCompare(nameOf(b)));
}

/**
 * A Promotion of `freight` to `stage`: named `<stage>.<freight prefix>.<time>` so a listing sorts by stage
 * and reads as what it does. `by` says who asked (auto-promotion, a user through the CLI or the UI).
 */
export function newPromotion(stage: Stage, freight: string, by: string): Promotion {
  return {
    apiVersion: API_VERSION, kind: "Promotion",
    metadata: {
      name: `${nameOf(stage)}.${freight.slice(0, 7)}.${Date.now().toString(36)}`, namespace: nsOf(stage),
      labels: { "tether.dev/stage": nameOf(stage) }, annotations: { "tether.dev/promoted-by": by },
    },
    spec: { stage: nameOf(stage), freight },
  };
}

