import { Command, CommanderError } from "commander";
import { errorMessage } from "../agent/errors.ts";
import { agentCommand } from "./agent/index.ts";
import { appCommand } from "./app/index.ts";
import { completionCommand } from "./completion/index.ts";
import { EXIT } from "./errors.ts";
import { installCommand } from "./install/index.ts";
import { projectCommand } from "./project/index.ts";
import { repoCommand } from "./repo/index.ts";
import { secretCommand } from "./secret/index.ts";

const program = new Command()
  .name("tether")
  .description("GitOps for Kubernetes: keep a cluster equal to a Git repository.")
  .version("0.1.0")
  .showHelpAfterError()
  .addCommand(installCommand())
  .addCommand(agentCommand())
  .addCommand(appCommand())
  .addCommand(repoCommand())
  .addCommand(projectCommand())
  .addCommand(secretCommand())
  .addCommand(completionCommand())
  .addHelpText("after", `
Exit codes: 0 success, 1 failure (or a diff found), 2 bad usage, 3 not found, 4 timed out,
5 conflict (name taken, local changes in the way, push rejected twice).

Examples:
  tether install --kubeconfig ./kubeconfig
  tether agent --kubeconfig ./kubeconfig
  tether repo init --repo https://git.example.com/platform/gitops.git
  tether app create hello --app ./hello -p default --wait-timeout 2m
  tether secret keygen --kubeconfig ./kubeconfig
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
