// Progressive syncs (`strategy.type: RollingSync`), as Argo CD 3.x decides them, without I/O: which
// step each generated Application is in (label `matchExpressions`), where each is in the rollout
// (Waiting → Pending → Progressing → Healthy), which may sync now (every app of every earlier step
// Healthy, at most `maxUpdate` of a step at once), and the RolloutProgressing condition.
import { isDeepStrictEqual } from "node:util";
import type { AppSetApplicationStatus, Application, ApplicationSet, RollingSyncStep } from "../api/types.ts";

export type RolloutPhase = AppSetApplicationStatus["status"];

/** Whether the set rolls out step by step (RollingSync with at least one step). */
export function isRollingSync(set: ApplicationSet): boolean {
  return set.spec.strategy?.type === "RollingSync" && (set.spec.strategy.rollingSync?.steps?.length ?? 0) > 0;
}

export interface Steps {
  /** Application names per step, in step order. */
  readonly byStep: readonly (readonly string[])[];
  /** The step (0-based) of each selected Application; an app no step selects is in none. */
  readonly stepOf: ReadonlyMap<string, number>;
  /** What Argo CD's InvalidRolloutConfig names: unknown operators, apps selected twice, empty steps. */
  readonly issues: readonly string[];
}

/**
 * Argo CD's step selection: every expression of a step must hold (AND); `In` needs the label with one
 * of the values, `NotIn` fails on one of them and holds without the label. An app selected by two
 * steps stays in the first.
 */
export function stepsOf(steps: readonly RollingSyncStep[], apps: readonly { name: string; labels: Record<string, string> }[]): Steps {
  const byStep: string[][] = steps.map(() => []);
  const stepOf = new Map<string, number>();
  const issues = new Set<string>();
  for (const app of apps) {
    steps.forEach((step, i) => {
      const selected = (step.matchExpressions ?? []).every((e) => {
        if (e.operator !== "In" && e.operator !== "NotIn") {
          issues.add(`step ${i + 1}: operator ${e.operator} is not In or NotIn`);
          return false;
        }
        const value = app.labels[e.key];
        if (value === undefined) return e.operator === "NotIn";
        return (e.values ?? []).includes(value) === (e.operator === "In");
      });
      if (!selected) return;
      byStep[i]?.push(app.name);
      const first = stepOf.get(app.name);
      if (first === undefined) stepOf.set(app.name, i);
      else issues.add(`Application ${app.name} is selected by steps ${first + 1} and ${i + 1}`);
    });
  }
  byStep.forEach((names, i) => { if (names.length === 0) issues.add(`step ${i + 1} selects no Application`); });
  return { byStep, stepOf, issues: [...issues] };
}

/** `maxUpdate` of a step with `total` apps: an int, or a percentage rounded down but at least 1 unless 0%. Absent: all. */
export function maxUpdateOf(value: number | string | undefined, total: number): number {
  if (value === undefined) return total;
  if (typeof value === "number") return value;
  const pct = /^(\d+)%$/.exec(value.trim());
  if (!pct) return /^\d+$/.test(value.trim()) ? Number(value) : total;
  const n = Number(pct[1]);
  const scaled = Math.floor((n * total) / 100);
  return n > 0 && scaled < 1 ? 1 : scaled;
}

/** The revisions an Application is at, as Argo CD's `status.GetRevisions()`. */
function revisionsOf(app: Application): string[] {
  const sync = app.status?.sync;
  return sync?.revisions ?? (sync?.revision ? [sync.revision] : []);
}

const synced = (app: Application) => app.status?.sync?.status === "Synced";
const healthy = (app: Application) => app.status?.health?.status === "Healthy";
const hasError = (app: Application) => (app.status?.conditions ?? []).some((c) => c.type === "InvalidSpecError" || c.type === "UnknownError");

export interface RolloutInput {
  readonly set: ApplicationSet;
  /** The set's Applications as they are live. */
  readonly live: readonly Application[];
  /** Their specs as the set generates them now (automated sync already taken off). */
  readonly desiredSpecs: ReadonlyMap<string, Application["spec"]>;
  readonly now: string;
}

export interface Rollout {
  readonly applicationStatus: readonly AppSetApplicationStatus[];
  /** Apps the set asks to sync now (Pending, no sync requested or started since). */
  readonly sync: ReadonlySet<string>;
  readonly condition: { readonly status: "True" | "False"; readonly reason: string; readonly message: string };
  readonly issues: readonly string[];
}

/** What one app's rollout entry is advanced against. */
export interface AdvanceInput {
  readonly app: Application;
  /** Its spec as the set generates it now; a live spec that differs puts the app back to Waiting. */
  readonly desiredSpec: Application["spec"] | undefined;
  /** Its step (0-based); none when no step selects it. */
  readonly step: number | undefined;
  readonly now: string;
}

/** One step of Argo CD's per-app state machine: what the live app says about its rollout entry. */
export function advance(prev: AppSetApplicationStatus | undefined, input: AdvanceInput): AppSetApplicationStatus {
  const { app, now } = input;
  const stepText = String(input.step === undefined ? -1 : input.step + 1);
  const at = (status: RolloutPhase, message: string): AppSetApplicationStatus =>
    ({ application: app.metadata?.name ?? "", status, message, step: stepText, lastTransitionTime: now, targetRevisions: revisionsOf(app) });
  let cur: AppSetApplicationStatus = prev ? { ...prev, step: stepText } : at("Waiting", "No Application status found, defaulting status to Waiting");
  const changed = pendingChange(prev, input);
  if (changed !== undefined) cur = at("Waiting", `Application has pending changes (${changed}), setting status to Waiting`);
  switch (cur.status) {
    case "Waiting":
      if (!synced(app)) return cur;
      return healthy(app) ? at("Healthy", "Application resource has synced, updating status to Healthy")
        : at("Progressing", "Application resource has synced, updating status to Progressing");
    case "Pending":
      if (syncStartedSince(app, cur.lastTransitionTime)) {
        return at("Progressing", "Application resource became Progressing, updating status from Pending to Progressing");
      }
      return hasError(app) ? at("Progressing", "Application resource has error and cannot sync, updating status to Progressing") : cur;
    case "Progressing":
      return healthy(app) && synced(app) ? at("Healthy", "Application resource became Healthy, updating status from Progressing to Healthy") : cur;
    default:
      return cur;
  }
}

