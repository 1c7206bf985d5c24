// Waits for an Application to reach a state, showing progress; shared by `app wait`, `app sync`
// and `app create --wait-timeout`.
import { setTimeout as sleep } from "node:timers/promises";
import type { TetherClient } from "../../agent/api/client.ts";
import type { Application } from "../../agent/api/types.ts";
import { NotFoundError, TimeoutError } from "../errors.ts";

export interface WaitOptions {
  readonly sync?: boolean;
  readonly health?: boolean;
  /** Also wait for a requested operation to be taken (the agent clears `operation`). */
  readonly operation?: boolean;
  readonly timeoutMs: number;
  /** Where progress goes: stderr, so stdout stays clean for `-o json`. */
  readonly progress?: NodeJS.WriteStream;
}

export function describeState(app: Application | undefined): string {
  if (!app) return "not found";
  const s = app.status;
  return `sync=${s?.sync?.status ?? "Unknown"} health=${s?.health?.status ?? "Unknown"}${s?.health?.message ? ` (${s.health.message})` : ""}`;
}

export function satisfied(app: Application, opts: Pick<WaitOptions, "sync" | "health" | "operation">): boolean {
  const both = !opts.sync && !opts.health;
  const syncOk = app.status?.sync?.status === "Synced";
  const healthOk = app.status?.health?.status === "Healthy";
  const opOk = !opts.operation || app.operation === undefined;
  return opOk && (opts.sync || both ? syncOk : true) && (opts.health || both ? healthOk : true);
}

/** Resolves with the app once satisfied; throws TimeoutError with its conditions at the timeout. */
export async function waitForApp(client: TetherClient, name: string, opts: WaitOptions): Promise<Application> {
  const deadline = Date.now() + opts.timeoutMs;
  const out = opts.progress ?? process.stderr;
  const started = Date.now();
  let last = "";
  for (;;) {
    const app = await client.getApplication(name);
    if (app && satisfied(app, opts)) {
      if (out.isTTY && last) out.write("\n");
      return app;
    }
    const state = `${name}: ${describeState(app)}`;
    if (out.isTTY) out.write(`\r\x1b[K${state} (${Math.round((Date.now() - started) / 1000)}s)`);
    else if (state !== last) out.write(`${state}\n`);
    last = state;
    if (Date.now() > deadline) {
      if (out.isTTY) out.write("\n");
      // An app that never appeared is "not found" (3), not "not ready" (4): `app create` waits for one to appear.
      if (!app) throw new NotFoundError(`application ${name} not found in namespace ${client.namespace} after ${opts.timeoutMs / 1000}s`);
      const conditions = (app?.status?.conditions ?? []).map((c) => `  ${c.type}: ${c.message}`).join("\n");
      throw new TimeoutError(`timed out after ${opts.timeoutMs / 1000}s waiting for ${name}: ${describeState(app)}${conditions ? `\n${conditions}` : ""}`);
    }
    await sleep(1000);
  }
}
