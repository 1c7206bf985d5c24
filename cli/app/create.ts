// `tether app create`: scaffold an Application in components/PROJECT/, commit, push, and optionally
// wait for the agent to deploy it.
import { primarySource } from "../../agent/api/sources.ts";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Command, Option } from "commander";
import { REFRESH_ANNOTATION, type Application } from "../../agent/api/types.ts";
import type { TetherClient } from "../../agent/api/client.ts";
import { isInside } from "../../agent/source/safe-join.ts";
import { TimeoutError, UsageError } from "../errors.ts";
import { repoOptions, resolveAccess, type RepoAccess, type RepoFlags } from "../git/access.ts";
import { runAndReport } from "../git/report.ts";
import { tetherClient, type KubeFlags } from "../kube.ts";
import { parseDuration } from "../output.ts";
import { DEFAULT_COMPONENTS, join, PROJECTS, repoDir } from "../repo/layout.ts";
import { verifyPlan } from "./verify.ts";
import { planAppCreate, type AppSource } from "./scaffold.ts";
import { APP_TYPES, inspectRemote, isRemoteSpec, parseRemoteSpec, readLocal, type AppType } from "./spec.ts";
import { describeState, waitForApp } from "./wait.ts";

type CreateFlags = RepoFlags & KubeFlags & {
  app: string;
  project: string;
  type?: AppType;
  destNamespace?: string;
  destServer?: string;
  revision?: string;
  label: string[];
  waitTimeout?: string;
  path: string;
  dryRun: boolean;
};

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** `--label k=v` values as a map; refuses what the API server would refuse. */
export function parseLabels(values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf("=");
    const key = eq < 0 ? value : value.slice(0, eq);
    const val = eq < 0 ? "" : value.slice(eq + 1);
    if (eq < 0 || !LABEL_KEY.test(key) || !LABEL_VALUE.test(val)) {
      throw new UsageError(`--label ${value}: expected key=value, such as team=payments (keys and values: letters, digits, '-', '_', '.')`);
    }
    labels[key] = val;
  }
  return labels;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Commander options shared by the commands that wait on the cluster. */
export function kubeWaitOptions(cmd: Command): Command {
  return cmd
    .option("--kubeconfig <path>", "kubeconfig for --wait-timeout (default: $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context")
    .option("-n, --namespace <ns>", "namespace the agent reads Applications from", "tether-system");
}

export function createCommand(): Command {
  const cmd = new Command("create")
    .argument("<name>", "the Application's name (DNS-1123 label)")
    .description("Scaffold an Application in components/PROJECT/NAME.yaml (and its files), commit and push it")
    .requiredOption("--app <spec>", "what to deploy: a path in the repository, a local directory or chart to copy in, or another repository's directory (https://host/org/repo.git/path?ref=v1.2.0)")
    .requiredOption("-p, --project <name>", "the AppProject (projects/NAME.yaml, or default)")
    .addOption(new Option("--type <type>", "how the agent renders it (default: guessed: kustomization.yaml -> kustomize, Chart.yaml -> helm, else dir)").choices(APP_TYPES))
    .option("--dest-namespace <ns>", "namespace to deploy to (default: the app's name; created if missing)")
    .option("--dest-server <url>", "cluster API server to deploy to", "https://kubernetes.default.svc")
    .option("--revision <rev>", "branch, tag or commit to deploy (default: ?ref= of a remote SPEC, else the root Application's revision)")
    .option("--label <key=value>", "label on the Application (repeatable)", collect, [])
    .option("--wait-timeout <duration>", "after pushing, wait this long for Synced and Healthy (exit 4 at the timeout), e.g. 2m")
    .option("--path <dir>", "the root app-of-apps directory", DEFAULT_COMPONENTS);
  repoOptions(cmd);
  kubeWaitOptions(cmd);
  return cmd
    .addHelpText("after", `
Examples:
  tether app create hello --app ./hello -p apps --repo https://git.example.com/platform/gitops.git
  tether app create podinfo --app 'https://github.com/stefanprodan/podinfo//kustomize?ref=6.7.0' -p default
  tether app create hello --app ./charts/hello -p apps --dest-namespace hello --wait-timeout 2m
  tether app create hello --app ./hello -p apps --dry-run

Exit codes: 0 committed (and, with --wait-timeout, Synced and Healthy), 2 bad usage, 3 unknown project,
4 timed out waiting, 5 name taken / local changes in the way / push rejected twice.`)
    .action(async (name: string, flags: CreateFlags) => {
      const components = repoDir(flags.path, "--path");
      const labels = parseLabels(flags.label);
      const timeoutMs = flags.waitTimeout === undefined ? undefined : parseDuration(flags.waitTimeout, "--wait-timeout");
      // Fail on a missing kubeconfig before pushing, not after.
      const client = timeoutMs === undefined || flags.dryRun ? undefined : tetherClient(flags);
      const access = await resolveAccess(flags);
      const source = await resolveSource(flags.app, access, flags.revision);
      const decryptionKeys = await localAgeKeys();
      const outcome = await runAndReport(access, async (tree) => {
        const plan = await planAppCreate(tree, {
          name, project: flags.project, source, components,
          ...(flags.type ? { type: flags.type } : {}),
          ...(flags.destNamespace ? { destNamespace: flags.destNamespace } : {}),
          ...(flags.destServer ? { destServer: flags.destServer } : {}),
          ...(flags.revision ? { revision: flags.revision } : {}),
          labels,
        });
        const notes = await verifyPlan(tree, plan, { appFile: join(components, flags.project, `${name}.yaml`), decryptionKeys });
        return { ...plan, notes: [...(plan.notes ?? []), ...notes] };
      }, { dryRun: flags.dryRun, guard: [components, PROJECTS] });
      if (client && timeoutMs !== undefined && outcome.status !== "dry-run") {
        try {
          const app = await waitForDeployment(client, name, { timeoutMs, components, ...(outcome.status === "committed" ? { branch: outcome.branch } : {}) });
          process.stdout.write(`${name}: ${describeState(app)}\n`);
        } catch (err) {
          throw afterCommit(err, outcome.status === "committed");
        }
      }
    });
}

