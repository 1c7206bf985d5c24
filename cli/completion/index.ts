// `tether completion bash|zsh`: print a completion script generated from the command tree.
import { Argument, Command } from "commander";
import { bashScript, zshScript } from "./script.ts";

export function completionCommand(): Command {
  return new Command("completion")
    .description("Print a shell completion script for bash or zsh")
    .addArgument(new Argument("<shell>", "the shell").choices(["bash", "zsh"]))
    .addHelpText("after", `
Examples:
  source <(tether completion bash)                       # this bash session
  tether completion bash > ~/.local/share/bash-completion/completions/tether
  source <(tether completion zsh)                        # this zsh session (after compinit)
  tether completion zsh > "\${fpath[1]}/_tether"          # every zsh session`)
    .action((shell: "bash" | "zsh", _flags: unknown, cmd: Command) => {
      let root = cmd;
      while (root.parent) root = root.parent;
      process.stdout.write(shell === "bash" ? bashScript(root) : zshScript(root));
    });
}
