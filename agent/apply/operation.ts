// One sync operation, run as Argo CD runs it: PreSync hooks, the Sync phase (waves of objects with
// their Sync hooks), prune, PostSync hooks; a step starts only when the one before it finished (its
// hooks succeeded, its objects healthy); a failure ends the operation and runs the SyncFail hooks.
// Re-entrant: an operation spans reconciles, and what its hooks did is kept in the operation state
// (`syncResult.resources`), so a later reconcile picks it up where it stopped and never starts a
// hook twice. Delete policies are applied when the operation ends.
import { setTimeout as sleep } from "node:timers/promises";
import { HOOK_OPERATION_ANNOTATION, type Manifest, type ObjectRef, type OperationState, type OperationTask, type ResourceResult } from "../api/types.ts";
import { errorMessage } from "../errors.ts";
import type { Change } from "./changeset.ts";
import type { Cluster } from "./cluster.ts";
import { generatedName, hookProgress, type SyncPhase } from "./hooks.ts";
import { displayRef, identity } from "./inventory.ts";
import { planSteps, syncFailSteps, type HookRun, type Step } from "./phases.ts";
import type { PlannedObject } from "./plan.ts";
import type { ApplyResult } from "./sync.ts";

export interface OperationInput {
  /** Where hooks are created, read and deleted (the writer: the project's ServiceAccount when it impersonates). */
  readonly cluster: Cluster;
  readonly revision: string;
  readonly now: string;
  /** The operation state the last reconcile left; continued when it is Running at this revision. */
  readonly previous?: OperationState | undefined;
  /** The objects this app applies (hooks apart). */
  readonly resources: readonly PlannedObject[];
  readonly hooks: readonly PlannedObject[];
  /** Applies the objects of one step. */
  readonly apply: (objects: readonly PlannedObject[]) => Promise<ApplyResult>;
  /** Whether the objects of a step let the next step start: not yet (`wait`), never (`failed`: one is Degraded). */
  readonly ready: (objects: readonly PlannedObject[], applied: ApplyResult) => Gate;
  /** Told the hook results after each step that created a hook: the operation record keeps them (a restart waits on them). */
  readonly progress?: (hooks: readonly ResourceResult[], message: string) => Promise<void>;
  /** Deletes what left Git (after the Sync phase, before PostSync); `waiting` while objects terminate. */
  readonly prune: () => Promise<{ readonly changes: readonly Change[]; readonly waiting?: string }>;
}

/** What a wave's objects say about the next step: go on, wait for them, or fail the operation. */
export type Gate = { readonly kind: "ready" } | { readonly kind: "wait" | "failed"; readonly reason: string };

export interface OperationResult {
  readonly phase: "Running" | "Succeeded" | "Failed";
  readonly message: string;
  readonly startedAt: string;
  /** What was applied and pruned in this reconcile. */
  readonly changes: readonly Change[];
  readonly live: ReadonlyMap<PlannedObject, Manifest>;
  /** Every hook this operation ran so far, with how far it got. */
  readonly hooks: readonly ResourceResult[];
}

interface Run {
  readonly input: OperationInput;
  readonly startedAt: string;
  /** Hook results by run key (phase + the hook's name for this operation). */
  readonly results: Map<string, ResourceResult>;
  readonly changes: Change[];
  readonly live: Map<PlannedObject, Manifest>;
  /** Hooks this reconcile created: each creation is recorded before the next step. */
  created: number;
}

/** Runs (or continues) the operation as far as it can go in this reconcile. */
export async function runOperation(input: OperationInput): Promise<OperationResult> {
  const continuing = input.previous?.phase === "Running" && input.previous.syncResult?.revision === input.revision;
  const startedAt = continuing ? input.previous?.startedAt ?? input.now : input.now;
  const results = new Map<string, ResourceResult>();
  if (continuing) for (const r of input.previous?.syncResult?.resources ?? []) if (r.syncPhase && r.hookType) results.set(resultKey(r.syncPhase, r), r);
  const run: Run = { input, startedAt, results, changes: [], live: new Map(), created: 0 };
  const outcome = failedHook(run) ? { failed: failedHook(run)! } : await runSteps(run);
  if ("waiting" in outcome) return finish(run, "Running", outcome.waiting);
  if ("failed" in outcome) return await fail(run, outcome.failed);
  await deleteHooks(run, "HookSucceeded");
  return finish(run, "Succeeded", "successfully synced (all tasks run)");
}

type Outcome = { readonly waiting: string } | { readonly failed: string } | { readonly done: true };