/** Decides what SPEC is; a remote one is fetched and listed now, before anything is written. */
export async function resolveSource(spec: string, access: RepoAccess, revision?: string, cwd = process.cwd()): Promise<AppSource> {
  if (isRemoteSpec(spec)) {
    const parsed = parseRemoteSpec(spec);
    if (revision && parsed.ref && revision !== parsed.ref) throw new UsageError(`--revision ${revision} and ?ref=${parsed.ref} disagree; pass one of them`);
    const remote = await inspectRemote(revision ? { ...parsed, ref: revision } : parsed, sameHost(parsed.repoURL, access) ? access.credentials : undefined);
    return { kind: "remote", remote };
  }
  const abs = path.resolve(cwd, spec);
  if (access.mode === "local" && isInside(access.location, abs)) {
    if (!existsSync(abs)) throw new UsageError(`--app ${spec}: ${abs} does not exist; pass the directory of the app`);
    const repoPath = path.relative(access.location, abs).split(path.sep).join("/");
    if (repoPath === "") throw new UsageError(`--app ${spec} is the repository itself; pass the directory of the app inside it`);
    return { kind: "path", spec, repoPath, uncommitted: true };
  }
  const parts = spec.split("/").filter((p) => p !== "" && p !== ".");
  const repoPath = path.isAbsolute(spec) || parts.includes("..") || parts.length === 0 ? undefined : parts.join("/");
  const local = await readLocal(abs);
  return { kind: "path", spec, ...(repoPath ? { repoPath } : {}), ...(local ? { local } : {}) };
}

/** A token for the GitOps repository is also sent to a remote SPEC on the same host, never elsewhere. */
function sameHost(url: string, access: RepoAccess): boolean {
  try {
    return access.mode === "remote" && new URL(url).host === new URL(access.location).host;
  } catch {
    return false;
  }
}

/**
 * Asks the app-of-apps that reads `components` to fetch Git now (instead of at its next poll), so the
 * pushed Application appears within seconds.
 */
export async function refreshParents(client: TetherClient, components: string, branch?: string): Promise<string[]> {
  const parents = (await client.listApplications()).filter((a) => (primarySource(a)?.path ?? "").replace(/^\.\/|\/$/g, "") === components);
  for (const parent of parents) {
    const name = parent.metadata?.name ?? "";
    const watched = primarySource(parent)?.targetRevision ?? "HEAD";
    if (branch && watched !== "HEAD" && watched !== branch && watched !== `refs/heads/${branch}`) {
      process.stderr.write(`warning: ${name} reads ${components}/ at ${watched}, not ${branch}: pass --branch ${watched}, or the agent will not see this commit\n`);
    }
    await client.mergeApplication(name, { metadata: { annotations: { [REFRESH_ANNOTATION]: new Date().toISOString() } } });
  }
  return parents.map((p) => p.metadata?.name ?? "");
}

