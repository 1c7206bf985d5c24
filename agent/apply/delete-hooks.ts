// PostDelete hooks, Argo CD's model: when an Application carrying the post-delete finalizer is
// deleted, once its resources are gone, the PostDelete hooks of its render are created; the deletion
// waits until every one is healthy (a Job complete, a Pod succeeded). A failed one is deleted, so the
// next attempt creates it again from Git (fixed or not), and the deletion waits. Hooks that ask for
// HookSucceeded are deleted once all succeeded; the others stay, as in Argo CD.
import type { Manifest, ObjectRef } from "../api/types.ts";
import { errorMessage } from "../errors.ts";
import type { Cluster } from "./cluster.ts";
import { generatedName, hookProgress } from "./hooks.ts";
import { KubeApiError } from "./http.ts";
import { displayRef } from "./inventory.ts";
import type { PlannedObject } from "./plan.ts";

export type PostDeleteOutcome =
  | { readonly state: "done"; readonly message: string }
  | { readonly state: "running"; readonly message: string }
  | { readonly state: "failed"; readonly message: string };

export interface PostDeleteInput {
  readonly cluster: Cluster;
  /** The app's planned hooks (only those with the PostDelete type are run). */
  readonly hooks: readonly PlannedObject[];
  /** Names `generateName` hooks: the same name on every attempt of one deletion. */
  readonly revision: string;
  readonly deletionTimestamp: string;
}

/** The PostDelete hooks among planned objects. */
export function postDeleteHooks(planned: readonly PlannedObject[]): PlannedObject[] {
  return planned.filter((o) => o.hook?.types.includes("PostDelete"));
}

/** One step of running the PostDelete hooks; call again while it says `running`. */
export async function runPostDeleteHooks(input: PostDeleteInput): Promise<PostDeleteOutcome> {
  const { cluster } = input;
  const hooks = postDeleteHooks(input.hooks).map((h) => ({ planned: h, manifest: instance(h, input) }));
  if (hooks.length === 0) return { state: "done", message: "no PostDelete hooks" };
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
        if (!(err instanceof KubeApiError && err.code === 409)) return { state: "failed", message: `PostDelete hook ${displayRef(ref)} could not be created: ${errorMessage(err)}` };
      }
    }
    live.push(obj);
  }
  if (created > 0) return { state: "running", message: `created ${created} PostDelete hook${created === 1 ? "" : "s"}` };
  const progress = live.map((obj) => hookProgress(obj));
  const failed = hooks.filter((_, i) => progress[i]!.phase === "Failed");
  if (failed.length > 0) {
    for (const h of failed) await cluster.delete(refOfManifest(h.planned, h.manifest));
    return {
      state: "failed",
      message: `PostDelete hook${failed.length === 1 ? "" : "s"} failed: ${failed.map((h, i) => `${displayRef(refOfManifest(h.planned, h.manifest))}${progress[i]?.message ? ` (${progress[i].message})` : ""}`).join(", ")}; `
        + "fix the hook in Git (it is created again), or delete it by hand to finish the deletion",
    };
  }
  const running = hooks.filter((_, i) => progress[i]!.phase === "Running");
  if (running.length > 0) return { state: "running", message: `waiting for PostDelete hook ${running.map((h) => displayRef(refOfManifest(h.planned, h.manifest))).join(", ")}` };
  for (const h of hooks) if (h.planned.hook?.deletePolicies.includes("HookSucceeded")) await cluster.delete(refOfManifest(h.planned, h.manifest));
  return { state: "done", message: `${hooks.length} PostDelete hook${hooks.length === 1 ? "" : "s"} succeeded` };
}

function instance(h: PlannedObject, input: PostDeleteInput): Manifest {
  const generate = h.hook?.generateName;
  if (!generate) return h.manifest;
  const metadata: Record<string, unknown> = { ...h.manifest.metadata, name: generatedName(generate, input.revision, "PostDelete", input.deletionTimestamp) };
  delete metadata.generateName;
  return { ...h.manifest, metadata };
}

function refOfManifest(h: PlannedObject, manifest: Manifest): ObjectRef {
  return { ...h.ref, name: manifest.metadata.name ?? h.ref.name };
}
