// `tether`: every command is imported only when it runs (cli/commands.ts), so `--help` and quick
// commands start without parsing the Kubernetes client or the git libraries.
import { Command, CommanderError } from "commander";
import { errorMessage } from "../agent/errors.ts";
import { VERSION } from "../agent/version/version.ts";
import { COMMANDS, commandsToLoad } from "./commands.ts";
import { enforceExitCodes, EXIT } from "./errors.ts";

const program = new Command()
  .name("tether")
  .description("GitOps for Kubernetes: keep a cluster equal to a Git repository.")
  .version(VERSION)
  .showHelpAfterError()
  .addHelpText("after", `
Exit codes: 0 success, 1 failure (or a diff found), 2 bad usage, 3 not found, 4 timed out,
5 conflict (name taken, local changes in the way, push rejected twice).

Examples:
  tether bootstrap --repo https://git.example.com/platform/gitops.git --age-key-file key.txt
  tether install --kubeconfig ./kubeconfig
  tether agent --kubeconfig ./kubeconfig
  tether repo init --repo https://git.example.com/platform/gitops.git
  tether app create hello --app ./hello -p default --wait-timeout 2m
  tether secret keygen --kubeconfig ./kubeconfig
  tether app list
  tether app wait root --timeout 5m
  tether version`);

/** The commands `args` runs, loaded; the others as stubs that only list themselves in `tether --help`. */
async function addCommands(args: readonly string[]): Promise<void> {
  const loaded = new Map<string, Command>();
  for (const entry of commandsToLoad(args)) loaded.set(entry.name, await entry.load());
  for (const entry of COMMANDS) {
    program.addCommand(loaded.get(entry.name) ?? new Command(entry.name).description(entry.summary).aliases(entry.aliases ?? []));
  }
}

// A command that can reach a cluster (it takes --kubeconfig) gets the Kubernetes client loaded before its
// action runs; `--help` runs no action, so it never parses the client's 2 MB.
program.hook("preAction", async (_program, action) => {
  if (action.options.some((o) => o.long === "--kubeconfig")) await (await import("./kube.ts")).loadKubernetesClient();
});
program.exitOverride();
try {
  await addCommands(process.argv.slice(2));
  enforceExitCodes(program);
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : EXIT.usage;
  } else {
    const code = (err as { exitCode?: number }).exitCode;
    console.error(`error: ${errorMessage(err)}`);
    process.exitCode = typeof code === "number" ? code : EXIT.failed;
  }
}
