// The Application status a reconcile leaves, from what it compared and what its sync did. Pure:
// every input comes in (the time too), so each outcome is a fixture in status.test.ts.
import {
  SUSPEND_ANNOTATION, type Application, type ApplicationSource, type ApplicationStatus, type Condition, type HealthStatusCode, type Manifest, type ResourceStatus,
} from "../api/types.ts";
import { summarize, type Change } from "../apply/changeset.ts";
import { displayRef, identity } from "../apply/inventory.ts";
import { assessHealth, worst } from "../health/index.ts";
import { conditionOf, mergeConditions, type Reported } from "../status/conditions.ts";
import { nextHistory } from "../status/history.ts";
import type { Pair, StaleLive } from "./match.ts";

/** A matched pair after comparison. */
export interface ComparedPair extends Pair {
  readonly inSync: boolean;
  /** Why it could not be compared (the dry-run was refused): it is out of sync and names the reason. */
  readonly error?: string;
}

export interface StatusInput {
  readonly app: Application;
  readonly revision: string;
  /** With several sources: one revision per source, and the sources (status and history as Argo CD). */
  readonly revisions?: readonly string[];
  readonly sources?: readonly ApplicationSource[];
  /** What the render ignored (Argo CD fields Tether does not implement): one `UnsupportedField` condition. */
  readonly warnings?: readonly string[];
  readonly renderKey: string;
  readonly pairs: readonly ComparedPair[];
  readonly stale: readonly StaleLive[];
  /** Live objects as the sync left them (apply responses); the pair's live object otherwise. */
  readonly after: ReadonlyMap<Pair["planned"], Manifest>;
  readonly changes: readonly Change[];
  readonly inventory: readonly string[];
  /** Whether a sync ran (or goes on: `waiting`). */
  readonly synced: boolean;
  /** The wave a running sync waits for. */
  readonly waiting?: string;
  /** Retries spent by `syncPolicy.retry` on a failing sync. */
  readonly retryCount?: number;
  readonly now: string;
}

export function buildStatus(input: StatusInput): ApplicationStatus {
  const previous = input.app.status ?? {};
  const resources = resourceStatuses(input);
  const health = appHealth(resources.slice(0, input.pairs.length));
  const status: ApplicationStatus = {
    ...previous,
    sync: { status: resources.every((r) => r.status === "Synced") ? "Synced" : "OutOfSync", revision: input.revision, ...revisionsOf(input) },
    health: { status: health.status, ...(health.message ? { message: health.message } : {}) },
    resources,
    conditions: mergeConditions(previous.conditions, conditions(input)),
    inventory: [...input.inventory],
    reconciledAt: input.now,
  };
  if (input.synced) Object.assign(status, operationResult(input));
  return status;
}

/** The status after a reconcile stopped on an error: nothing was applied or pruned, so the last resources, inventory and health stay. */
export function errorStatus(app: Application, error: Reported, revisions: readonly string[] | undefined, now: string): ApplicationStatus {
  const previous = app.status ?? {};
  const several = revisions !== undefined && revisions.length > 1 ? { revisions: [...revisions] } : previous.sync?.revisions ? { revisions: previous.sync.revisions } : {};
  return {
    ...previous,
    sync: { status: "Unknown", revision: revisions?.[0] ?? previous.sync?.revision ?? "", ...several },
    conditions: mergeConditions(previous.conditions, [conditionOf(error, now)]),
    reconciledAt: now,
  };
}

/** `status.sourceCredential`: the Secret (`namespace/name`) the source was fetched with; dropped when none was. */
export function withSourceCredential(status: ApplicationStatus, secret: string | undefined): ApplicationStatus {
  const next: ApplicationStatus = { ...status };
  if (secret === undefined) delete next.sourceCredential;
  else next.sourceCredential = secret;
  return next;
}

/** `revisions` for an app with several sources, as Argo CD writes it. */
function revisionsOf(input: StatusInput): { revisions?: string[] } {
  return input.revisions === undefined ? {} : { revisions: [...input.revisions] };
}

function resourceStatuses(input: StatusInput): ResourceStatus[] {
  const changed = new Map(input.changes.map((c) => [identity(c.ref), c]));
  const inSync = (p: ComparedPair) => {
    const c = changed.get(identity(p.planned.ref));
    return c ? c.action !== "failed" && c.action !== "skipped" : p.inSync;
  };
  const resources: ResourceStatus[] = input.pairs.map((p) => ({
    ...p.planned.ref,
    status: p.sharedWith === undefined && inSync(p) ? "Synced" : "OutOfSync",
    health: assessHealth(input.after.get(p.planned) ?? p.live),
  }));
  for (const s of input.stale) {
    if (!s.live || changed.get(identity(s.ref))?.action === "deleted") continue;
    resources.push({ ...s.ref, status: "OutOfSync", health: assessHealth(s.live) });
  }
  return resources;
}

