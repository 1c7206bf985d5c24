// `tether bootstrap`: from an empty cluster to one that follows a Git repository, with the same objects
// `pulumi up` declares (bootstrap/manifests.ts): the install, the key Secret, the agent Deployment and
// Service, and the root Application. Server-side apply, so running it again changes nothing.
import { readFile } from "node:fs/promises";
import { Command, Option } from "commander";
import { KubeCluster } from "../../agent/apply/cluster.ts";
import { VERSION } from "../../agent/version/version.ts";
import { DEFAULT_REPLICAS, bootstrapManifests } from "../../bootstrap/manifests.ts";
import { UsageError } from "../errors.ts";
import { kubeOptions, loadKubeConfig, withCluster, type KubeFlags } from "../kube.ts";
import { parseDuration } from "../output.ts";
import { describeAgentTls, ensureAgentTls } from "../install/tls.ts";
import { applyAll, waitRolledOut } from "./apply.ts";
import { ageIdentities, bootstrapOptions, dryRunText, type BootstrapFlags } from "./plan.ts";

interface Flags extends KubeFlags, BootstrapFlags {
  readonly namespace: string;
  readonly ageKeyFile?: string;
  readonly dryRun: boolean;
  readonly wait: boolean;
  readonly timeout: string;
}

async function readAgeKey(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`--age-key-file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return ageIdentities(text, file);
}

async function run(flags: Flags): Promise<void> {
  const timeoutMs = parseDuration(flags.timeout, "--timeout");
  const options = bootstrapOptions(flags, await readAgeKey(flags.ageKeyFile));
  const objects = bootstrapManifests(options);
  if (flags.dryRun) {
    process.stdout.write(dryRunText(objects));
    return;
  }
  const kc = loadKubeConfig(flags);
  const cluster = new KubeCluster(kc);
  await withCluster(kc, async () => {
    // The serving certificate's Secret before the Deployment that mounts it.
    const agentAt = Math.max(0, objects.findIndex((o) => o.kind === "Deployment"));
    const outcomes = await applyAll(cluster, objects.slice(0, agentAt), (line) => console.log(line));
    for (const line of describeAgentTls(await ensureAgentTls(cluster, options.agent.namespace), options.agent.namespace)) console.log(line);
    outcomes.push(...await applyAll(cluster, objects.slice(agentAt), (line) => console.log(line)));
    const changed = outcomes.filter((o) => o !== "unchanged").length;
    console.log(changed === 0 ? "Nothing changed: the cluster already had this bootstrap." : `${changed} of ${objects.length} objects created or changed.`);
    const deployment = objects.find((o) => o.kind === "Deployment");
    if (flags.wait && deployment) {
      console.log(`waiting for the agent (${options.agent.replicas} replica${options.agent.replicas > 1 ? "s" : ""}, image ${options.agent.image}) to be available`);
      await waitRolledOut(cluster, deployment, timeoutMs);
    }
  });
  const { root } = options;
  console.log(`Tether follows ${root.repoURL} ${root.path} at ${root.revision} through Application ${root.name}. `
    + `Watch it with: tether app wait ${root.name} --timeout 5m${flags.kubeconfig ? ` --kubeconfig ${flags.kubeconfig}` : ""}`);
  if (!options.ageKey) console.log("No --age-key-file: SOPS-encrypted files need a key; add one with `tether secret keygen`.");
}

export function bootstrapCommand(): Command {
  return kubeOptions(new Command("bootstrap")
    .description("Take a cluster from empty to following a Git repository: the install, the agent in the cluster "
      + "and the root Application (safe to run again)"), "agent namespace")
    .requiredOption("--repo <url>", "the Git repository the agent deploys (reachable from inside the cluster)")
    .option("--path <dir>", "the app-of-apps directory in the repository", "components")
    .option("--revision <rev>", "branch, tag or commit to follow", "main")
    .option("--age-key-file <file>", "age identity stored in Secret tether-sops for SOPS decryption (age-keygen's format)")
    .option("--image <ref>", "the agent image", `tether:${VERSION}`)
    .option("--replicas <n>", "agent pods; a Lease elects the one that reconciles, the others stand by", String(DEFAULT_REPLICAS))
    .option("--poll-interval <duration>", "how often the agent fetches the repository", "60s")
    .option("--cluster-role <name>", "ClusterRole bound to the agent's ServiceAccount", "cluster-admin")
    .option("--root-name <name>", "name of the root Application", "root")
    .option("--dry-run", "print the manifests (Secret values masked) and change nothing", false)
    .option("--no-wait", "do not wait for the agent Deployment to be available")
    .addOption(new Option("--timeout <duration>", "how long to wait for the agent").default("2m"))
    .addHelpText("after", `
What it applies (server-side apply, field manager tether; the same objects \`pulumi up\` declares):
  CRDs, namespace, ServiceAccount, ClusterRoleBinding, AppProject default, Secret tether-sops (with
  --age-key-file), Deployment and Service tether-agent, and the root Application over --path.

Examples:
  tether bootstrap --repo https://git.example.com/platform/gitops.git --age-key-file ~/.config/tether/prod.agekey
  tether bootstrap --repo https://git.example.com/platform/gitops.git --dry-run > tether.yaml
  tether bootstrap --repo git@git.example.com:platform/gitops.git --revision release --path clusters/prod`)
    .action(run);
}
