// Running a planned change from a command and telling the user what happened.
import type { RepoAccess } from "./access.ts";
import { commitChange, describeOutcome, type Outcome, type Planner } from "./commit.ts";

/** Commits (or previews) the planned change; prints the outcome on stdout and the plan's notes on stderr. */
export async function runAndReport(access: RepoAccess, planner: Planner, opts: { dryRun: boolean; guard: readonly string[] }): Promise<Outcome> {
  const outcome = await commitChange(access, planner, opts);
  for (const note of outcome.plan.notes ?? []) process.stderr.write(`${note}\n`);
  process.stdout.write(describeOutcome(outcome));
  return outcome;
}
