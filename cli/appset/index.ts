// `tether appset ...`: ApplicationSets as the agent sees them, and what a set file would generate.
import { Command, Option } from "commander";
import { DEFAULT_NAMESPACE, type ApplicationSet } from "../../agent/api/types.ts";
import { NotFoundError, UsageError } from "../errors.ts";
import { kubeOptions, loadKubeConfig, withCluster, type KubeFlags } from "../kube.ts";
import { parseFormat, serialize } from "../output.ts";
import { withoutManagedFields } from "../app/view.ts";
import { generatedTable, setDetails, setTable } from "./view.ts";

type Flags = KubeFlags & { output?: string };

const collect = (value: string, previous: string[]) => [...previous, value];

async function client(flags: KubeFlags) {
  const kc = loadKubeConfig(flags);
  const { AppSetClient } = await import("../../agent/appset/client.ts");
  const c = new AppSetClient(kc, flags.namespace ?? DEFAULT_NAMESPACE);
  return { kc, c };
}

async function mustGet(flags: KubeFlags, name: string): Promise<ApplicationSet> {
  const { kc, c } = await client(flags);
  const set = await withCluster(kc, () => c.get(name));
  if (!set) throw new NotFoundError(`applicationset ${name} not found in namespace ${c.namespace}; list them with \`tether appset list\``);
  return set;
}

export function appsetCommand(): Command {
  const cmd = new Command("appset").alias("appsets")
    .description("Inspect ApplicationSets and what they generate");

  kubeOptions(cmd.command("list").alias("ls").description("List ApplicationSets with how many Applications each generated and their state"), "namespace the ApplicationSets live in")
    .addOption(new Option("-o, --output <format>", "table, json, yaml or name").default("table"))
    .addHelpText("after", `
The MESSAGE column says why a set is not up to date (its ErrorOccurred condition) or which rollout step runs.

Examples:
  tether appset list
  tether appset list -o json | jq '.[].status.conditions'`)
    .action(async (flags: Flags) => {
      const format = parseFormat(flags.output, ["table", "json", "yaml", "name"]);
      const { kc, c } = await client(flags);
      const sets = await withCluster(kc, () => c.list());
      if (format === "json" || format === "yaml") process.stdout.write(serialize(sets.map(withoutManagedFields), format));
      else if (format === "name") process.stdout.write(sets.map((s) => `${s.metadata?.name}\n`).join(""));
      else process.stdout.write(sets.length ? setTable(sets) : "No applicationsets found.\n");
    });

  kubeOptions(cmd.command("get <name>").description("Show one ApplicationSet: policy, conditions, its Applications and the rollout"), "namespace the ApplicationSets live in")
    .addOption(new Option("-o, --output <format>", "table, json or yaml").default("table"))
    .addHelpText("after", "\nExamples:\n  tether appset get guestbook\n  tether appset get guestbook -o yaml")
    .action(async (name: string, flags: Flags) => {
      const format = parseFormat(flags.output, ["table", "json", "yaml"]);
      const set = await mustGet(flags, name);
      process.stdout.write(format === "json" || format === "yaml" ? serialize(withoutManagedFields(set), format) : setDetails(set));
    });

  cmd.command("generate")
    .description("Print the Applications an ApplicationSet file would generate, without applying anything (argocd appset generate)")
    .requiredOption("-f, --file <path>", "a YAML or JSON file holding an ApplicationSet (tether.dev or argoproj.io)")
    .option("--local-repo <url=dir>", "read this repository from a local directory instead of fetching it (repeatable)", collect, [])
    .option("--kubeconfig <path>", "for the clusters generator only: the cluster whose cluster Secrets it lists")
    .option("-n, --namespace <ns>", "the agent namespace the Applications would be written to", DEFAULT_NAMESPACE)
    .addOption(new Option("-o, --output <format>", "table, json or yaml (the Applications as the agent would write them)").default("table"))
    .addHelpText("after", `
List and git generators work offline: with --local-repo the git generators read your checkout (its files as
they are, uncommitted changes included); without it the repository is fetched. The clusters generator reads
the cluster Secrets of the kubeconfig's cluster; without a reachable cluster it sees only in-cluster.
Exit 1 when a generator or template fails: the message names the generator and the cause.

Examples:
  tether appset generate -f appsets/guestbook.yaml
  tether appset generate -f appsets/apps.yaml --local-repo https://github.com/org/gitops.git=. -o yaml`)
    .action(async (flags: { file: string; localRepo: string[]; kubeconfig?: string; namespace: string; output?: string }) => {
      const format = parseFormat(flags.output, ["table", "json", "yaml"]);
      const { generateFromSet, parseLocalRepos, readSetFile } = await import("./generate.ts");
      const { set, warnings } = await readSetFile(flags.file, flags.namespace);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      const apps = await generateFromSet(set, {
        localRepos: parseLocalRepos(flags.localRepo), namespace: flags.namespace,
        clusters: async () => {
          const { clusterEntries } = await import("../../agent/appset/env.ts");
          const { loadKubernetesClient } = await import("../kube.ts");
          await loadKubernetesClient();
          const { TetherClient } = await import("../../agent/api/client.ts");
          try {
            const tether = new TetherClient(loadKubeConfig(flags), flags.namespace);
            return await clusterEntries({ listSecrets: (l) => tether.listSecrets(l) });
          } catch {
            process.stderr.write("warning: no reachable cluster: the clusters generator sees only in-cluster\n");
            return clusterEntries({ listSecrets: () => Promise.resolve([]) });
          }
        },
      });
      if (format === "json" || format === "yaml") process.stdout.write(serialize(apps, format));
      else process.stdout.write(apps.length ? generatedTable(apps) : "The set generates no Applications.\n");
    });

  kubeOptions(cmd.command("delete <name>").description("Delete an ApplicationSet; its Applications go with it unless its policy keeps them"), "namespace the ApplicationSets live in")
    .option("-y, --yes", "do not ask; required when not on a terminal", false)
    .addHelpText("after", `
The set's Applications are deleted through their owner reference, and what they deployed through their
finalizer, unless the set has syncPolicy.preserveResourcesOnDeletion (the Applications go, their objects
stay) or applicationsSync create-only / create-update (the Applications stay, without an owner).
A set that is in Git comes back at the next sync of the app that renders it: remove it from Git instead.

Examples:
  tether appset delete guestbook --yes`)
    .action(async (name: string, flags: KubeFlags & { yes: boolean }) => {
      const set = await mustGet(flags, name);
      if (!flags.yes) {
        if (!process.stdin.isTTY) throw new UsageError(`refusing to delete applicationset ${name} without --yes when not on a terminal`);
        const { createInterface } = await import("node:readline/promises");
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const count = set.status?.resources?.length ?? 0;
        const answer = await rl.question(`Delete applicationset ${name} and its ${count} Application(s)? [y/N] `);
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError("not deleted");
      }
      const { kc, c } = await client(flags);
      await withCluster(kc, () => c.delete(name));
      process.stdout.write(`applicationset ${name} deleted\n`);
    });

  return cmd;
}
