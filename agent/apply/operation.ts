// One sync operation, run as Argo CD runs it, by the task engine (tasks.ts): PreSync hooks, the Sync
// phase (waves of objects with their Sync hooks), prune, PostSync hooks; a group starts only when the
// tasks before it succeeded (hooks complete, objects healthy); a failure runs the SyncFail hooks and
// ends the operation Failed. Re-entrant: an operation spans reconciles, and what its hooks did is kept
// in the operation state (`syncResult.resources`), so a later reconcile (or a restarted agent) picks it
// up where it stopped and never starts a hook twice. Delete policies are applied when it ends.
import { setTimeout as sleep } from "node:timers/promises";
import { HOOK_OPERATION_ANNOTATION, type Manifest, type ObjectRef, type OperationState, type OperationTask, type ResourceResult } from "../api/types.ts";
import { errorMessage } from "../errors.ts";
import type { Change } from "./changeset.ts";
import type { Cluster } from "./cluster.ts";
import { generatedName, hookProgress, type SyncPhase } from "./hooks.ts";
import { displayRef, identity } from "./inventory.ts";
import type { PlannedObject } from "./plan.ts";
import type { ApplyResult } from "./sync.ts";
import { isFinal, nextStep, planTasks, type Gate, type HookRun, type Task, type TaskState } from "./tasks.ts";

export interface OperationInput {
  /** Where hooks are created, read and deleted (the writer: the project's ServiceAccount when it impersonates). */
  readonly cluster: Cluster;
  readonly revision: string;
  readonly now: string;
  /** The operation state the last reconcile left (or the record just written); continued when it is Running at this revision. */
  readonly previous?: OperationState | undefined;
  /** The objects this app applies (hooks apart). */
  readonly resources: readonly PlannedObject[];
  readonly hooks: readonly PlannedObject[];
  /** Applies the objects of one task. */
  readonly apply: (objects: readonly PlannedObject[]) => Promise<ApplyResult>;
  /** Whether a wave's objects let the next group start: not yet (`wait`), never (`failed`: one is Degraded). */
  readonly ready: (objects: readonly PlannedObject[], applied: ApplyResult) => Gate;
  /** Told the hook results after each group that created a hook: the operation record keeps them (a restart waits on them). */
  readonly progress?: (hooks: readonly ResourceResult[], message: string) => Promise<void>;
  /** Deletes what left Git (after the Sync phase, before PostSync); `waiting` while objects terminate. */
  readonly prune: () => Promise<{ readonly changes: readonly Change[]; readonly waiting?: string }>;
}

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
  readonly tasks: readonly Task[];
  readonly states: Map<string, TaskState>;
  /** Hook results by run key (phase + the hook's name for this operation). */
  readonly results: Map<string, ResourceResult>;
  readonly changes: Change[];
  readonly live: Map<PlannedObject, Manifest>;
  /** Hooks this reconcile created: each creation is recorded before the next group. */
  created: number;
}

/** Runs (or continues) the operation as far as it can go in this reconcile. */
export async function runOperation(input: OperationInput): Promise<OperationResult> {
  const continuing = input.previous?.phase === "Running" && input.previous.syncResult?.revision === input.revision;
  const startedAt = continuing ? input.previous?.startedAt ?? input.now : input.now;
  const results = new Map<string, ResourceResult>();
  if (continuing) for (const r of input.previous?.syncResult?.resources ?? []) if (r.syncPhase && r.hookType) results.set(resultKey(r.syncPhase, r), r);
  const run: Run = { input, startedAt, tasks: planTasks(input.resources, input.hooks), states: new Map(), results, changes: [], live: new Map(), created: 0 };
  await observeHooks(run);
  for (;;) {
    const next = nextStep(run.tasks, run.states);
    if (next.kind === "run") {
      await runGroup(run, next.tasks);
      continue;
    }
    if (next.kind === "wait") {
      skipPending(run, `waiting for ${next.message}`);
      return finish(run, "Running", next.message);
    }
    skipPending(run, "an earlier step failed");
    await deleteHooks(run, next.phase === "Succeeded" ? "HookSucceeded" : "HookFailed");
    return finish(run, next.phase, next.message);
  }
}

/** The hooks an earlier reconcile of this operation started: how far each has got now. */
async function observeHooks(run: Run): Promise<void> {
  await Promise.all(run.tasks.map(async (t) => {
    if (t.kind !== "hook" || !run.results.has(hookKey(run, t.run))) return;
    run.states.set(t.id, hookState(await runHook(run, t.run)));
  }));
}