/** `new revision` or `spec changed` when the app moved since its entry was written; undefined otherwise. */
function pendingChange(prev: AppSetApplicationStatus | undefined, input: AdvanceInput): string | undefined {
  if (prev !== undefined && !isDeepStrictEqual(prev.targetRevisions ?? [], revisionsOf(input.app))) return "new revision";
  if (input.desiredSpec !== undefined && !isDeepStrictEqual(input.desiredSpec, input.app.spec)) return "spec changed";
  return undefined;
}

function syncStartedSince(app: Application, since: string | undefined): boolean {
  const started = app.status?.operationState?.startedAt;
  return started !== undefined && since !== undefined && Date.parse(started) >= Date.parse(since);
}

/** Apps the rollout lets sync: the steps up to the first one that is not wholly Healthy (Argo's getAppsToSync). */
export function allowedToSync(steps: Steps, statuses: ReadonlyMap<string, AppSetApplicationStatus>, live: ReadonlySet<string>): Set<string> {
  const allowed = new Set<string>();
  for (const names of steps.byStep) {
    for (const n of names) allowed.add(n);
    if (!names.every((n) => live.has(n) && statuses.get(n)?.status === "Healthy")) break;
  }
  return allowed;
}

/** Where the set's RollingSync stands now, and which apps to sync. Pure. */
export function rollout(input: RolloutInput): Rollout {
  const steps = input.set.spec.strategy?.rollingSync?.steps ?? [];
  const { set, live, now } = input;
  const plan = stepsOf(steps, live.map((a) => ({ name: a.metadata?.name ?? "", labels: a.metadata?.labels ?? {} })));
  const previous = new Map((set.status?.applicationStatus ?? []).map((s) => [s.application, s]));
  const statuses = new Map<string, AppSetApplicationStatus>();
  for (const app of live) {
    const name = app.metadata?.name ?? "";
    statuses.set(name, advance(previous.get(name), { app, desiredSpec: input.desiredSpecs.get(name), step: plan.stepOf.get(name), now }));
  }
  const allowed = allowedToSync(plan, statuses, new Set(statuses.keys()));
  // Waiting → Pending, at most maxUpdate Pending or Progressing per step.
  const updating = steps.map((_, i) => [...statuses.values()].filter((s) => plan.stepOf.get(s.application) === i
    && (s.status === "Pending" || s.status === "Progressing")).length);
  for (const [name, s] of [...statuses].sort(([a], [b]) => a.localeCompare(b))) {
    const step = plan.stepOf.get(name);
    if (step === undefined || s.status !== "Waiting" || !allowed.has(name)) continue;
    const limit = maxUpdateOf(steps[step]?.maxUpdate, plan.byStep[step]?.length ?? 0);
    if ((updating[step] ?? 0) >= limit) continue;
    statuses.set(name, { ...s, status: "Pending", lastTransitionTime: now,
      message: "Application moved to Pending status, watching for the Application resource to start Progressing" });
    updating[step] = (updating[step] ?? 0) + 1;
  }
  const byName = new Map(live.map((a) => [a.metadata?.name ?? "", a]));
  const sync = new Set([...statuses.values()].filter((s) => s.status === "Pending" && allowed.has(s.application)
    && byName.get(s.application)?.operation === undefined).map((s) => s.application));
  return { applicationStatus: [...statuses.values()].sort((a, b) => a.application.localeCompare(b.application)), sync,
    condition: progressing(steps.length, [...statuses.values()]), issues: plan.issues };
}

/** Argo CD's RolloutProgressing: True naming the first step with an app not Healthy, else the rollout completed. */
export function progressing(stepCount: number, statuses: readonly AppSetApplicationStatus[]): Rollout["condition"] {
  for (let i = 1; i <= stepCount; i++) {
    const inStep = statuses.filter((s) => s.step === String(i));
    if (inStep.length > 0 && inStep.some((s) => s.status !== "Healthy")) {
      return { status: "True", reason: "ApplicationSetModified", message: `ApplicationSet is performing rollout of step ${i}` };
    }
  }
  return { status: "False", reason: "ApplicationSetRolloutComplete", message: "ApplicationSet Rollout has completed" };
}

/** A generated spec as RollingSync writes it: automated sync off (the set syncs), and the prune it asked for. */
export function withoutAutomated(spec: Application["spec"]): { spec: Application["spec"]; prune: boolean } {
  const policy = spec.syncPolicy;
  if (policy?.automated === undefined) return { spec, prune: false };
  const rest = { ...policy };
  delete rest.automated;
  return { spec: { ...spec, syncPolicy: rest }, prune: policy.automated.prune === true };
}

/** The sync a RollingSync asks of an app, as a user's `tether app sync` writes it (Argo's syncApplication). */
export function syncOperation(prune: boolean): NonNullable<Application["operation"]> {
  return { sync: { prune }, initiatedBy: { username: "applicationset-controller", automated: true } };
}
