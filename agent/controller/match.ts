// Matching desired to live, as gitops-engine's sync.Reconcile does: each planned object with the live
// object of the same identity, objects another Application tracks set apart, and the objects the
// previous inventory holds that Git no longer has. Pure: what the read-live stage fetched comes in.
import { TRACKING_ANNOTATION, type Manifest, type ObjectRef } from "../api/types.ts";
import { roleOf } from "../apply/hooks.ts";
import { identity, refOf } from "../apply/inventory.ts";
import { trackedElsewhere } from "../apply/ownership.ts";
import type { PlannedObject } from "../apply/plan.ts";

export interface Pair {
  readonly planned: PlannedObject;
  readonly live: Manifest | undefined;
  /** The live object carries another Application's tracking id: never taken over. */
  readonly sharedWith?: string;
}

export interface StaleLive {
  readonly ref: ObjectRef;
  readonly live: Manifest | undefined;
}

export interface Matched {
  readonly pairs: readonly Pair[];
  /** Objects of the previous inventory that Git no longer holds, with what is live of them. */
  readonly stale: readonly StaleLive[];
}

/** Pairs each planned object with `live[i]` (read in the same order), and marks objects owned elsewhere. */
export function match(planned: readonly PlannedObject[], live: readonly (Manifest | undefined)[], stale: readonly StaleLive[]): Matched {
  const pairs = planned.map((p, i): Pair => {
    const current = live[i];
    const owner = trackedElsewhere(p.manifest, current);
    return owner === undefined ? { planned: p, live: current } : { planned: p, live: current, sharedWith: owner };
  });
  return { pairs, stale };
}

/**
 * Live objects that carry this app's tracking id but that neither Git nor the inventory names: left
 * by a sync whose status (inventory) write was lost. They are stale like any inventory entry, so
 * prune deletes them. A hook is never one (hooks are not pruned); neither is an object whose
 * annotation names it differently (a copy of the object under another name or namespace).
 */
export function trackedOrphans(tracked: readonly Manifest[], known: readonly ObjectRef[], trackingIdOf: (ref: ObjectRef) => string): ObjectRef[] {
  const names = new Set(known.map(identity));
  return tracked.flatMap((obj) => {
    const ref = refOf(obj);
    const orphan = roleOf(obj).kind === "resource" && !names.has(identity(ref)) && obj.metadata.annotations?.[TRACKING_ANNOTATION] === trackingIdOf(ref);
    return orphan ? [ref] : [];
  });
}
