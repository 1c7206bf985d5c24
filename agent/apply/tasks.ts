// The task engine of a sync operation, in the shape of gitops-engine's sync context: one sorted list
// of tasks (PreSync hooks by wave; CRDs and Namespaces; each wave's objects with that wave's Sync
// hooks; prune, in reverse wave order; PostSync hooks by wave; SyncFail hooks by wave, run only once
// something failed) and one pure function from the tasks' states to what happens next and the
// operation's phase. The runner (operation.ts) does the I/O; each rule is a table row in tasks.test.ts.
import type { Manifest } from "../api/types.ts";
import { assessHealth } from "../health/index.ts";
import { syncPhasesOf, type SyncPhase } from "./hooks.ts";
import { displayRef, identity } from "./inventory.ts";
import type { PlannedObject } from "./plan.ts";

/** One hook run: a hook object in one of its phases (a hook may name several). */
export interface HookRun {
  readonly object: PlannedObject;
  readonly phase: SyncPhase;
}

export type TaskPhase = SyncPhase | "Prune";

interface TaskBase {
  /** Stable across reconciles of one operation. */
  readonly id: string;
  readonly phase: TaskPhase;
  readonly wave: number;
  /** Tasks of one group start together; a group starts when every task before it succeeded. */
  readonly group: number;
}

export type Task =
  | (TaskBase & { readonly kind: "apply"; readonly objects: readonly PlannedObject[] })
  | (TaskBase & { readonly kind: "hook"; readonly run: HookRun })
  | (TaskBase & { readonly kind: "prune" });

/** A task before its group number is known. */
type Ungrouped = Task extends infer T ? (T extends Task ? Omit<T, "group"> : never) : never;

export interface TaskState {
  readonly state: "pending" | "running" | "succeeded" | "failed";
  /** Why it runs or failed, as the operation's message says it. */
  readonly message?: string;
}

/** What the runner does next: start a group of tasks, wait for running ones, or end the operation. */
export type Next =
  | { readonly kind: "run"; readonly tasks: readonly Task[] }
  | { readonly kind: "wait"; readonly message: string }
  | { readonly kind: "done"; readonly phase: "Succeeded" | "Failed"; readonly message: string };

const PENDING: TaskState = { state: "pending" };

/** The operation's tasks in the order they run. `resources` are the planned objects that are not hooks. */
export function planTasks(resources: readonly PlannedObject[], hooks: readonly PlannedObject[]): Task[] {
  const runs = hooks.flatMap((object) => syncPhasesOf(object.hook?.types ?? []).map((phase): HookRun => ({ object, phase })));
  const of = (phase: SyncPhase) => runs.filter((r) => r.phase === phase);
  const groups: Ungrouped[][] = [];
  for (const wave of waves(of("PreSync").map((r) => r.object.wave))) groups.push(hookTasks(of("PreSync"), wave));
  const containers = resources.filter((o) => o.phase === 0);
  if (containers.length > 0) groups.push([{ kind: "apply", id: "apply:containers", phase: "Sync", wave: Math.min(...containers.map((o) => o.wave)), objects: containers }]);
  const objects = resources.filter((o) => o.phase !== 0);
  for (const wave of waves([...objects.map((o) => o.wave), ...of("Sync").map((r) => r.object.wave)])) {
    const inWave = objects.filter((o) => o.wave === wave);
    const apply: Ungrouped[] = inWave.length > 0 ? [{ kind: "apply", id: `apply:${wave}`, phase: "Sync", wave, objects: inWave }] : [];
    groups.push([...apply, ...hookTasks(of("Sync"), wave)]);
  }
  groups.push([{ kind: "prune", id: "prune", phase: "Prune", wave: 0 }]);
  for (const phase of ["PostSync", "SyncFail"] as const) {
    for (const wave of waves(of(phase).map((r) => r.object.wave))) groups.push(hookTasks(of(phase), wave));
  }
  return groups.flatMap((tasks, group) => tasks.map((t): Task => ({ ...t, group })));
}

