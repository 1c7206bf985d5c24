import { Command, CommanderError } from "commander";
import { errorMessage } from "../agent/errors.ts";
import { agentCommand } from "./agent/index.ts";
import { appCommand } from "./app/index.ts";
import { EXIT } from "./errors.ts";
import { installCommand } from "./install/index.ts";

const program = new Command()
  .name("tether")
  .description("GitOps for Kubernetes: keep a cluster equal to a Git repository.")
  .version("0.1.0")
  .showHelpAfterError()
  .addCommand(installCommand())
  .addCommand(agentCommand())
  .addCommand(appCommand())
  .addHelpText("after", `
Exit codes: 0 success, 1 failure (or a diff found), 2 bad usage, 3 not found, 4 timed out.

Examples:
  tether install --kubeconfig ./kubeconfig
  tether agent --kubeconfig ./kubeconfig
  tether app list
  tether app wait root --timeout 5m`);

program.exitOverride();
try {
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
