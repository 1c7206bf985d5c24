// `tether notifications ...`: try tether-notifications-cm against a live Application: what a template
// produces for it, and one trigger's notifications sent now (argocd admin notifications).
import { Command, Option } from "commander";
import { DEFAULT_NAMESPACE, type Application, type AppProject } from "../../agent/api/types.ts";
import { NotFoundError, UsageError } from "../errors.ts";
import { kubeOptions, loadKubeConfig, withCluster, type KubeFlags } from "../kube.ts";
import { parseFormat, serialize, table } from "../output.ts";

type Flags = KubeFlags & { output?: string };

const collect = (value: string, previous: string[]) => [...previous, value];

/** The ConfigMap, the Secret, tether-cm's url and, with `app`, the Application and its project. */
async function read(flags: KubeFlags, appName?: string) {
  const kc = loadKubeConfig(flags);
  const namespace = flags.namespace ?? DEFAULT_NAMESPACE;
  const { CoreV1Api } = await import("@kubernetes/client-node");
  const { TetherClient } = await import("../../agent/api/client.ts");
  const { load, NOTIFICATIONS_CONFIGMAP, NOTIFICATIONS_SECRET } = await import("../../agent/notify/index.ts");
  const core = kc.makeApiClient(CoreV1Api);
  const client = new TetherClient(kc, namespace);
  const optional = <T>(p: Promise<T>) => p.catch((err: unknown) => {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  });
  return withCluster(kc, async () => {
    const [cm, secret, settings] = await Promise.all([
      optional(core.readNamespacedConfigMap({ name: NOTIFICATIONS_CONFIGMAP, namespace })),
      optional(core.readNamespacedSecret({ name: NOTIFICATIONS_SECRET, namespace })),
      optional(core.readNamespacedConfigMap({ name: "tether-cm", namespace })),
    ]);
    const warnings: string[] = [];
    const secretData = Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
    const loaded = load(cm?.data, secretData, (line) => warnings.push(line));
    let app: Application | undefined;
    let project: AppProject | undefined;
    if (appName !== undefined) {
      app = await client.getApplication(appName);
      if (!app) throw new NotFoundError(`application ${appName} not found in namespace ${namespace}; list them with \`tether app list\``);
      project = await client.getProject(app.spec.project || "default");
    }
    return { loaded, warnings, cmKeys: new Set(Object.keys(cm?.data ?? {})), url: settings?.data?.url ?? "", app, project };
  });
}

export function notificationsCommand(): Command {
  const cmd = new Command("notifications").alias("notification")
    .description("Try tether-notifications-cm on an Application: render its templates, send a trigger's notifications now");
  const template = cmd.command("template").description("Templates of tether-notifications-cm and the catalog");

  kubeOptions(template.command("list").alias("ls").description("List the templates, where each is defined and the triggers that send it"), "the agent's namespace")
    .addOption(new Option("-o, --output <format>", "table, json or yaml").default("table"))
    .addHelpText("after", "\nExamples:\n  tether notifications template list\n  tether notifications template list -o json")
    .action(async (flags: Flags) => {
      const format = parseFormat(flags.output, ["table", "json", "yaml"]) as "table" | "json" | "yaml";
      const { templateRows } = await import("./run.ts");
      const r = await read(flags);
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      const rows = templateRows(r.loaded, r.cmKeys);
      process.stdout.write(format === "table" ? table(["NAME", "FROM", "SENT BY"], rows.map((t) => [t.name, t.from, t.triggers.join(",")])) : serialize(rows, format));
    });

  kubeOptions(template.command("get <name>").description("Print what a template produces for an Application"), "the agent's namespace")
    .requiredOption("--app <name>", "the Application to render it for")
    .option("--service <name>", "render as for this service (.serviceType)", "")
    .addOption(new Option("-o, --output <format>", "text (the message), json or yaml (every field)").default("text"))
    .addHelpText("after", `
Renders with the Application as it is in the cluster now; nothing is sent.

Examples:
  tether notifications template get app-sync-failed --app guestbook
  tether notifications template get app-deployed --app guestbook --service slack -o yaml`)
    .action(async (name: string, flags: Flags & { app: string; service: string }) => {
      const format = flags.output === "text" ? "text" : parseFormat(flags.output, ["json", "yaml"]) as "json" | "yaml";
      const { renderFor } = await import("./run.ts");
      const r = await read(flags, flags.app);
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      if (!r.loaded.config.templates.has(name)) {
        throw new NotFoundError(`template ${name} is not defined; see \`tether notifications template list\``);
      }
      const n = renderFor({ loaded: r.loaded, app: r.app as Application, project: r.project, url: r.url, now: Math.floor(Date.now() / 1000) }, name, flags.service);
      process.stdout.write(format === "text" ? `${n.message.replace(/\n?$/, "\n")}` : serialize(n, format));
    });

  kubeOptions(cmd.command("test").description("Send a trigger's notifications for an Application now, whether its condition holds or not"), "the agent's namespace")
    .requiredOption("--trigger <name>", "the trigger, e.g. on-sync-succeeded")
    .requiredOption("--app <name>", "the Application")
    .option("--recipient <service:recipient>", "send here instead of to the app's subscribers (repeatable)", collect, [])
    .addOption(new Option("-o, --output <format>", "table, json or yaml").default("table"))
    .addHelpText("after", `
Renders the templates of every condition of the trigger for the Application as it is now and sends them with
the services of tether-notifications-cm; the HOLDS column says whether the condition holds (the agent would
send it now). The notified state is not changed. Exit 1 when a send fails.

Examples:
  tether notifications test --trigger on-sync-succeeded --app guestbook
  tether notifications test --trigger on-sync-failed --app guestbook --recipient slack:test-channel -o json`)
    .action(async (flags: Flags & { trigger: string; app: string; recipient: string[] }) => {
      const format = parseFormat(flags.output, ["table", "json", "yaml"]) as "table" | "json" | "yaml";
      const { parseRecipient, testTrigger } = await import("./run.ts");
      const r = await read(flags, flags.app);
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      if (!r.loaded.config.triggers.has(flags.trigger)) throw new UsageError(`trigger ${flags.trigger} is not defined; add trigger.${flags.trigger} to tether-notifications-cm`);
      const ctx = { loaded: r.loaded, app: r.app as Application, project: r.project, url: r.url, now: Math.floor(Date.now() / 1000) };
      const { results, problems } = await testTrigger(ctx, flags.trigger, flags.recipient.map(parseRecipient));
      for (const p of problems) process.stderr.write(`warning: ${p}\n`);
      if (results.length === 0) process.stderr.write(`nobody subscribes ${flags.app} to ${flags.trigger}; name one with --recipient service:recipient\n`);
      if (format === "table") {
        process.stdout.write(table(["TRIGGER", "DESTINATION", "TEMPLATES", "HOLDS", "RESULT"], results.map((x) => [
          x.trigger, `${x.destination.service}${x.destination.recipient ? `:${x.destination.recipient}` : ""}`, x.templates.join(","),
          x.holds ? "yes" : "no", x.sent ? "sent" : `failed: ${x.error ?? ""}`])));
      } else process.stdout.write(serialize(results, format));
      if (results.some((x) => !x.sent)) process.exitCode = 1;
    });
  return cmd;
}
