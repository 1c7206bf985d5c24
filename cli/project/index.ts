// `tether project ...`: AppProjects, as files in projects/.
import { Command, Option } from "commander";
import { repoOptions, resolveAccess, type RepoFlags } from "../git/access.ts";
import { runAndReport } from "../git/report.ts";
import { DEFAULT_COMPONENTS, PROJECTS, repoDir } from "../repo/layout.ts";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { GROUP, VERSION, type AppProject } from "../../agent/api/types.ts";
import { kubeOptions, loadKubeConfig, withCluster, type KubeFlags } from "../kube.ts";
import { parseFormat, serialize, table } from "../output.ts";
import { withoutManagedFields } from "../app/view.ts";
import { planProject, planProjectDelete } from "./project.ts";
import { roleCommand } from "./role.ts";

type CreateFlags = RepoFlags & {
  destNamespace: string[];
  destServer: string[];
  sourceRepo: string[];
  decryptionKey: string[];
  description?: string;
  namespace?: string;
  path: string;
  dryRun: boolean;
};

const collect = (value: string, previous: string[]) => [...previous, value];

export function projectCommand(): Command {
  const project = new Command("project").alias("proj").description("Manage AppProjects in projects/, and their roles' tokens")
    .addHelpText("after", "\nExample:\n  tether project create team-a --dest-namespace 'team-a-*'");
  const create = project.command("create")
    .argument("<name>", "the project's name (DNS-1123 label)")
    .description("Write projects/NAME.yaml (an AppProject), commit \"Add project NAME\" and push")
    .option("--dest-namespace <ns>", "namespace its apps may deploy to; globs allowed (repeatable; default: any)", collect, [])
    .option("--dest-server <url>", "cluster its apps may deploy to (repeatable; default: https://kubernetes.default.svc)", collect, [])
    .option("--source-repo <url>", "repository its apps may read; globs allowed (repeatable; default: any)", collect, [])
    .option("--decryption-key <secret>", "key Secret its apps may decrypt SOPS files with (repeatable; default: tether-sops)", collect, [])
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
        destNamespaces: flags.destNamespace, destServers: flags.destServer, sourceRepos: flags.sourceRepo, decryptionKeys: flags.decryptionKey,
        ...(flags.description ? { description: flags.description } : {}),
        ...(flags.namespace ? { namespace: flags.namespace } : {}),
      }), { dryRun: flags.dryRun, guard: [PROJECTS] });
    });
  project.addCommand(listCommand()).addCommand(deleteCommand()).addCommand(roleCommand());
  return project;
}

function listCommand(): Command {
  return kubeOptions(new Command("list").alias("ls").description("List the AppProjects in the cluster"), "the agent's namespace")
    .addOption(new Option("-o, --output <format>", "table, json, yaml or name").default("table"))
    .addHelpText("after", "\nExample:\n  tether project list -o yaml")
    .action(async (flags: KubeFlags & { output: string }) => {
      const format = parseFormat(flags.output, ["table", "json", "yaml", "name"]);
      const kc = loadKubeConfig(flags);
      const api = kc.makeApiClient(CustomObjectsApi);
      const list = await withCluster(kc, async () => await api.listNamespacedCustomObject({
        group: GROUP, version: VERSION, plural: "appprojects", namespace: flags.namespace ?? "tether-system" }) as { items: AppProject[] });
      const items = list.items.sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
      if (format === "json" || format === "yaml") process.stdout.write(serialize(items.map(withoutManagedFields), format));
      else if (format === "name") process.stdout.write(items.map((p) => `${p.metadata?.name}\n`).join(""));
      else process.stdout.write(items.length === 0 ? "No projects found.\n" : table(["NAME", "DESTINATIONS", "SOURCES", "DESCRIPTION"], items.map((p) => [
        p.metadata?.name ?? "",
        (p.spec.destinations ?? []).map((d) => `${d.server ?? d.name ?? ""}/${d.namespace ?? ""}`).join(","),
        (p.spec.sourceRepos ?? []).join(","), p.spec.description ?? "",
      ])));
    });
}

function deleteCommand(): Command {
  const cmd = new Command("delete")
    .argument("<name>", "the project's name")
    .description("Remove projects/NAME.yaml, commit and push (refused while an app uses the project)")
    .option("--path <dir>", "the root app-of-apps directory", DEFAULT_COMPONENTS);
  return repoOptions(cmd).addHelpText("after", `
Exit codes: 0 committed, 3 no such project, 5 apps still use it.

Example:
  tether project delete team-a --repo https://git.example.com/platform/gitops.git`)
    .action(async (name: string, flags: RepoFlags & { path: string; dryRun: boolean }) => {
      const components = repoDir(flags.path, "--path");
      const access = await resolveAccess(flags);
      await runAndReport(access, (tree) => planProjectDelete(tree, { name, components }), { dryRun: flags.dryRun, guard: [PROJECTS] });
    });
}
