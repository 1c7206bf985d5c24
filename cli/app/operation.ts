// Requested operations the agent carries out: a rollback to a history entry, a sync of some objects.
// Both write `operation.sync` on the Application (Argo CD's shape) and wait for the agent to clear it.
import { setTimeout as sleep } from "node:timers/promises";
import type { AppReader } from "./wait.ts";
import type { Application } from "../../agent/api/types.ts";
import { ConflictError, NotFoundError, TimeoutError, UsageError } from "../errors.ts";

/** The history entry a rollback deploys: `id`, or without one the entry before the current one (as `argocd app rollback`). */
export function rollbackTarget(app: Application, id: string | undefined): number {
  const history = app.status?.history ?? [];
  const name = app.metadata?.name ?? "";
  if (id === undefined) {
    const previous = history[history.length - 2];
    if (!previous) throw new NotFoundError(`${name} has ${history.length === 0 ? "no history" : "only one history entry"}; there is no earlier deployment to roll back to`);
    return previous.id;
  }
  if (!/^\d+$/.test(id)) throw new UsageError(`HISTORY_ID ${id}: expected a number from \`tether app history ${name}\``);
  const wanted = Number(id);
  if (!history.some((h) => h.id === wanted)) {
    throw new NotFoundError(`${name} has no history entry ${wanted} (entries: ${history.map((h) => h.id).join(", ") || "none"}); see \`tether app history ${name}\``);
  }
  return wanted;
}

/**
 * Argo CD's lock: a sync or rollback is refused while another operation is requested or running
 * (exit 5), as `argocd app sync` says "another operation is already in progress"; nothing is queued.
 */
export function refuseWhileRunning(app: Application): void {
  const name = app.metadata?.name ?? "";
  const state = app.status?.operationState;
  const running = state?.phase === "Running"
    ? `: ${state.message ?? "running"} (started ${state.startedAt ?? "?"} at ${(state.syncResult?.revision ?? "").slice(0, 7)})` : " (requested, not taken yet)";
  if (app.operation === undefined && state?.phase !== "Running") return;
  throw new ConflictError(`${name}: another operation is already in progress${running}; wait for it (\`tether app wait ${name}\`) and try again`);
}

/** Waits until the agent has taken the requested operation (it clears `operation`), then returns the app as it left it. */
export async function waitForOperation(client: AppReader, name: string, timeoutMs: number): Promise<Application> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const app = await client.getApplication(name);
    if (!app) throw new NotFoundError(`application ${name} not found in namespace ${client.namespace}`);
    if (app.operation === undefined && app.status?.operationState?.phase !== "Running") return app;
    if (Date.now() > deadline) {
      throw new TimeoutError(`timed out after ${timeoutMs / 1000}s waiting for the agent to carry out the operation on ${name}; is \`tether agent\` running?`);
    }
    await sleep(1000);
  }
}
