// `tether app delete`: remove an Application's files from the repository, commit and push. The
// agent then deletes the Application; its finalizer decides whether what it deployed goes too.
import { Command } from "commander";
import type { TetherClient } from "../../agent/api/client.ts";
import { TimeoutError } from "../errors.ts";
import { repoOptions, resolveAccess, type RepoFlags } from "../git/access.ts";
import { runAndReport } from "../git/report.ts";
import { tetherClient, type KubeFlags } from "../kube.ts";
import { parseDuration } from "../output.ts";
import { DEFAULT_COMPONENTS, repoDir } from "../repo/layout.ts";
import { kubeWaitOptions, refreshParents } from "./create.ts";
import { planAppDelete } from "./scaffold.ts";
import { describeState } from "./wait.ts";

type DeleteFlags = RepoFlags & KubeFlags & { project?: string; waitTimeout?: string; path: string; dryRun: boolean };

export function deleteCommand(): Command {
  const cmd = new Command("delete")
    .argument("<name>", "the Application's name")
    .description("Remove an Application's files from the repository (components/PROJECT/NAME.yaml and NAME/), commit and push")
    .option("-p, --project <name>", "the app's project, when the name alone is ambiguous")
    .option("--wait-timeout <duration>", "after pushing, wait this long for the agent to delete the Application (exit 4 at the timeout)")
    .option("--path <dir>", "the root app-of-apps directory", DEFAULT_COMPONENTS);
  repoOptions(cmd);
  kubeWaitOptions(cmd);
  return cmd
    .addHelpText("after", `
With the finalizer tether.dev/resources-finalizer (what \`tether app create\` writes) the agent deletes
everything the app deployed; without it the resources stay in the cluster.

Examples:
  tether app delete hello --repo https://git.example.com/platform/gitops.git
  tether app delete hello -p apps --wait-timeout 2m
  tether app delete hello --dry-run`)
    .action(async (name: string, flags: DeleteFlags) => {
      const components = repoDir(flags.path, "--path");
      const timeoutMs = flags.waitTimeout === undefined ? undefined : parseDuration(flags.waitTimeout, "--wait-timeout");
      const client = timeoutMs === undefined || flags.dryRun ? undefined : tetherClient(flags);
      const access = await resolveAccess(flags);
      const outcome = await runAndReport(access, (tree) => planAppDelete(tree, { name, components, ...(flags.project ? { project: flags.project } : {}) }),
        { dryRun: flags.dryRun, guard: [components] });
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
