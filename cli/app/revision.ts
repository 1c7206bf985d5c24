// `app wait --revision SHA|HEAD`: the commit to wait for, and when it was made, from the local clone.
import { gitRevArgv, runTool } from "../../agent/exec.ts";
import { UsageError } from "../errors.ts";

export interface Commit {
  readonly sha: string;
  /** The committer date; absent for a SHA this clone does not have. */
  readonly committedAt?: Date;
}

/** Resolves REV in the clone at `cwd`; a hex SHA the clone does not know is taken as it is. */
export async function resolveCommit(rev: string, cwd = process.cwd()): Promise<Commit> {
  const shown = await runTool("git", gitRevArgv({ options: ["show", "-s", "--format=%H %cI"], positionals: [`${rev}^{commit}`] }), { cwd, reject: false });
  if (shown.exitCode === 0) {
    const [sha, date] = shown.stdout.trim().split(" ");
    return { sha: sha!, ...(date ? { committedAt: new Date(date) } : {}) };
  }
  if (/^[0-9a-f]{7,40}$/i.test(rev)) return { sha: rev.toLowerCase() };
  throw new UsageError(`--revision ${rev}: not a commit of the Git repository in ${cwd}; pass a commit SHA, or run the command in the clone you pushed from`);
}

/** "12.3s" for a duration in milliseconds. */
export function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}