/**
 * Refreshes an app refused for a project that has arrived since, once: the agent would otherwise
 * retry it only after its backoff.
 */
function projectArrived(client: TetherClient): (app: Application) => Promise<void> {
  let nudged = false;
  return async (app) => {
    if (nudged || !(app.status?.conditions ?? []).some((c) => c.type === "PolicyViolation")) return;
    if (!(await client.getProject(app.spec.project ?? "default"))) return;
    nudged = true;
    await client.mergeApplication(app.metadata?.name ?? "", { metadata: { annotations: { [REFRESH_ANNOTATION]: new Date().toISOString() } } });
  };
}

/** An error after the push still says that the commit landed, keeping its exit code. */
function afterCommit(err: unknown, committed: boolean): unknown {
  if (!committed || !(err instanceof Error)) return err;
  const wrapped = new Error(`the commit was pushed, and the agent will deploy it; but waiting for it failed: ${err.message}`, { cause: err });
  return Object.assign(wrapped, { exitCode: (err as { exitCode?: number }).exitCode ?? 1 });
}

/** age identities from $SOPS_AGE_KEY_FILE, so encrypted files are checked too; none without it. */
async function localAgeKeys(): Promise<string[]> {
  const file = process.env.SOPS_AGE_KEY_FILE;
  if (!file) return [];
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("AGE-SECRET-KEY-"));
}

/**
 * The Applications that apply projects/: refreshed with the root, so a new AppProject arrives with
 * the app that needs it, not at the next poll.
 */
async function refreshProjects(client: TetherClient): Promise<string[]> {
  const readers = (await client.listApplications()).filter((a) => (primarySource(a)?.path ?? "").replace(/^\.\/|\/$/g, "") === PROJECTS);
  for (const app of readers) {
    await client.mergeApplication(app.metadata?.name ?? "", { metadata: { annotations: { [REFRESH_ANNOTATION]: new Date().toISOString() } } });
  }
  return readers.map((a) => a.metadata?.name ?? "");
}

async function waitForDeployment(client: TetherClient, name: string, opts: { timeoutMs: number; components: string; branch?: string }) {
  const deadline = Date.now() + opts.timeoutMs;
  const projects = await refreshProjects(client);
  const parents = await refreshParents(client, opts.components, opts.branch);
  const andProjects = projects.length > 0 ? ` (and ${projects.join(", ")}, which read${projects.length === 1 ? "s" : ""} ${PROJECTS}/)` : "";
  process.stderr.write(parents.length > 0
    ? `waiting for the agent: refreshed ${parents.join(", ")}, which read${parents.length === 1 ? "s" : ""} ${opts.components}/${andProjects}\n`
    : `waiting for the agent: no Application reads ${opts.components}/ in namespace ${client.namespace}; waiting for one to create ${name}\n`);
  while (!(await client.getApplication(name))) {
    if (Date.now() > deadline) {
      const why = [];
      for (const p of parents) {
        const parent = await client.getApplication(p);
        why.push(`  ${p}: ${describeState(parent)}`, ...(parent?.status?.conditions ?? []).map((c) => `    ${c.type}: ${c.message}`));
      }
      throw new TimeoutError(`timed out after ${opts.timeoutMs / 1000}s: the agent did not create Application ${name} in namespace ${client.namespace}; `
        + `is the root Application reading ${opts.components}/ from the branch that was pushed?${why.length > 0 ? `\n${why.join("\n")}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  try {
    return await waitForApp(client, name, { timeoutMs: Math.max(1000, deadline - Date.now()), progress: process.stderr, onPoll: projectArrived(client) });
  } catch (err) {
    // waitForApp counts from when the app appeared; the user asked for a limit from the push.
    if (err instanceof TimeoutError) throw new TimeoutError(err.message.replace(/^timed out after [\d.]+s/, `timed out after ${opts.timeoutMs / 1000}s`));
    throw err;
  }
}
