// The steps of a sync operation, in Argo CD's order: PreSync hooks, then the Sync phase (CRDs and
// Namespaces first, then each wave's objects together with that wave's Sync hooks), then PostSync
// hooks; inside a phase, hooks go by wave. SyncFail hooks are planned apart: they run only when an
// earlier step failed. Pure, so each order is a table row in phases.test.ts.
import { syncPhasesOf, type SyncPhase } from "./hooks.ts";
import type { PlannedObject } from "./plan.ts";

/** One hook run: a hook object in one of its phases (a hook may name several). */
export interface HookRun {
  readonly object: PlannedObject;
  readonly phase: SyncPhase;
}

export interface Step {
  readonly phase: Exclude<SyncPhase, "SyncFail">;
  readonly wave: number;
  /** Objects to apply in this step (Sync phase only). */
  readonly resources: readonly PlannedObject[];
  readonly hooks: readonly HookRun[];
}

/** The ordered steps of an operation. `resources` are the non-hook planned objects, `hooks` the hooks. */
export function planSteps(resources: readonly PlannedObject[], hooks: readonly PlannedObject[]): Step[] {
  const runs = hookRuns(hooks);
  const steps: Step[] = [...byWave("PreSync", runs.filter((r) => r.phase === "PreSync"), [])];
  const first = resources.filter((o) => o.phase === 0);
  if (first.length > 0) steps.push({ phase: "Sync", wave: Math.min(...first.map((o) => o.wave)), resources: first, hooks: [] });
  steps.push(...byWave("Sync", runs.filter((r) => r.phase === "Sync"), resources.filter((o) => o.phase !== 0)));
  steps.push(...byWave("PostSync", runs.filter((r) => r.phase === "PostSync"), []));
  return steps;
}

/** SyncFail hooks by wave: what runs once the operation failed. */
export function syncFailSteps(hooks: readonly PlannedObject[]): HookRun[][] {
  const runs = hookRuns(hooks).filter((r) => r.phase === "SyncFail");
  return waves(runs.map((r) => r.object.wave)).map((w) => runs.filter((r) => r.object.wave === w));
}

function hookRuns(hooks: readonly PlannedObject[]): HookRun[] {
  return hooks.flatMap((object) => syncPhasesOf(object.hook?.types ?? []).map((phase) => ({ object, phase })));
}

function byWave(phase: Step["phase"], runs: readonly HookRun[], resources: readonly PlannedObject[]): Step[] {
  return waves([...runs.map((r) => r.object.wave), ...resources.map((o) => o.wave)]).map((wave) => ({
    phase, wave, resources: resources.filter((o) => o.wave === wave), hooks: runs.filter((r) => r.object.wave === wave),
  }));
}

const waves = (all: readonly number[]) => [...new Set(all)].sort((a, b) => a - b);
