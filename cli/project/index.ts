// `tether project ...`: AppProjects, as files in projects/.
import { Command } from "commander";
import { repoOptions, resolveAccess, type RepoFlags } from "../git/access.ts";
import { runAndReport } from "../git/report.ts";
import { DEFAULT_COMPONENTS, PROJECTS, repoDir } from "../repo/layout.ts";
import { planProject } from "./project.ts";

type CreateFlags = RepoFlags & {
  destNamespace: string[];
  destServer: string[];
  sourceRepo: string[];
  description?: string;
  namespace?: string;
  path: string;
  dryRun: boolean;
};

const collect = (value: string, previous: string[]) => [...previous, value];

export function projectCommand(): Command {
  const project = new Command("project").description("Manage AppProjects in projects/")
    .addHelpText("after", "\nExample:\n  tether project create team-a --dest-namespace 'team-a-*'");
  const create = project.command("create")
    .argument("<name>", "the project's name (DNS-1123 label)")
    .description("Write projects/NAME.yaml (an AppProject), commit \"Add project NAME\" and push")
    .option("--dest-namespace <ns>", "namespace its apps may deploy to; globs allowed (repeatable; default: any)", collect, [])
    .option("--dest-server <url>", "cluster its apps may deploy to (repeatable; default: https://kubernetes.default.svc)", collect, [])
    .option("--source-repo <url>", "repository its apps may read; globs allowed (repeatable; default: any)", collect, [])
    .option("--description <text>", "what the project is for")
    .option("-n, --namespace <ns>", "the agent's namespace (default: the one projects/ already uses, else tether-system)")
    .option("--path <dir>", "the root app-of-apps directory", DEFAULT_COMPONENTS);
  repoOptions(create).addHelpText("after", `
Every destination is the pair (server, namespace) for each --dest-server and --dest-namespace given.
Apps of the project may create their namespace (Namespace is the one cluster-scoped kind allowed).

Examples:
  tether project create team-a --dest-namespace 'team-a-*' --description "Team A's services"
  tether project create vendor --source-repo 'https://github.com/vendor/*' --dest-namespace vendor --dry-run`)
    .action(async (name: string, flags: CreateFlags) => {
      const components = repoDir(flags.path, "--path");
      const access = await resolveAccess(flags);
      await runAndReport(access, (tree) => planProject(tree, {
        name, components,
        destNamespaces: flags.destNamespace, destServers: flags.destServer, sourceRepos: flags.sourceRepo,
        ...(flags.description ? { description: flags.description } : {}),
        ...(flags.namespace ? { namespace: flags.namespace } : {}),
      }), { dryRun: flags.dryRun, guard: [PROJECTS] });
    });
  return project;
}
