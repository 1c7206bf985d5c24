// PreDelete and PostDelete hooks, Argo CD's model (PreDelete since Argo CD 3.x): when an Application
// carrying the pre-delete finalizer is deleted, its PreDelete hooks are created first and nothing of the
// app is deleted until every one is healthy; with the post-delete finalizer, once its resources are
// gone, the PostDelete hooks are created and the Application waits for them. A failed hook is deleted,
// so the next attempt creates it again from Git (fixed or not), and the deletion waits. Hooks that ask
// for HookSucceeded are deleted once all succeeded; the others stay, as in Argo CD.
import type { Manifest, ObjectRef } from "../api/types.ts";
import { errorMessage } from "../errors.ts";
import type { Cluster } from "./cluster.ts";
import { generatedName, hookProgress, type DeleteHookType } from "./hooks.ts";
import { KubeApiError } from "./http.ts";
import { displayRef } from "./inventory.ts";
import type { PlannedObject } from "./plan.ts";

export type DeleteHookOutcome =
  | { readonly state: "done"; readonly message: string }
  | { readonly state: "running"; readonly message: string }
  | { readonly state: "failed"; readonly message: string };

export interface DeleteHookInput {
  readonly cluster: Cluster;
  /** The app's planned hooks (only those of `type` are run). */
  readonly hooks: readonly PlannedObject[];
  /** Names `generateName` hooks: the same name on every attempt of one deletion. */
  readonly revision: string;
  readonly deletionTimestamp: string;
}

/** The hooks of `type` among planned objects. */
export function deleteHooks(planned: readonly PlannedObject[], type: DeleteHookType): PlannedObject[] {
  return planned.filter((o) => o.hook?.types.includes(type));
}

/** The PostDelete hooks among planned objects. */
export function postDeleteHooks(planned: readonly PlannedObject[]): PlannedObject[] {
  return deleteHooks(planned, "PostDelete");
}

/** The PreDelete hooks among planned objects. */
export function preDeleteHooks(planned: readonly PlannedObject[]): PlannedObject[] {
  return deleteHooks(planned, "PreDelete");
}

/** One step of running the PostDelete hooks; call again while it says `running`. */
export function runPostDeleteHooks(input: DeleteHookInput): Promise<DeleteHookOutcome> {
  return runDeleteHooks(input, "PostDelete");
}

/** One step of running the deletion hooks of `type`; call again while it says `running`. */
export async function runDeleteHooks(input: DeleteHookInput, type: DeleteHookType): Promise<DeleteHookOutcome> {
  const { cluster } = input;
  const hooks = deleteHooks(input.hooks, type).map((h) => ({ planned: h, manifest: instance(h, input, type) }));
  if (hooks.length === 0) return { state: "done", message: `no ${type} hooks` };
  let created = 0;
  const live: (Manifest | undefined)[] = [];
  for (const h of hooks) {
    const ref = refOfManifest(h.planned, h.manifest);
    let obj = await cluster.get(ref);
    if (!obj) {
      try {
        obj = await cluster.create(h.manifest);
        created++;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.code === 409)) return { state: "failed", message: `${type} hook ${displayRef(ref)} could not be created: ${errorMessage(err)}` };
      }
    }
    live.push(obj);
  }
  const plural = (n: number) => `${type} hook${n === 1 ? "" : "s"}`;
  if (created > 0) return { state: "running", message: `created ${created} ${plural(created)}` };
  const progress = live.map((obj) => hookProgress(obj));
  const failed = hooks.filter((_, i) => progress[i]!.phase === "Failed");
  if (failed.length > 0) {
    for (const h of failed) await cluster.delete(refOfManifest(h.planned, h.manifest));
    return {
      state: "failed",
      message: `${plural(failed.length)} failed: ${failed.map((h, i) => `${displayRef(refOfManifest(h.planned, h.manifest))}${progress[i]?.message ? ` (${progress[i].message})` : ""}`).join(", ")}; `
        + "fix the hook in Git (it is created again), or delete it by hand to finish the deletion",
    };
  }
  const running = hooks.filter((_, i) => progress[i]!.phase === "Running");
  if (running.length > 0) return { state: "running", message: `waiting for ${type} hook ${running.map((h) => displayRef(refOfManifest(h.planned, h.manifest))).join(", ")}` };
  for (const h of hooks) if (h.planned.hook?.deletePolicies.includes("HookSucceeded")) await cluster.delete(refOfManifest(h.planned, h.manifest));
  return { state: "done", message: `${hooks.length} ${plural(hooks.length)} succeeded` };
}

function instance(h: PlannedObject, input: DeleteHookInput, type: DeleteHookType): Manifest {
  const generate = h.hook?.generateName;
  if (!generate) return h.manifest;
  const metadata: Record<string, unknown> = { ...h.manifest.metadata, name: generatedName(generate, input.revision, type, input.deletionTimestamp) };
  delete metadata.generateName;
  return { ...h.manifest, metadata };
}

function refOfManifest(h: PlannedObject, manifest: Manifest): ObjectRef {
  return { ...h.ref, name: manifest.metadata.name ?? h.ref.name };
}
