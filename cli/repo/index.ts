// `tether repo ...`: the GitOps repository itself.
import { Command } from "commander";
import { UsageError } from "../errors.ts";
import { repoOptions, resolveAccess, type RepoFlags } from "../git/access.ts";
import { runAndReport } from "../git/report.ts";
import { repoAddCommand } from "./add.ts";
import { isAgeRecipient, planInit } from "./init.ts";
import { DEFAULT_COMPONENTS, PROJECTS, repoDir } from "./layout.ts";

type InitFlags = RepoFlags & { path: string; namespace?: string; ageRecipient?: string; dryRun: boolean };

export function repoCommand(): Command {
  const repo = new Command("repo").description("Lay out and check the GitOps repository")
    .addHelpText("after", "\nExample:\n  tether repo init --repo https://git.example.com/platform/gitops.git");
  const init = repo.command("init")
    .description("Lay out a GitOps repository (components/, projects/default.yaml, .sops.yaml, a README) or check an existing one; running it twice changes nothing")
    .option("--path <dir>", "the root app-of-apps directory", DEFAULT_COMPONENTS)
    .option("-n, --namespace <ns>", "the agent's namespace, where AppProjects go (default: tether-system)")
    .option("--age-recipient <key>", "age public key for .sops.yaml (age1...); without it the rule is written commented out");
  repoOptions(init).addHelpText("after", `
Existing files are kept as they are; the Applications and AppProjects already there are checked
(YAML that does not parse, an unknown project, a source path that does not exist), and nothing is
committed while a problem remains.

Examples:
  tether repo init --repo https://git.example.com/platform/gitops.git --git-token "$TOKEN"
  tether repo init --repo ./gitops --age-recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  tether repo init --dry-run`)
    .action(async (flags: InitFlags) => {
      const components = repoDir(flags.path, "--path");
      if (flags.ageRecipient !== undefined && !isAgeRecipient(flags.ageRecipient)) {
        throw new UsageError(`--age-recipient ${flags.ageRecipient}: expected an age public key (age1 followed by 58 characters), as \`age-keygen -y key.txt\` prints it`);
      }
      const access = await resolveAccess(flags);
      await runAndReport(access, (tree) => planInit(tree, {
        components,
        ...(flags.namespace ? { namespace: flags.namespace } : {}),
        ...(flags.ageRecipient ? { ageRecipient: flags.ageRecipient } : {}),
      }), { dryRun: flags.dryRun, guard: [components, PROJECTS, ".sops.yaml"] });
    });
  repo.addCommand(repoAddCommand());
  return repo;
}
