// Who owns a live object: the Application whose tracking id it carries. Tether never takes over an
// object another Application tracks (Argo CD warns and applies over it unless FailOnSharedResource=true;
// Tether leaves it and says so in condition SharedResource). Pure: the match stage and an apply that
// finds an object the live cache did not hold both ask here.
import { TRACKING_ANNOTATION, type Manifest, type ObjectRef } from "../api/types.ts";
import { displayRef } from "./inventory.ts";

/**
 * The Application (`namespace/name`) that tracks `live` when it is not the one `desired` is rendered
 * for; undefined when the object is not live, tracks no Application, or tracks this one.
 */
export function trackedElsewhere(desired: Manifest, live: Manifest | undefined): string | undefined {
  const owner = live?.metadata.annotations?.[TRACKING_ANNOTATION];
  if (owner === undefined || owner === desired.metadata.annotations?.[TRACKING_ANNOTATION]) return undefined;
  return owner.split(":")[0] ?? owner;
}

/** `ConfigMap/web/settings is already managed by tether-system/other; not taken over`: condition SharedResource's line. */
export function sharedMessage(ref: ObjectRef, owner: string): string {
  return `${displayRef(ref)} is already managed by ${owner}; not taken over`;
}