async function runSteps(run: Run): Promise<Outcome> {
  const steps = planSteps(run.input.resources, run.input.hooks);
  let pruned = false;
  for (const [index, step] of steps.entries()) {
    if (step.phase === "PostSync" && !pruned) {
      pruned = true;
      const outcome = await pruneStep(run);
      if (outcome) return outcome;
    }
    const outcome = await runStep(run, step, index === steps.length - 1);
    if (outcome) {
      // What later steps would apply is reported as held back, as one change set says what happened to each object.
      const message = "waiting" in outcome ? `waiting for ${outcome.waiting}` : "an earlier step failed";
      run.changes.push(...steps.slice(index + 1).flatMap((s) => s.resources.map((o) => ({ ref: o.ref, action: "skipped" as const, message }))));
      return outcome;
    }
  }
  return pruned ? { done: true } : await pruneStep(run) ?? { done: true };
}

async function pruneStep(run: Run): Promise<Outcome | undefined> {
  const pruned = await run.input.prune();
  run.changes.push(...pruned.changes);
  const failed = pruned.changes.find((c) => c.action === "failed");
  if (failed) return { failed: `${displayRef(failed.ref)}: ${failed.message ?? "prune failed"}` };
  return pruned.waiting ? { waiting: pruned.waiting } : undefined;
}

/** One step: its objects applied, its hooks started or observed; undefined when the next step may start. */
async function runStep(run: Run, step: Step, last: boolean): Promise<Outcome | undefined> {
  let notReady: string | undefined;
  if (step.resources.length > 0) {
    const applied = await run.input.apply(step.resources);
    run.changes.push(...applied.changes);
    for (const [o, m] of applied.live) run.live.set(o, m);
    const failed = applied.changes.find((c) => c.action === "failed");
    if (failed) return { failed: `${displayRef(failed.ref)}: ${failed.message ?? "apply failed"}` };
    // As Argo CD: the last wave's objects need not be healthy; an earlier wave's Degraded object fails the operation.
    const gate: Gate = last ? { kind: "ready" } : run.input.ready(step.resources, applied);
    if (gate.kind === "failed") return { failed: `wave ${step.wave}: ${gate.reason}` };
    if (gate.kind === "wait") notReady = gate.reason;
  }
  const hooks = await startHooks(run, step.hooks, `${step.phase} hooks of wave ${step.wave} started`);
  const failed = hooks.find((h) => h.hookPhase === "Failed" || h.status === "SyncFailed");
  if (failed) return { failed: `${step.phase} hook ${displayRef(failed)} failed: ${failed.message ?? ""}` };
  const running = hooks.find((h) => h.hookPhase === "Running");
  if (running) return { waiting: `${step.phase} hook ${displayRef(running)} to complete${running.message ? `: ${running.message}` : ""}` };
  if (notReady) return { waiting: `wave ${step.wave} to become healthy: ${notReady}` };
  return undefined;
}

/** The operation failed: the SyncFail hooks run (wave by wave), then hooks with HookFailed are deleted. */
async function fail(run: Run, reason: string): Promise<OperationResult> {
  for (const wave of syncFailSteps(run.input.hooks)) {
    const hooks = await startHooks(run, wave, `${reason}; SyncFail hooks started`);
    const running = hooks.find((h) => h.hookPhase === "Running");
    if (running) return finish(run, "Running", `${reason}; SyncFail hook ${displayRef(running)} running`);
    const failed = hooks.find((h) => h.hookPhase === "Failed" || h.status === "SyncFailed");
    if (failed) {
      await deleteHooks(run, "HookFailed");
      return finish(run, "Failed", `${reason}; one or more SyncFail hooks failed: ${displayRef(failed)}: ${failed.message ?? ""}`);
    }
  }
  await deleteHooks(run, "HookFailed");
  return finish(run, "Failed", reason);
}

function finish(run: Run, phase: OperationResult["phase"], message: string): OperationResult {
  return { phase, message, startedAt: run.startedAt, changes: run.changes, live: run.live, hooks: [...run.results.values()] };
}

/** A hook that already failed in this operation (a reconcile that ran SyncFail hooks continues from there). */
function failedHook(run: Run): string | undefined {
  const failed = [...run.results.values()].find((r) => r.syncPhase !== "SyncFail" && (r.hookPhase === "Failed" || r.status === "SyncFailed"));
  return failed ? `${failed.syncPhase ?? ""} hook ${displayRef(failed)} failed: ${failed.message ?? ""}` : undefined;
}

/**
 * The hook as the operation started at `startedAt` creates it: named (when it only has generateName,
 * from the revision, phase and start, so every reconcile and a restarted agent find the same one) and
 * stamped with the operation's start, so a hook created just before a crash is found, not recreated.
 */
export function hookInstance(h: HookRun, revision: string, startedAt: string): Manifest {
  const generate = h.object.hook?.generateName;
  const { metadata } = h.object.manifest;
  const annotations = { ...metadata.annotations, [HOOK_OPERATION_ANNOTATION]: startedAt };
  const named: Record<string, unknown> = { ...metadata, annotations, ...(generate ? { name: generatedName(generate, revision, h.phase, startedAt) } : {}) };
  delete named.generateName;
  return { ...h.object.manifest, metadata: named };
}

