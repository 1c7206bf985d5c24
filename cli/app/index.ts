// `tether app ...`: read and drive Applications through the API server, as the agent sees them.
import { Command, Option } from "commander";
import { REFRESH_ANNOTATION, type Application } from "../../agent/api/types.ts";
import { NotFoundError, TimeoutError, UsageError } from "../errors.ts";
import { kubeOptions, loadKubeConfig, withCluster } from "../kube.ts";
import { ApiBackend, appBackend, KubeBackend, needsKubeconfig, type AppBackend, type AppFlags } from "./backend.ts";
import { parseDuration, parseFormat, serialize } from "../output.ts";
import { setSuspended, SUSPEND_ANNOTATION } from "./suspend.ts";
import { resolveCommit, seconds } from "./revision.ts";
import { appDetails, appTable, historyTable, withoutManagedFields } from "./view.ts";
import { describeState, stopWhenSyncEnded, waitForApp } from "./wait.ts";
import { createCommand } from "./create.ts";
import { deleteCommand } from "./delete.ts";
import { actionsCommand } from "./actions.ts";
import { manifestsCommand } from "./manifests.ts";
import { refuseWhileRunning, rollbackTarget, waitForOperation } from "./operation.ts";
import { isSelected, parseResource } from "../../agent/apply/selection.ts";

type Flags = AppFlags & { output?: string };

// The modules that read the cluster (the Kubernetes client, the diff's whole reconcile) are imported by
// the action that needs them, so `tether app list --help` parses none of them.

const collect = (value: string, previous: string[]) => [...previous, value];

async function mustGet(flags: AppFlags, name: string) {
  const client = await appBackend(flags);
  const app = await client.getApplication(name);
  if (!app) throw new NotFoundError(`application ${name} not found in ${client.where}; list them with \`tether app list\``);
  return { client, app };
}

/** The cluster flags, and `--server` for a `tether login` (cli/login). */
function appOptions(cmd: Command): Command {
  return kubeOptions(cmd).option("--server <url>", "go through the agent's API with this `tether login` (default: the current login, if any, unless --kubeconfig or --context is given)");
}