/** Starts one group: its objects applied or prune run, then its hooks created (and recorded). */
async function runGroup(run: Run, tasks: readonly Task[]): Promise<void> {
  const created = run.created;
  for (const t of tasks) {
    if (t.kind === "apply") run.states.set(t.id, await applyTask(run, t));
    if (t.kind === "prune") run.states.set(t.id, await pruneTask(run));
  }
  if (tasks.some((t) => run.states.get(t.id)?.state === "failed")) return;
  await Promise.all(tasks.map(async (t) => {
    if (t.kind === "hook") run.states.set(t.id, hookState(await runHook(run, t.run)));
  }));
  if (run.created > created) await run.input.progress?.([...run.results.values()], `${tasks[0]?.phase ?? ""} hooks of wave ${tasks[0]?.wave ?? 0} started`);
}

async function applyTask(run: Run, t: Extract<Task, { kind: "apply" }>): Promise<TaskState> {
  const applied = await run.input.apply(t.objects);
  run.changes.push(...applied.changes);
  for (const [o, m] of applied.live) run.live.set(o, m);
  const failed = applied.changes.find((c) => c.action === "failed");
  if (failed) return { state: "failed", message: `${displayRef(failed.ref)}: ${failed.message ?? "apply failed"}` };
  // As Argo CD: the last wave's objects need not become healthy; an earlier wave's Degraded object fails the operation.
  if (isFinal(run.tasks, t.group)) return { state: "succeeded" };
  const gate = run.input.ready(t.objects, applied);
  if (gate.kind === "failed") return { state: "failed", message: `wave ${t.wave}: ${gate.reason}` };
  return gate.kind === "wait" ? { state: "running", message: `wave ${t.wave} to become healthy: ${gate.reason}` } : { state: "succeeded" };
}

async function pruneTask(run: Run): Promise<TaskState> {
  const pruned = await run.input.prune();
  run.changes.push(...pruned.changes);
  const failed = pruned.changes.find((c) => c.action === "failed");
  if (failed) return { state: "failed", message: `${displayRef(failed.ref)}: ${failed.message ?? "prune failed"}` };
  return pruned.waiting ? { state: "running", message: pruned.waiting } : { state: "succeeded" };
}

function hookState(r: ResourceResult): TaskState {
  if (r.hookPhase === "Failed" || r.status === "SyncFailed") return { state: "failed", message: `${r.syncPhase ?? ""} hook ${displayRef(r)} failed: ${r.message ?? ""}` };
  if (r.hookPhase === "Running") return { state: "running", message: `${r.syncPhase ?? ""} hook ${displayRef(r)} to complete${r.message ? `: ${r.message}` : ""}` };
  return { state: "succeeded" };
}

/** What later groups would apply is reported as held back, as one change set says what happened to each object. */
function skipPending(run: Run, message: string): void {
  for (const t of run.tasks) {
    if (t.kind !== "apply" || run.states.has(t.id)) continue;
    run.changes.push(...t.objects.map((o) => ({ ref: o.ref, action: "skipped" as const, message })));
  }
}

function finish(run: Run, phase: OperationResult["phase"], message: string): OperationResult {
  return { phase, message, startedAt: run.startedAt, changes: run.changes, live: run.live, hooks: [...run.results.values()] };
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

/** The operation's tasks as its record lists them, group by group: hooks by the names this operation gives them. */
export function operationTasks(input: { resources: readonly PlannedObject[]; hooks: readonly PlannedObject[]; revision: string; startedAt: string }): OperationTask[] {
  const name = (h: HookRun) => displayRef(refOfInstance(h, hookInstance(h, input.revision, input.startedAt)));
  const tasks = planTasks(input.resources, input.hooks);
  return [...new Set(tasks.map((t) => t.group))].map((group): OperationTask => {
    const inGroup = tasks.filter((t) => t.group === group);
    const first = inGroup[0]!;
    const objects = inGroup.reduce((n, t) => n + (t.kind === "apply" ? t.objects.length : 0), 0);
    const hooks = inGroup.flatMap((t) => t.kind === "hook" ? [name(t.run)] : []);
    return { phase: first.phase, wave: first.wave, ...(objects > 0 ? { objects } : {}), ...(hooks.length > 0 ? { hooks } : {}) };
  });
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
  for (const t of run.tasks) {
    if (t.kind !== "hook" || !t.run.object.hook?.deletePolicies.includes(policy) || !run.results.has(hookKey(run, t.run))) continue;
    await run.input.cluster.delete(refOfInstance(t.run, instance(run, t.run)));
  }
}

function hookKey(run: Run, h: HookRun): string {
  return resultKey(h.phase, refOfInstance(h, instance(run, h)));
}

function resultKey(phase: SyncPhase, ref: Pick<ObjectRef, "group" | "kind" | "namespace" | "name">): string {
  return `${phase}:${identity({ ...ref, version: "" })}`;
}
