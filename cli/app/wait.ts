// Waits for an Application to reach a state, showing progress; shared by `app wait`, `app sync`
// and `app create --wait-timeout`.
import { setTimeout as sleep } from "node:timers/promises";
import type { TetherClient } from "../../agent/api/client.ts";

/** What the waits read: a TetherClient, or the agent's API after `tether login` (cli/app/backend.ts). */
export type AppReader = Pick<TetherClient, "getApplication" | "namespace">;
import type { Application, Condition } from "../../agent/api/types.ts";
import { NotFoundError, TimeoutError } from "../errors.ts";

export interface WaitOptions {
  readonly sync?: boolean;
  readonly health?: boolean;
  /** Also wait for a requested operation to be taken (the agent clears `operation`). */
  readonly operation?: boolean;
  /** Wait until the app has deployed this commit (a full SHA or its prefix), not just any. */
  readonly revision?: string;
  /** When the commit was made: conditions older than it belong to an earlier commit and are not final. */
  readonly since?: Date;
  /** `app wait` on a name that does not exist fails at once; `app create` waits for the agent to create it. */
  readonly missing?: "fail" | "wait";
  readonly timeoutMs: number;
  /** Called with the app at every poll that did not end the wait: a nudge such as a refresh. */
  readonly onPoll?: (app: Application) => Promise<void>;
  /** Where progress goes: stderr, so stdout stays clean for `-o json`. */
  readonly progress?: NodeJS.WriteStream;
}

/**
 * Conditions that only a new commit (or new keys) can clear: waiting longer cannot help. A
 * PolicyViolation is not among them, since the AppProject it needs may still be on its way.
 */
export const STUCK_CONDITIONS: ReadonlySet<string> = new Set(["PlaintextSecret", "DecryptionFailed", "RenderFailed", "EmptyRender", "SharedResource"]);

/** A failure a wait stops on: exit 1 with the conditions. */
export class StuckError extends Error {
  readonly exitCode: number = 1;
}

export function describeState(app: Application | undefined): string {
  if (!app) return "not found";
  const s = app.status;
  return `sync=${s?.sync?.status ?? "Unknown"} health=${s?.health?.status ?? "Unknown"}${s?.health?.message ? ` (${s.health.message})` : ""}`;
}

/** Whether the app deployed `revision` (a prefix of the full SHA is enough). */
export function atRevision(app: Application, revision: string | undefined): boolean {
  if (!revision) return true;
  const deployed = app.status?.sync?.revision ?? "";
  return deployed !== "" && (deployed.startsWith(revision) || revision.startsWith(deployed));
}

export function satisfied(app: Application, opts: Pick<WaitOptions, "sync" | "health" | "operation" | "revision">): boolean {
  const both = !opts.sync && !opts.health;
  const syncOk = app.status?.sync?.status === "Synced";
  const healthOk = app.status?.health?.status === "Healthy";
  const opOk = !opts.operation || app.operation === undefined;
  return opOk && atRevision(app, opts.revision) && (opts.sync || both ? syncOk : true) && (opts.health || both ? healthOk : true);
}

/** The conditions the wait should stop on: stuck kinds, set at or after `since`. */
export function stuckConditions(app: Application, since?: Date): Condition[] {
  return (app.status?.conditions ?? []).filter((c) => STUCK_CONDITIONS.has(c.type)
    && (!since || !c.lastTransitionTime || new Date(c.lastTransitionTime).getTime() >= since.getTime() - 1000));
}

/**
 * For `app sync`: once the agent has taken the operation and it ended without the app Synced, waiting
 * longer cannot help. Objects that need pruning say so ("N objects require pruning", as Argo CD's CLI
 * does); a failed operation gives its message. Both exit 1.
 */
export function stopWhenSyncEnded(app: Application): void {
  const op = app.status?.operationState;
  if (app.operation !== undefined || !op || op.phase === "Running" || app.status?.sync?.status === "Synced") return;
  const name = app.metadata?.name ?? "";
  if (op.phase === "Failed" || op.phase === "Error") throw new StuckError(`${name}: the sync ${op.phase.toLowerCase()}: ${op.message ?? ""}${conditionLines(app.status?.conditions ?? [])}`);
  const pruning = (op.syncResult?.resources ?? []).filter((r) => r.status === "PruneSkipped" && !(r.message ?? "").includes("no prune"));
  if (pruning.length > 0) {
    throw new StuckError(`${name}: ${pruning.length} object${pruning.length === 1 ? " requires" : "s require"} pruning: `
      + `${pruning.map((r) => [r.kind, r.namespace, r.name].filter(Boolean).join("/")).join(", ")}; run \`tether app sync ${name} --prune\` to delete them`);
  }
}

const conditionLines = (conditions: readonly Condition[]) => conditions.map((c) => `\n  ${c.type}: ${c.message}`).join("");

/** Resolves with the app once satisfied; throws at the timeout, or at once on a condition that will not clear. */
export async function waitForApp(client: AppReader, name: string, opts: WaitOptions): Promise<Application> {
  const deadline = Date.now() + opts.timeoutMs;
  const progress = new Progress(opts.progress ?? process.stderr);
  for (;;) {
    const app = await client.getApplication(name);
    if (!app && opts.missing === "fail") {
      throw new NotFoundError(`application ${name} not found in namespace ${client.namespace}; list them with \`tether app list\``);
    }
    if (app && satisfied(app, opts)) {
      progress.end();
      return app;
    }
    const stuck = app ? stuckConditions(app, opts.since) : [];
    if (stuck.length > 0) {
      progress.end();
      throw new StuckError(`${name}: ${describeState(app)}; stopped waiting: ${stuck.length === 1 ? "this condition does" : "these conditions do"} `
        + `not clear by itself: fix it in Git and push${conditionLines(stuck)}`);
    }
    if (app && opts.onPoll) await opts.onPoll(app);
    const state = progress.show(`${name}: ${describeState(app)}${revisionNote(app, opts.revision)}`);
    if (Date.now() > deadline) {
      progress.end();
      // An app that never appeared is "not found" (3), not "not ready" (4): `app create` waits for one to appear.
      if (!app) throw new NotFoundError(`application ${name} not found in namespace ${client.namespace} after ${opts.timeoutMs / 1000}s`);
      throw new TimeoutError(`timed out after ${opts.timeoutMs / 1000}s waiting for ${name}: ${state}${conditionLines(app.status?.conditions ?? [])}`);
    }
    await sleep(1000);
  }
}

function revisionNote(app: Application | undefined, revision: string | undefined): string {
  if (!revision || !app || atRevision(app, revision)) return "";
  return ` at ${short(app.status?.sync?.revision)}, waiting for ${short(revision)}`;
}

/** One updating line on a terminal; one line per change otherwise. */
class Progress {
  private last = "";
  private readonly started = Date.now();
  constructor(private readonly out: NodeJS.WriteStream) {}

  show(state: string): string {
    if (this.out.isTTY) this.out.write(`\r\x1b[K${state} (${Math.round((Date.now() - this.started) / 1000)}s)`);
    else if (state !== this.last) this.out.write(`${state}\n`);
    this.last = state;
    return state;
  }

  end(): void {
    if (this.out.isTTY && this.last) this.out.write("\n");
    this.last = "";
  }
}

const short = (rev: string | undefined) => (rev ?? "none").slice(0, 7);
