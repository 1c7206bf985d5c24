// `tether app actions list|run`: Argo CD's `argocd app actions`. The object must be one of the app's;
// the action runs through agent/actions (the app's project rules, its writer identity) with the
// caller's credentials, and leaves an Event on the Application.
import { Command, Option } from "commander";
import { NotFoundError, UsageError } from "../errors.ts";
import { kubeOptions, loadKubeConfig, tetherClient, type KubeFlags } from "../kube.ts";
import { parseFormat, serialize } from "../output.ts";

type TargetFlags = KubeFlags & { kind: string; resourceName: string; group?: string; resourceNamespace?: string; output?: string };

function targetOptions(cmd: Command): Command {
  return kubeOptions(cmd)
    .requiredOption("--kind <kind>", "the object's kind (Deployment, CronJob…)")
    .requiredOption("--resource-name <name>", "the object's name")
    .option("--group <group>", "the object's API group, when the kind and name are ambiguous (apps; empty for the core group)")
    .option("--resource-namespace <ns>", "the object's namespace, when the kind and name are ambiguous");
}

function targetOf(flags: TargetFlags) {
  return {
    kind: flags.kind, name: flags.resourceName,
    ...(flags.group !== undefined ? { group: flags.group } : {}), ...(flags.resourceNamespace ? { namespace: flags.resourceNamespace } : {}),
  };
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `k=v` pairs of `--param`. */
export function parseParams(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param ${pair}: expected NAME=VALUE, e.g. --param replicas=3`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

async function load(flags: KubeFlags, name: string) {
  const client = tetherClient(flags);
  const app = await client.getApplication(name);
  if (!app) throw new NotFoundError(`application ${name} not found in namespace ${client.namespace}; list them with \`tether app list\``);
  const { cliDestinations } = await import("./live.ts");
  const { KubeHttp } = await import("../../agent/apply/http.ts");
  const { readSettings } = await import("../../agent/settings/index.ts");
  const kc = loadKubeConfig(flags);
  // tether-cm's Lua actions, read once; an action reads no repository, so the local-repository rule has nothing to guard.
  const settings = await readSettings(new KubeHttp(kc), client.namespace);
  const deps = { project: (p: string) => client.getProject(p), destinations: cliDestinations(kc, client), allowLocalRepos: true, customizations: () => settings };
  return { client, app, deps, settings };
}

export function actionsCommand(): Command {
  const actions = new Command("actions").description("List and run an object's resource actions (restart, scale, suspend, resume, and tether-cm's Lua actions), as Argo CD's");

  targetOptions(actions.command("list <app>").description("The actions an object of the app has"))
    .addOption(new Option("-o, --output <format>", "table, json or yaml").default("table"))
    .addHelpText("after", "\nExample:\n  tether app actions list guestbook-ui --kind Deployment --resource-name guestbook-ui")
    .action(async (name: string, flags: TargetFlags) => {
      const format = parseFormat(flags.output ?? "table", ["table", "json", "yaml"]);
      const { app, deps, settings } = await load(flags, name);
      const { actionTarget, actionsOf } = await import("../../agent/actions/run.ts");
      const { live } = await withUsage(actionTarget(app, targetOf(flags), deps));
      const list = await withUsage(Promise.resolve().then(() => actionsOf(live, settings)));
      if (format === "json" || format === "yaml") {
        process.stdout.write(serialize(list, format));
        return;
      }
      const rows = list.map((a) => `${a.name.padEnd(10)} ${a.disabled ? "disabled" : "enabled "} ${(a.params ?? []).map((p) => `${p.name}=${p.default ?? ""}`).join(" ")}`);
      process.stdout.write(rows.length ? `ACTION     STATE    PARAMS\n${rows.join("\n")}\n` : `${flags.kind}/${flags.resourceName} has no actions\n`);
    });

  targetOptions(actions.command("run <app> <action>").description("Run an action on an object of the app (a restart, a scale…)"))
    .option("--param <name=value>", "a parameter of the action (scale: replicas=3); repeatable", collect, [])
    .addHelpText("after", "\nExamples:\n  tether app actions run guestbook-ui restart --kind Deployment --resource-name guestbook-ui"
      + "\n  tether app actions run guestbook-ui scale --kind Deployment --resource-name guestbook-ui --param replicas=3"
      + "\n\nThe patch is sent as the identity the app writes with (its project's destinationServiceAccounts), and must fit the project's rules."
      + "\nA field an action changes that Git also sets (scale's replicas) is put back by the next sync unless ignoreDifferences covers it.")
    .action(async (name: string, action: string, flags: TargetFlags & { param: string[] }) => {
      const params = parseParams(flags.param);
      const { client, app, deps } = await load(flags, name);
      const { runAction } = await import("../../agent/actions/run.ts");
      const outcome = await withUsage(runAction({ app, target: targetOf(flags), action, params }, deps));
      await client.recordEvent(app, { type: "Normal", reason: "ResourceActionRan", message: `${process.env.USER ?? "tether-cli"} ran ${outcome.message}` })
        .catch(() => undefined);
      process.stdout.write(`${name}: ran ${outcome.message}\n`);
    });
  return actions;
}

/** An action refused as asked (not the app's object, no such action, a bad parameter) exits as a usage error. */
async function withUsage<T>(run: Promise<T>): Promise<T> {
  const { ActionError } = await import("../../agent/actions/builtin.ts");
  return await run.catch((err: unknown) => {
    throw err instanceof ActionError ? new UsageError(err.message) : err;
  });
}