export function appCommand(): Command {
  const app = new Command("app").description("Inspect and drive Applications")
    .addCommand(createCommand())
    .addCommand(deleteCommand())
    .addCommand(actionsCommand())
    .addCommand(manifestsCommand());

  appOptions(app.command("list").alias("ls").description("List Applications with their sync and health status"))
    .addOption(new Option("-o, --output <format>", "table, wide, json, yaml or name").default("table"))
    .option("-A, --all-namespaces", "list the Applications of every namespace", false)
    .option("-l, --selector <selector>", "only Applications with these labels, as kubectl takes them (team=a,tier!=web)")
    .option("-p, --project <name>", "only the Applications of this project (repeatable)", collect, [])
    .addHelpText("after", `
The MESSAGE column says why an app is not fine (its first condition); -o wide shows them all.

Examples:
  tether app list -o wide
  tether app list -A -l team=payments -p apps
  tether app list -o json | jq '.[].status.sync.status'`)
    .action(async (flags: Flags & { allNamespaces: boolean; selector?: string; project: string[] }) => {
      const format = parseFormat(flags.output);
      const { listApplications, selectApps, labelsMatch } = await import("./list.ts");
      const backend = await appBackend(flags);
      let apps;
      if (backend instanceof ApiBackend) {
        if (flags.allNamespaces) throw new UsageError(`-A: the agent at ${backend.where} serves the Applications of its own namespace; drop -A`);
        apps = selectApps((await backend.listApplications()).filter((a) => !flags.selector || labelsMatch(flags.selector, a.metadata?.labels ?? {})), { projects: flags.project });
      } else {
        apps = await listApplications(flags, { allNamespaces: flags.allNamespaces, projects: flags.project, ...(flags.selector ? { selector: flags.selector } : {}) });
      }
      if (format === "json" || format === "yaml") process.stdout.write(serialize(apps.map(withoutManagedFields), format));
      else if (format === "name") process.stdout.write(apps.map((a) => `${a.metadata?.name}\n`).join(""));
      else process.stdout.write(apps.length ? appTable(apps, { wide: format === "wide", namespaces: flags.allNamespaces }) : "No applications found.\n");
    });

  appOptions(app.command("get <name>").description("Show one Application: source, status, conditions, and its live objects as a tree"))
    .addOption(new Option("-o, --output <format>", "table, wide, json or yaml (json/yaml print the object as the API holds it, without managedFields)").default("table"))
    .addHelpText("after", "\nExample:\n  tether app get message-app\n  tether app get message-app -o wide\n  tether app get message-app -o json")
    .action(async (name: string, flags: Flags) => {
      const format = parseFormat(flags.output, ["table", "wide", "json", "yaml"]);
      const { client, app: a } = await mustGet(flags, name);
      if (format === "json" || format === "yaml") {
        process.stdout.write(serialize(withoutManagedFields(a), format));
        return;
      }
      const { treeTable } = await import("./tree.ts");
      const nodes = await client.tree(a).catch(() => undefined);
      process.stdout.write(nodes ? appDetails(a, format === "wide", treeTable(nodes, format === "wide")) : appDetails(a, format === "wide"));
    });

  appOptions(app.command("logs <name>").description("Print the logs of the Pods the Application runs (every container, prefixed with pod and container)"))
    .option("-c, --container <name>", "only this container")
    .option("--pod <name>", "only this pod")
    .option("--tail <lines>", "only the last lines of each log")
    .option("-f, --follow", "keep printing new lines until interrupted", false)
    .addHelpText("after", "\nExamples:\n  tether app logs message-app --tail 20\n  tether app logs message-app -f -c app")
    .action(async (name: string, flags: Flags & { container?: string; pod?: string; tail?: string; follow: boolean }) => {
      const tail = flags.tail === undefined ? undefined : Number(flags.tail);
      if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new UsageError(`--tail ${flags.tail}: expected a number of lines`);
      const { client, app: a } = await mustGet(flags, name);
      if (client instanceof ApiBackend) {
        const { appLogsViaApi } = await import("./logs.ts");
        await appLogsViaApi(a, client, { follow: flags.follow, ...(flags.container ? { container: flags.container } : {}), ...(flags.pod ? { pod: flags.pod } : {}) });
        return;
      }
      const kc = loadKubeConfig(flags);
      const { appLogs } = await import("./logs.ts");
      await withCluster(kc, () => appLogs(a, kc, { follow: flags.follow, ...(tail !== undefined ? { tail } : {}),
        ...(flags.container ? { container: flags.container } : {}), ...(flags.pod ? { pod: flags.pod } : {}) }));
    });

  for (const suspend of [true, false]) {
    appOptions(app.command(`${suspend ? "suspend" : "resume"} <name>`)
      .description(suspend ? `Stop automated sync and self-heal of an Application (annotation ${SUSPEND_ANNOTATION}: "true"); manual sync still works`
        : "Turn automated sync and self-heal of a suspended Application back on"))
      .addHelpText("after", `\nExample:\n  tether app ${suspend ? "suspend" : "resume"} message-app`)
      .action(async (name: string, flags: Flags) => {
        const { client: backend } = await mustGet(flags, name);
        needsKubeconfig(backend, suspend ? "suspend" : "resume");
        if (!(backend instanceof KubeBackend)) return;
        const { client } = backend;
        await setSuspended(client, name, suspend);
        if (suspend) await client.mergeApplication(name, { metadata: { annotations: { [REFRESH_ANNOTATION]: new Date().toISOString() } } });
        process.stdout.write(`${name}: ${suspend ? "suspended: the agent does not sync or heal it until `tether app resume`" : "resumed: automated sync is back on"}\n`);
      });
  }

  appOptions(app.command("history <name>").description("Show the revisions an Application deployed"))
    .addOption(new Option("-o, --output <format>", "table, json or yaml").default("table"))
    .action(async (name: string, flags: Flags) => {
      const format = parseFormat(flags.output, ["table", "json", "yaml"]);
      const { app: a } = await mustGet(flags, name);
      if (format === "json" || format === "yaml") process.stdout.write(serialize(a.status?.history ?? [], format));
      else process.stdout.write(historyTable(a));
    });

  appOptions(app.command("rollback <name> [history-id]").description("Deploy the revision of an earlier history entry and turn automated sync off, as Argo CD does"))
    .option("--timeout <duration>", "how long to wait for the agent to deploy it", "2m")
    .addOption(new Option("-o, --output <format>", "table, json or yaml").default("table"))
    .addHelpText("after", "\nExamples:\n  tether app history guestbook-ui\n  tether app rollback guestbook-ui 3\n  tether app rollback guestbook-ui      # the entry before the current one\n"
      + "\nAutomated sync stays off (condition RolledBack names the command that turns it back on), so the next commit does not undo the rollback."
      + "\nExit codes: 0 deployed, 1 the sync failed, 3 no such app or history entry, 4 timeout, 5 another operation in progress.")
    .action(async (name: string, id: string | undefined, flags: Flags & { timeout: string }) => {
      const format = parseFormat(flags.output, ["table", "json", "yaml"]);
      const { client, app: a } = await mustGet(flags, name);
      const target = rollbackTarget(a, id);
      refuseWhileRunning(a);
      await client.requestRollback(a, target);
      const done = await waitForOperation(client, name, parseDuration(flags.timeout, "--timeout"));
      const op = done.status?.operationState;
      if (format === "json" || format === "yaml") process.stdout.write(serialize(withoutManagedFields(done), format));
      else {
        const revision = (a.status?.history ?? []).find((h) => h.id === target)?.revision ?? "";
        process.stdout.write(`${name}: rolled back to history entry ${target} (${revision.slice(0, 7)}): ${op?.phase ?? "Unknown"}: ${op?.message ?? ""}\n`
          + `${a.spec.syncPolicy?.automated ? "automated sync is now off; `tether app get` shows how to turn it back on\n" : ""}`);
      }
      if (op?.phase !== "Succeeded") process.exitCode = 1;
    });

  appOptions(app.command("diff <name>").description("Show how the cluster differs from Git (Secret values masked); exit 1 when it differs"))
    .option("--revision <rev>", "render the app at this branch, tag or commit instead of its targetRevision")
    .option("--agent-url <url>", "with a kubeconfig: render on this agent (its API address; default $TETHER_AGENT_URL), as it renders for the sync")
    .option("--auth-token <token>", "a bearer token that agent accepts (default $TETHER_AUTH_TOKEN, else the kubeconfig user's token)")
    .option("--local", "render on this machine even when an agent is given", false)
    .option("--repo-cache <dir>", "where to keep the git mirror (when rendering here)")
    .option("--allow-local-repos", "read file:// and plain-path repoURLs (refused by default, as the agent refuses them)", false)
    .addHelpText("after", "\nThrough a `tether login`, or with a kubeconfig and an agent (--agent-url or $TETHER_AGENT_URL), the agent renders"
      + "\nand compares, with its tools, keys and repository credentials; otherwise, or when it cannot be reached, this machine"
      + "\nrenders (helm and kustomize needed here). Stderr says which. Examples:\n  tether app diff message-app && echo in sync\n"
      + "  TETHER_AGENT_URL=http://127.0.0.1:8080 TETHER_AUTH_TOKEN=$(kubectl create token ci) tether app diff message-app --revision feature")
    .action(async (name: string, flags: Flags & DiffFlags) => {
      const { client, app: a } = await mustGet(flags, name);
      const text = await diffText(client, a, flags);
      process.stdout.write(text);
      process.exitCode = text ? 1 : 0;
    });

  appOptions(app.command("refresh <name>").description("Ask the agent to fetch Git now and compare again"))
    .option("--timeout <duration>", "how long to wait for the agent to take the request", "60s")
    .action(async (name: string, flags: Flags & { timeout: string }) => {
      const { client, app: a0 } = await mustGet(flags, name);
      await client.requestRefresh(a0);
      await waitUntil(async () => (await client.getApplication(name))?.metadata?.annotations?.[REFRESH_ANNOTATION] === undefined,
        parseDuration(flags.timeout, "--timeout"), `the agent did not take the refresh of ${name}; is \`tether agent\` running?`);
      const a = await client.getApplication(name);
      process.stdout.write(`${name}: refreshed; sync=${a?.status?.sync?.status ?? "Unknown"} health=${a?.status?.health?.status ?? "Unknown"}\n`);
    });

  appOptions(app.command("sync <name>").description("Apply Git to the cluster now (also for apps without automated sync)"))
    .option("--prune", "also delete objects that left Git", false)
    .option("--dry-run", "show what would change and change nothing", false)
    .option("--allow-local-repos", "with --dry-run: read file:// and plain-path repoURLs", false)
    .option("--resource <GROUP:KIND:NAME>", "sync only this object (Argo CD's format: GROUP:KIND:NAME or GROUP:KIND:NAMESPACE/NAME, "
      + "the core group empty, * matches anything, a leading ! excludes; repeatable); the app stays OutOfSync for the rest", collect, [])
    .option("--timeout <duration>", "how long to wait for the sync to finish", "2m")
    .addOption(new Option("-o, --output <format>", "table, json or yaml").default("table"))
    .addHelpText("after", "\nExamples:\n  tether app sync guestbook-ui --prune\n  tether app sync guestbook-ui --resource :Service:guestbook-ui"
      + "\n  tether app sync guestbook-ui --resource apps:Deployment:web/guestbook-ui --resource '!:ConfigMap:*'\n"
      + "\nA sync of some objects runs no hooks and adds no history entry, as in Argo CD; it waits for the operation, not for Synced."
      + "\nWhile another operation runs (or is requested) the sync is refused with exit 5, as Argo CD: nothing is queued.")
    .action(async (name: string, flags: Flags & { prune: boolean; dryRun: boolean; timeout: string; resource: string[]; allowLocalRepos: boolean }) => {
      const format = parseFormat(flags.output, ["table", "json", "yaml"]);
      const resources = flags.resource.map((r) => {
        try {
          return parseResource(r);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
      });
      const { client, app: a } = await mustGet(flags, name);
      const resourceRefs = (a.status?.resources ?? []).map((r) => ({ group: r.group ?? "", kind: r.kind, name: r.name, namespace: r.namespace ?? "" }));
      if (resources.length > 0 && !resourceRefs.some((ref) => isSelected(ref, resources))) {
        throw new NotFoundError(`no object of ${name} matches --resource ${flags.resource.join(" --resource ")}; \`tether app get ${name}\` lists its objects (GROUP:KIND:NAME, the core group empty)`);
      }
      if (flags.dryRun) {
        const text = await diffText(client, a, flags);
        process.stdout.write(text || `${name}: nothing to sync\n`);
        return;
      }
      refuseWhileRunning(a);
      await client.requestSync(a, { prune: flags.prune, resources });
      const timeoutMs = parseDuration(flags.timeout, "--timeout");
      if (resources.length > 0) {
        const synced = await waitForOperation(client, name, timeoutMs);
        if (format === "json" || format === "yaml") process.stdout.write(serialize(withoutManagedFields(synced), format));
        else process.stdout.write(`${name}: ${synced.status?.operationState?.phase ?? "Unknown"}: ${synced.status?.operationState?.message ?? ""}\n`);
        if (synced.status?.operationState?.phase !== "Succeeded") process.exitCode = 1;
        return;
      }
      const done = await waitForApp(client, name, { operation: true, sync: true, timeoutMs, onPoll: (polled) => Promise.resolve(stopWhenSyncEnded(polled)) });
      if (format === "json" || format === "yaml") process.stdout.write(serialize(withoutManagedFields(done), format));
      else process.stdout.write(`${name}: ${done.status?.operationState?.phase ?? "Succeeded"}: ${done.status?.operationState?.message ?? ""}\n`);
    });

  appOptions(app.command("wait <name>").description("Wait until an Application is Synced and/or Healthy (both by default)"))
    .option("--sync", "wait for Synced", false)
    .option("--health", "wait for Healthy", false)
    .option("--revision <rev>", "wait until the app deployed this commit (a SHA, or HEAD of the clone in the working directory)")
    .option("--timeout <duration>", "give up after this long (exit 4)", "2m")
    .addHelpText("after", `
Stops at once (exit 1) on a condition that cannot clear without a new commit: PlaintextSecret,
DecryptionFailed, RenderFailed, EmptyRender, SharedResource.
Exit codes: 0 reached, 1 stuck on such a condition, 3 not found, 4 timed out.

Examples:
  tether app wait message-app --health --timeout 5m
  git push && tether app wait message-app --revision HEAD`)
    .action(async (name: string, flags: Flags & { sync: boolean; health: boolean; timeout: string; revision?: string }) => {
      const timeoutMs = parseDuration(flags.timeout, "--timeout");
      const commit = flags.revision ? await resolveCommit(flags.revision) : undefined;
      const client = await appBackend(flags);
      const started = Date.now();
      const a = await waitForApp(client, name, {
        sync: flags.sync, health: flags.health, timeoutMs, missing: "fail",
        ...(commit ? { revision: commit.sha, ...(commit.committedAt ? { since: commit.committedAt } : {}) } : {}),
      });
      const took = commit?.committedAt ? `; ${seconds(Date.now() - commit.committedAt.getTime())} after the commit` : commit ? `; waited ${seconds(Date.now() - started)}` : "";
      process.stdout.write(`${name}: ${describeState(a)} at ${(a.status?.sync?.revision ?? "").slice(0, 7)}${took}\n`);
    });

  return app;
}

/** The diff text (empty when the cluster equals Git): rendered by the agent after a login, here otherwise. */
type DiffFlags = { repoCache?: string; allowLocalRepos: boolean; revision?: string; agentUrl?: string; authToken?: string; local?: boolean };

async function diffText(client: AppBackend, app: Application, flags: AppFlags & DiffFlags): Promise<string> {
  if (!(client instanceof KubeBackend)) return (await (client as ApiBackend).diff(app, flags.revision)).map((d) => d.diff).join("");
  return (await import("./diff.ts")).diffApplication(app, {
    client: client.client, flags, allowLocalRepos: flags.allowLocalRepos, ...(flags.repoCache ? { cacheDir: flags.repoCache } : {}),
    ...(flags.revision ? { overrides: { revision: flags.revision } } : {}), local: flags.local ?? false,
    note: (line) => process.stderr.write(`${line}\n`),
  });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new TimeoutError(message);
    await new Promise((r) => setTimeout(r, 500));
  }
}
