// `tether app suspend|resume`: automated sync and self-heal off and on for one Application, as
// Flux's `suspend` does. An annotation, not a spec change: the parent app-of-apps owns the spec
// (server-side apply would put `automated` back), while an annotation it never set stays.
import type { TetherClient } from "../../agent/api/client.ts";
import { SUSPEND_ANNOTATION, type Application } from "../../agent/api/types.ts";

export { SUSPEND_ANNOTATION };

export const isSuspended = (app: Application) => app.metadata?.annotations?.[SUSPEND_ANNOTATION] === "true";

/** Turns automation off (`suspend: true`) or back on; returns the app as the API server stored it. */
export async function setSuspended(client: TetherClient, name: string, suspend: boolean): Promise<Application> {
  return await client.mergeApplication(name, { metadata: { annotations: { [SUSPEND_ANNOTATION]: suspend ? "true" : null } } });
}
