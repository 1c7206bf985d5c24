// `tether app delete`: remove an Application's files from the repository, commit and push. The
// agent then deletes the Application; its finalizer decides whether what it deployed goes too.
import { Command } from "commander";
import type { TetherClient } from "../../agent/api/client.ts";
import { FINALIZER } from "../../agent/api/types.ts";
import { NotFoundError, TimeoutError, UsageError } from "../errors.ts";
import type { RepoTree } from "../git/tree.ts";
import { repoOptions, resolveAccess, type RepoFlags } from "../git/access.ts";
import { runAndReport } from "../git/report.ts";
import { tetherClient, type KubeFlags } from "../kube.ts";
import { parseDuration } from "../output.ts";
import { DEFAULT_COMPONENTS, repoDir } from "../repo/layout.ts";
import { kubeWaitOptions, refreshParents } from "./create.ts";
import { planAppDelete } from "./scaffold.ts";
import { describeState } from "./wait.ts";

type DeleteFlags = RepoFlags & KubeFlags & { project?: string; waitTimeout?: string; path: string; dryRun: boolean; cascade: boolean };

function parseBool(value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw new UsageError(`--cascade ${value}: expected true or false`);
}

export function deleteCommand(): Command {
  const cmd = new Command("delete")
    .argument("<name>", "the Application's name")
    .description("Remove an Application's files from the repository (components/PROJECT/NAME.yaml and NAME/), commit and push")
    .option("-p, --project <name>", "the app's project, when the name alone is ambiguous")
    .option("--wait-timeout <duration>", "after pushing, wait this long for the agent to delete the Application (exit 4 at the timeout)")
    .option("--path <dir>", "the root app-of-apps directory", DEFAULT_COMPONENTS)
    .option("--cascade <bool>", "also delete what the app deployed (true), or leave it running (false: only for an app that is not in Git)", parseBool, true);
  repoOptions(cmd);
  kubeWaitOptions(cmd);
  return cmd
    .addHelpText("after", `
With the finalizer tether.dev/resources-finalizer (what \`tether app create\` writes) the agent deletes
everything the app deployed; without it the resources stay in the cluster. An Application that is in
the cluster but not in the repository (created with kubectl) is deleted from the cluster directly;
--cascade=false then leaves what it deployed running.

Examples:
  tether app delete hello --repo https://git.example.com/platform/gitops.git
  tether app delete hello -p apps --wait-timeout 2m
  tether app delete hello --dry-run
  tether app delete hand-made --cascade=false`)
    .action(async (name: string, flags: DeleteFlags) => {
      const components = repoDir(flags.path, "--path");
      const timeoutMs = flags.waitTimeout === undefined ? undefined : parseDuration(flags.waitTimeout, "--wait-timeout");
      const client = timeoutMs === undefined || flags.dryRun ? undefined : tetherClient(flags);
      const access = await resolveAccess(flags);
      const planner = async (tree: RepoTree) => {
        const plan = await planAppDelete(tree, { name, components, ...(flags.project ? { project: flags.project } : {}) });
        if (!flags.cascade) {
          throw new UsageError(`--cascade=false: ${name} is in Git, and the agent deletes what it deployed through its finalizer; `
            + `remove \`${FINALIZER}\` from its file in a commit first, then delete it`);
        }
        return plan;
      };
      const outcome = await runAndReport(access, planner, { dryRun: flags.dryRun, guard: [components] }).catch(async (err: unknown) => {
        if (!(err instanceof NotFoundError) || flags.dryRun) throw err;
        await deleteFromCluster(tetherClient(flags), name, flags.cascade, err);
        return undefined;
      });
      if (!outcome) return;
      if (client && timeoutMs !== undefined && outcome.status === "committed") {
        await waitForDeletion(client, name, { timeoutMs, components });
        process.stdout.write(`${name}: deleted\n`);
      }
    });
}

async function waitForDeletion(client: TetherClient, name: string, opts: { timeoutMs: number; components: string }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  await refreshParents(client, opts.components);
  let last = "";
  for (;;) {
    const app = await client.getApplication(name);
    if (!app) return;
    const state = `${name}: ${app.metadata?.deletionTimestamp ? "deleting" : "still in the cluster"}; ${describeState(app)}`;
    if (state !== last) process.stderr.write(`${state}\n`);
    last = state;
    if (Date.now() > deadline) {
      const conditions = (app.status?.conditions ?? []).map((c) => `\n  ${c.type}: ${c.message}`).join("");
      throw new TimeoutError(`timed out after ${opts.timeoutMs / 1000}s waiting for the agent to delete ${name}: ${state}${conditions}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * An Application that is only in the cluster: deleted there. With cascade its finalizer makes the
 * agent delete what it deployed first; without, the finalizer is removed and the objects stay.
 */
async function deleteFromCluster(client: TetherClient, name: string, cascade: boolean, notInGit: Error): Promise<void> {
  const app = await client.getApplication(name);
  if (!app) throw new NotFoundError(`${notInGit.message}; nor is it in namespace ${client.namespace} of the cluster`);
  const others = (app.metadata?.finalizers ?? []).filter((f) => f !== FINALIZER);
  await client.mergeApplication(name, { metadata: { finalizers: cascade ? [...others, FINALIZER] : others } });
  await client.deleteApplication(name);
  process.stdout.write(`${name}: not in Git; deleted from the cluster${cascade ? "; the agent deletes what it deployed" : "; what it deployed is left running"}\n`);
}