function hookTasks(runs: readonly HookRun[], wave: number): Ungrouped[] {
  return runs.filter((r) => r.object.wave === wave).map((run) => ({ kind: "hook", id: `${run.phase}:${identity(run.object.ref)}`, phase: run.phase, wave, run }));
}

const waves = (all: readonly number[]) => [...new Set(all)].sort((a, b) => a - b);

/**
 * What happens next, from the state of every task: a failure runs the SyncFail hooks (group by group)
 * then ends the operation Failed; a running task is waited for; otherwise the first group with a
 * pending task starts; nothing left, the operation Succeeded.
 */
export function nextStep(tasks: readonly Task[], states: ReadonlyMap<string, TaskState>): Next {
  const state = (t: Task) => states.get(t.id) ?? PENDING;
  const [onFail, main] = split(tasks, (t) => t.phase === "SyncFail");
  const failed = main.find((t) => state(t).state === "failed");
  if (failed) return afterFailure(onFail, state, state(failed).message ?? `${describe(failed)} failed`);
  const running = main.find((t) => state(t).state === "running");
  if (running) return { kind: "wait", message: state(running).message ?? `waiting for ${describe(running)}` };
  return firstPending(main, state) ?? { kind: "done", phase: "Succeeded", message: "successfully synced (all tasks run)" };
}

function afterFailure(onFail: readonly Task[], state: (t: Task) => TaskState, reason: string): Next {
  const running = onFail.find((t) => state(t).state === "running");
  if (running) return { kind: "wait", message: `${reason}; ${describe(running)} running` };
  const failed = onFail.find((t) => state(t).state === "failed");
  if (failed) return { kind: "done", phase: "Failed", message: `${reason}; one or more SyncFail hooks failed: ${state(failed).message ?? describe(failed)}` };
  return firstPending(onFail, state) ?? { kind: "done", phase: "Failed", message: reason };
}

function firstPending(tasks: readonly Task[], state: (t: Task) => TaskState): Next | undefined {
  const first = tasks.find((t) => state(t).state === "pending");
  if (!first) return undefined;
  return { kind: "run", tasks: tasks.filter((t) => t.group === first.group && state(t).state === "pending") };
}

/** Whether a group is the last to apply or run anything before the end (prune aside): its objects need not become healthy, as in Argo CD. */
export function isFinal(tasks: readonly Task[], group: number): boolean {
  return !tasks.some((t) => t.group > group && t.phase !== "SyncFail" && t.kind !== "prune");
}

/** What a wave's objects say about the next group: go on, wait for them, or fail the operation. */
export type Gate = { readonly kind: "ready" } | { readonly kind: "wait" | "failed"; readonly reason: string };

/**
 * A wave lets the next group start when its objects are Healthy or Suspended; Progressing, Missing or
 * Unknown ones are waited for; a Degraded one fails the operation, as gitops-engine's sync context does.
 */
export function waveGate(live: readonly (Manifest | undefined)[]): Gate {
  let wait: string | undefined;
  for (const obj of live) {
    const h = assessHealth(obj);
    if (h.status === "Healthy" || h.status === "Suspended") continue;
    const name = obj ? displayRef({ kind: obj.kind, name: obj.metadata.name ?? "", namespace: obj.metadata.namespace }) : "an object";
    const reason = `${name} is ${h.status}${h.message ? `: ${h.message}` : ""}`;
    if (h.status === "Degraded") return { kind: "failed", reason };
    wait ??= reason;
  }
  return wait === undefined ? { kind: "ready" } : { kind: "wait", reason: wait };
}

function describe(t: Task): string {
  if (t.kind === "hook") return `${t.phase} hook ${displayRef(t.run.object.ref)}`;
  return t.kind === "apply" ? `wave ${t.wave}` : "prune";
}

function split<T>(all: readonly T[], pick: (t: T) => boolean): [T[], T[]] {
  return [all.filter(pick), all.filter((t) => !pick(t))];
}