function instance(run: Run, h: HookRun): Manifest {
  return hookInstance(h, run.input.revision, run.startedAt);
}

function refOfInstance(h: HookRun, manifest: Manifest): ObjectRef {
  return { ...h.object.ref, name: manifest.metadata.name ?? h.object.ref.name };
}

/** The operation's steps as its record lists them: hooks by the names this operation gives them. */
export function operationTasks(input: { resources: readonly PlannedObject[]; hooks: readonly PlannedObject[]; revision: string; startedAt: string }): OperationTask[] {
  const name = (h: HookRun) => displayRef(refOfInstance(h, hookInstance(h, input.revision, input.startedAt)));
  const steps = planSteps(input.resources, input.hooks).map((s): OperationTask => ({
    phase: s.phase, wave: s.wave, ...(s.resources.length > 0 ? { objects: s.resources.length } : {}), ...(s.hooks.length > 0 ? { hooks: s.hooks.map(name) } : {}),
  }));
  const prune: OperationTask = { phase: "Prune", wave: 0 };
  const post = steps.findIndex((s) => s.phase === "PostSync");
  steps.splice(post < 0 ? steps.length : post, 0, prune);
  const fail = syncFailSteps(input.hooks).map((wave): OperationTask => ({ phase: "SyncFail", wave: wave[0]?.object.wave ?? 0, hooks: wave.map(name) }));
  return [...steps, ...fail];
}

/** Starts (or observes) the hooks of one step; records the results when one was created. */
async function startHooks(run: Run, hooks: readonly HookRun[], message: string): Promise<ResourceResult[]> {
  const created = run.created;
  const results = await Promise.all(hooks.map((h) => runHook(run, h)));
  if (run.created > created) await run.input.progress?.([...run.results.values()], message);
  return results;
}

/** Starts a hook not started yet in this operation, or reads how far a started one has got. */
async function runHook(run: Run, h: HookRun): Promise<ResourceResult> {
  const manifest = instance(run, h);
  const ref = refOfInstance(h, manifest);
  const key = resultKey(h.phase, ref);
  const before = run.results.get(key);
  if (before && before.hookPhase !== "Running") return before;
  const base = { ...ref, hookType: h.phase, syncPhase: h.phase } as const;
  let result: ResourceResult;
  try {
    const live = before ? await run.input.cluster.get(ref) : await start(run, h, manifest, ref);
    const progress = hookProgress(live);
    result = { ...base, status: "Synced", hookPhase: progress.phase, message: progress.message ?? (before?.message ?? `${ref.kind.toLowerCase()}/${ref.name} created`) };
    if (before && !live) result = { ...base, status: "Synced", hookPhase: "Failed", message: "the hook was deleted before it completed" };
  } catch (err) {
    result = { ...base, status: "SyncFailed", hookPhase: "Failed", message: errorMessage(err) };
  }
  run.results.set(key, result);
  return result;
}

/** Creates the hook; one left by an earlier operation is deleted first (BeforeHookCreation) or applied over. */
async function start(run: Run, h: HookRun, manifest: Manifest, ref: ObjectRef): Promise<Manifest> {
  const { cluster } = run.input;
  const existing = await cluster.get(ref);
  // Created by this operation before the agent stopped (its record had not said so yet): wait on it.
  if (existing?.metadata.annotations?.[HOOK_OPERATION_ANNOTATION] === run.startedAt) return existing;
  if (existing && !h.object.hook?.deletePolicies.includes("BeforeHookCreation")) return await cluster.apply(manifest);
  if (existing) {
    await cluster.delete(ref);
    await gone(cluster, ref);
  }
  run.created++;
  return await cluster.create(manifest);
}

async function gone(cluster: Cluster, ref: ObjectRef, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await cluster.get(ref)) {
    if (Date.now() > deadline) throw new Error(`${displayRef(ref)} from an earlier sync is still being deleted after ${timeoutMs / 1000}s`);
    await sleep(250);
  }
}

/** Deletes the hooks of this operation whose delete policy matches how the operation ended. */
async function deleteHooks(run: Run, policy: "HookSucceeded" | "HookFailed"): Promise<void> {
  const runs = [...planSteps([], run.input.hooks).flatMap((s) => s.hooks), ...syncFailSteps(run.input.hooks).flat()];
  for (const h of runs) {
    if (!h.object.hook?.deletePolicies.includes(policy)) continue;
    const ref = refOfInstance(h, instance(run, h));
    if (!run.results.has(resultKey(h.phase, ref))) continue;
    await run.input.cluster.delete(ref);
  }
}

function resultKey(phase: SyncPhase, ref: Pick<ObjectRef, "group" | "kind" | "namespace" | "name">): string {
  return `${phase}:${identity({ ...ref, version: "" })}`;
}