function conditions(input: StatusInput): Condition[] {
  const out: Condition[] = [];
  const add = (type: string, messages: readonly string[]) => {
    if (messages.length > 0) out.push({ type, message: messages.join("; "), lastTransitionTime: input.now });
  };
  if (input.app.metadata?.annotations?.[SUSPEND_ANNOTATION] === "true") {
    add("Suspended", ["automated sync and self-heal are off (tether app suspend); `tether app resume` turns them back on"]);
  }
  add("UnsupportedField", input.warnings ?? []);
  add("SharedResource", input.pairs.filter((p) => p.sharedWith !== undefined)
    .map((p) => `${displayRef(p.planned.ref)} is already managed by ${p.sharedWith}; not taken over`));
  const failed = input.changes.filter((c) => c.action === "failed");
  const planned = new Set(input.pairs.map((p) => identity(p.planned.ref)));
  add("ApplyFailed", failed.filter((c) => planned.has(identity(c.ref))).map((c) => `${displayRef(c.ref)}: ${c.message ?? ""}`));
  add("PruneFailed", failed.filter((c) => !planned.has(identity(c.ref))).map((c) => `${displayRef(c.ref)}: ${c.message ?? ""}`));
  // A refused dry-run already shows as ApplyFailed when the sync tried the object; otherwise it is a comparison error.
  if (failed.length === 0) add("ComparisonError", input.pairs.filter((p) => p.error !== undefined).map((p) => `${displayRef(p.planned.ref)}: ${p.error}`));
  return out;
}

function operationResult(input: StatusInput): Pick<ApplicationStatus, "operationState" | "observedRenderKey" | "history"> {
  const previous = input.app.status ?? {};
  if (input.waiting) {
    const startedAt = previous.operationState?.phase === "Running" ? previous.operationState.startedAt ?? input.now : input.now;
    return { operationState: { phase: "Running", message: `waiting for wave ${input.waiting}`, startedAt } };
  }
  const ok = !input.changes.some((c) => c.action === "failed");
  const operationState = {
    phase: ok ? "Succeeded" as const : "Failed" as const, message: summarize(input.changes), startedAt: input.now, finishedAt: input.now,
    ...(input.retryCount ? { retryCount: input.retryCount } : {}),
    syncResult: { revision: input.revision, ...revisionsOf(input) },
  };
  if (!ok) return { operationState };
  return { operationState, observedRenderKey: input.renderKey, ...historyAfter(input) };
}

/**
 * A history entry for a sync that deployed a revision the app had not deployed yet and changed
 * something in the cluster: a commit that did not touch the app, or a selfHeal revert, is not a deploy.
 */
function historyAfter(input: StatusInput): Pick<ApplicationStatus, "history"> {
  const previous = input.app.status?.history ?? [];
  const moved = input.changes.some((c) => c.action !== "unchanged");
  const last = previous[previous.length - 1];
  const same = last?.revision === input.revision && (input.revisions === undefined || last.revisions?.join() === input.revisions.join());
  if (same || (last !== undefined && !moved)) return {};
  const entry = {
    revision: input.revision, deployedAt: input.now,
    ...(input.revisions && input.sources ? { revisions: [...input.revisions], sources: input.sources.map((s) => ({ ...s })) } : sourceOf(input.app)),
  };
  return { history: nextHistory(previous, entry, input.app.spec.revisionHistoryLimit ?? 10) };
}

/** The single source a history entry records, as Argo CD's `source`. */
function sourceOf(app: Application): { source?: Record<string, unknown> } {
  return app.spec.source === undefined ? {} : { source: { ...app.spec.source } };
}

/** The worst health of the app's resources, with the message of the first resource in that state. */
export function appHealth(resources: readonly ResourceStatus[]): { status: HealthStatusCode; message?: string } {
  const status = worst(...resources.map((r) => r.health?.status ?? "Unknown"));
  const culprit = resources.find((r) => r.health?.status === status && status !== "Healthy");
  return culprit ? { status, message: `${displayRef(culprit)}: ${culprit.health?.message ?? status}` } : { status };
}
