// `tether app manifests`: Argo CD's `argocd app manifests`. `--source git` prints what the agent's one
// pipeline renders for the app (hooks included), `--source live` what runs in the cluster for each of its
// resources; Secret values and everything SOPS decrypted are masked, as every other view masks them.
import { Command, Option } from "commander";
import { NotFoundError } from "../errors.ts";
import { kubeOptions, loadKubeConfig, tetherClient, type KubeFlags } from "../kube.ts";
import { parseFormat, serialize } from "../output.ts";
import type { Application, Manifest } from "../../agent/api/types.ts";

type Flags = KubeFlags & { source: string; output?: string; allowLocalRepos: boolean; repoCache?: string };

/** The app's objects as Git renders them (through the agent's pipeline, the caller's credentials), masked. */
async function fromGit(app: Application, flags: Flags): Promise<Manifest[]> {
  const os = await import("node:os");
  const path = await import("node:path");
  const { clientPipelineDeps } = await import("../../agent/controller/build.ts");
  const { RenderCache } = await import("../../agent/controller/memo.ts");
  const { desiredState } = await import("../../agent/controller/pipeline.ts");
  const { GitSource } = await import("../../agent/source/index.ts");
  const { cliDestinations } = await import("./live.ts");
  const client = tetherClient(flags);
  const cacheDir = flags.repoCache ?? path.join(os.homedir(), ".cache", "tether", "repos");
  const source = new GitSource({ cacheDir, allowLocal: flags.allowLocalRepos, credentials: (url) => client.repoCredentials(url) });
  const state = await desiredState({ app }, {
    ...clientPipelineDeps({ client, source, renderCache: new RenderCache(), cacheDir, allowLocalRepos: flags.allowLocalRepos }),
    destinations: cliDestinations(loadKubeConfig(flags), client),
  });
  const { decryptedIn, maskForView } = await import("../../agent/diff/index.ts");
  const decrypted = decryptedIn(state.desired.rendered);
  return state.planned.map((o) => maskForView([o.manifest], { decrypted: decrypted(o.manifest) })[0] ?? o.manifest);
}

/** The live object of each resource the app's status lists, read as the caller on its destination, masked. */
async function fromLive(app: Application, flags: Flags): Promise<Manifest[]> {
  const { cliDestinations } = await import("./live.ts");
  const { maskLive } = await import("../../agent/diff/index.ts");
  const destination = await cliDestinations(loadKubeConfig(flags), tetherClient(flags)).resolve(app.spec.destination);
  const out: Manifest[] = [];
  for (const r of app.status?.resources ?? []) {
    const live = await destination.cluster.get({ group: r.group ?? "", version: r.version ?? "v1", kind: r.kind, name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) });
    if (!live) continue;
    const shown = maskLive(live);
    delete shown.metadata.managedFields;
    out.push(shown);
  }
  return out;
}

export function manifestsCommand(): Command {
  return kubeOptions(new Command("manifests").argument("<name>", "the Application's name")
    .description("Print the app's manifests: as Git renders them (--source git) or as they run (--source live); Secret and decrypted values masked"))
    .addOption(new Option("--source <source>", "git: what the agent would apply; live: what the cluster holds").choices(["git", "live"]).default("git"))
    .addOption(new Option("-o, --output <format>", "yaml or json").default("yaml"))
    .option("--repo-cache <dir>", "where to keep the git mirror (--source git)")
    .option("--allow-local-repos", "read file:// and plain-path repoURLs (refused by default, as the agent refuses them)", false)
    .addHelpText("after", "\nExamples:\n  tether app manifests guestbook-ui\n  tether app manifests guestbook-ui --source live -o json")
    .action(async (name: string, flags: Flags) => {
      const format = parseFormat(flags.output ?? "yaml", ["yaml", "json"]);
      const client = tetherClient(flags);
      const app = await client.getApplication(name);
      if (!app) throw new NotFoundError(`application ${name} not found in namespace ${client.namespace}; list them with \`tether app list\``);
      const objects = flags.source === "live" ? await fromLive(app, flags) : await fromGit(app, flags);
      process.stdout.write(format === "json" ? serialize(objects, "json") : objects.map((o) => serialize(o, "yaml")).join("---\n"));
    });
}
