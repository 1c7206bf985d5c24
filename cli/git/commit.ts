// One scaffolding change, start to end: open a workspace, plan against its files, write, commit,
// push; when the push is rejected because the branch moved, fetch and plan again on top once (a
// rebase that re-runs every check), else explain. `--dry-run` stops before the commit and shows it.
import { argv, gitRaw, gitRevArgv } from "../../agent/exec.ts";
import type { RepoAccess } from "./access.ts";
import { changedPaths, diskTree, writeChanges, type Plan, type RepoTree } from "./tree.ts";
import { ConflictError } from "../errors.ts";
import { openWorkspace, PushRejectedError, runGit, type Workspace } from "./workspace.ts";

/** Computes the change from the branch's current files; throws to refuse (nothing is written). */
export type Planner = (tree: RepoTree) => Promise<Plan>;

export interface CommitOptions {
  readonly dryRun?: boolean;
  /** Paths the command may change; see {@link OpenOptions.guard}. */
  readonly guard: readonly string[];
}

/** What happened, for the command to print. */
export type Outcome =
  | { readonly status: "unchanged"; readonly plan: Plan; readonly target: string }
  | { readonly status: "dry-run"; readonly plan: Plan; readonly target: string; readonly files: readonly StagedFile[]; readonly diff: string }
  | {
    readonly status: "committed"; readonly plan: Plan; readonly target: string; readonly files: readonly StagedFile[];
    readonly commit: string; readonly published: readonly string[];
    /** The branch the commit landed on (in the remote, or the user's clone). */
    readonly branch: string;
  };

/** One file in the commit. */
export interface StagedFile {
  readonly action: "create" | "update" | "delete";
  readonly path: string;
}

const PAST = { create: "created", update: "updated", delete: "deleted" } as const;

/** Commit identity when the user has none configured, so a fresh machine or CI still works. */
const FALLBACK_IDENTITY = ["-c", "user.name=tether", "-c", "user.email=tether@localhost"];

export async function commitChange(access: RepoAccess, planner: Planner, opts: CommitOptions): Promise<Outcome> {
  const ws = await openWorkspace(access, { guard: opts.guard });
  try {
    for (let attempt = 1; ; attempt++) {
      const plan = await planner(diskTree(ws.dir));
      const files = await stage(ws, plan, access);
      if (files.length === 0) return { status: "unchanged", plan, target: ws.target };
      if (opts.dryRun) {
        const diff = await runGit(ws.git, argv({ options: ["diff", "--cached", "--no-color", "--no-ext-diff"] }), { access, action: "diff" });
        return { status: "dry-run", plan, target: ws.target, files, diff };
      }
      await commit(ws, plan.message, access);
      try {
        const published = await ws.publish();
        const sha = (await gitRaw(ws.git, gitRevArgv({ options: ["rev-parse", "--verify"], positionals: ["HEAD"] }))).trim();
        return { status: "committed", plan, target: ws.target, files, commit: sha, published, branch: ws.branch };
      } catch (err) {
        if (!(err instanceof PushRejectedError)) throw err;
        if (attempt >= 2) {
          throw new ConflictError(`${err.message}\n${ws.branch} moved again while tether re-applied its change on top of the latest commit: `
            + `someone else is pushing right now. Nothing was changed; run the command again.`);
        }
        await ws.refresh();
      }
    }
  } finally {
    await ws.close();
  }
}

/** Writes the plan and stages exactly its paths; returns what is staged. */
async function stage(ws: Workspace, plan: Plan, access: RepoAccess): Promise<StagedFile[]> {
  await writeChanges(ws.dir, plan.changes);
  const paths = changedPaths(plan.changes);
  if (paths.length === 0) return [];
  await runGit(ws.git, argv({ options: ["add", "-A"], positionals: paths }), { access, action: "add" });
  const status = await runGit(ws.git, argv({ options: ["diff", "--cached", "--name-status", "--no-renames"] }), { access, action: "diff" });
  return status.split("\n").filter((l) => l.trim() !== "").map((l) => {
    const [code = "", file = ""] = l.split("\t");
    return { action: code.startsWith("A") ? "create" : code.startsWith("D") ? "delete" : "update", path: file };
  });
}

async function commit(ws: Workspace, message: string, access: RepoAccess): Promise<void> {
  const email = (await gitRaw(ws.git, argv({ options: ["config", "--get"], positionals: ["user.email"] })).catch(() => "")).trim();
  const identity = email ? [] : FALLBACK_IDENTITY;
  // The message is -m's value (taken whatever it begins with); `--` after it ends the (absent) paths.
  await runGit(ws.git, argv({ options: [...identity, "commit", "-q", `--message=${message}`] }), { access, action: "commit" });
}

/** The outcome as the user reads it: what changed and where it went (or would go). */
export function describeOutcome(outcome: Outcome): string {
  const subject = outcome.plan.message.split("\n")[0] ?? "";
  switch (outcome.status) {
    case "unchanged":
      return `Nothing to commit: ${outcome.target} already has it.\n`;
    case "dry-run":
      return `Would commit to ${outcome.target}: "${subject}"\n${outcome.files.map((f) => `  would ${f.action} ${f.path}\n`).join("")}\n${outcome.diff}`;
    case "committed":
      return outcome.files.map((f) => `${PAST[f.action]} ${f.path}\n`).join("")
        + `Committed ${outcome.commit.slice(0, 7)} "${subject}"\n${outcome.published.map((l) => `${l}\n`).join("")}`;
  }
}
