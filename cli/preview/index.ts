// `tether preview`: what a branch changes in every application, rendered on this machine without a cluster.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Command, Option } from "commander";
import { argv, gitRevArgv, runTool } from "../../agent/exec.ts";
import { defaultProject } from "../../agent/api/install.ts";
import { API_VERSION, DEFAULT_NAMESPACE, type AppProject, type Application } from "../../agent/api/types.ts";
import { diskTree } from "../git/tree.ts";
import { UsageError } from "../errors.ts";
import { readProjects, repoDir } from "../repo/layout.ts";
import { useRepoTools } from "../tools.ts";
import { comparePreviews, previewChanges, type Preview } from "./compare.ts";
import type { AgentRenderer } from "./agent.ts";
import { previewJson, previewMarkdown, previewText } from "./format.ts";
import { archiveCheckout, gitTreeHash, renderTree, resolveRevision, type Tree } from "./tree.ts";

interface PreviewFlags {
  readonly base: string;
  readonly head: string;
  readonly path: string;
  readonly output: string;
  readonly repo: string;
  readonly repoUrl: string[];
  readonly ageKeyFile: string[];
  readonly rootName: string;
  readonly namespace: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly live: boolean;
  readonly agentUrl?: string;
  readonly authToken?: string;
  readonly local: boolean;
}

const collect = (value: string, previous: readonly string[]): string[] => [...previous, value];

export function previewCommand(): Command {
  return new Command("preview")
    .description("Show what a branch changes in every application: the app-of-apps tree rendered at two commits, without a cluster")
    .option("--base <ref>", "the commit to compare from (the target branch)", "main")
    .option("--head <ref>", "the commit to compare to (the pull request)", "HEAD")
    .option("--path <dir>", "the root app-of-apps directory", "components")
    .addOption(new Option("-o, --output <format>", "text, markdown (a pull-request comment) or json").default("text"))
    .option("--repo <dir>", "the clone to read (default: the working directory)", ".")
    .option("--repo-url <url>", "a URL Applications use for this repository, besides its remotes (repeatable)", collect, [])
    .option("--age-key-file <file>", "age identities to decrypt SOPS files in memory (repeatable; default: $SOPS_AGE_KEY_FILE)", collect, [])
    .option("--root-name <name>", "the root Application's name", "root")
    .option("-n, --namespace <ns>", "the agent's namespace (the root Application's destination)", DEFAULT_NAMESPACE)
    .option("--kubeconfig <path>", "also compare head with the live clusters: the agent's cluster (each app's destination as the agent resolves it)")
    .option("--context <name>", "kubeconfig context (implies --live)")
    .option("--live", "compare head with the live clusters using $KUBECONFIG or ~/.kube/config", false)
    .option("--agent-url <url>", "render each app the agent runs on the agent (default $TETHER_AGENT_URL): the commits must be pushed")
    .option("--auth-token <token>", "a bearer token the agent accepts (default $TETHER_AUTH_TOKEN)")
    .option("--local", "render everything on this machine even when an agent is given", false)
    .hook("preAction", useRepoTools)
    .addHelpText("after", `
Every Application found under --path is rendered as the agent renders it (directory, Kustomize,
Helm, SOPS/KSOPS), then its own Applications, down the whole tree. With an agent (--agent-url or
$TETHER_AGENT_URL), each app it already runs is rendered there at the pushed commit, with its tools,
keys and the destination's Helm capabilities (values it decrypted come back masked); the rest here.
Stderr says which app was rendered where. Applications of this repository
are read at --base and --head; Secret values are masked. Without age keys an app with encrypted
files is compared by its files. With --kubeconfig (or --live) every app rendered at head is also compared
with what runs in its destination cluster: the kubeconfig's cluster for in-cluster, a cluster Secret of
the agent namespace for any other (as the agent resolves it), with what the app applied before
(its inventory) shown as removed. Exit codes: 0 nothing changes, 1 something changes (or differs
from the cluster), 2 bad usage.

Examples:
  tether preview --base origin/main --head HEAD
  tether preview --base main --head feature -o markdown > preview.md
  SOPS_AGE_KEY_FILE=ci.agekey tether preview --base "$BASE_SHA" --head "$HEAD_SHA" -o json
  tether preview --base main --head HEAD --kubeconfig ~/.kube/prod`)
    .action(async (flags: PreviewFlags) => {
      const format = flags.output;
      if (!["text", "markdown", "json"].includes(format)) throw new UsageError(`-o ${format}: expected one of text, markdown, json`);
      const preview = await runPreview(flags);
      process.stdout.write(format === "json" ? previewJson(preview) : format === "markdown" ? previewMarkdown(preview) : previewText(preview));
      process.exitCode = previewChanges(preview) ? 1 : 0;
    });
}

async function runPreview(flags: PreviewFlags): Promise<Preview> {
  const repo = path.resolve(flags.repo);
  const top = await runTool("git", gitRevArgv({ options: ["rev-parse", "--show-toplevel"] }), { cwd: repo, reject: false });
  if (top.exitCode !== 0) throw new UsageError(`--repo ${flags.repo}: not a Git clone; run the command in the repository or pass --repo DIR`);
  const root = top.stdout.trim();
  const components = repoDir(flags.path, "--path");
  const [base, head] = [await resolveRevision(root, flags.base).catch(usage("--base")), await resolveRevision(root, flags.head).catch(usage("--head"))];
  const urls = new Set([...await remoteUrls(root), ...flags.repoUrl].map(normalizeUrl));
  const inRepo = (url: string | undefined) => !url || urls.has(normalizeUrl(url));
  const decryptionKeys = await ageKeys(flags.ageKeyFile);
  const rootApp = rootApplication(flags.rootName, components, flags.namespace);
  const agent = flags.local ? undefined : await previewAgent(flags, inRepo);
  const render = async (sha: string) => (await renderTree({
    checkout: archiveCheckout(root, sha), root: rootApp, inRepo, decryptionKeys, treeHash: gitTreeHash(root, sha),
    project: await projectsAt(archiveCheckout(root, sha), flags.namespace),
    ...(agent ? { remote: (app: Application) => agent.render(app, sha) } : {}),
  }))
    .map((a) => (a.error && decryptionKeys.length === 0 && /age key/.test(a.error) ? { ...a, error: `${a.error} (for a preview: pass --age-key-file)` } : a));
  const heads = await render(head);
  const preview = comparePreviews(await render(base), heads, { base, head });
  for (const line of agent?.notes ?? []) process.stderr.write(`${line}\n`);
  if (flags.kubeconfig === undefined && flags.context === undefined && !flags.live) return preview;
  const { compareWithCluster } = await import("./live.ts");
  const kube = { namespace: flags.namespace, ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}) };
  return { ...preview, live: await compareWithCluster(heads, kube) };
}

/** The agent to render on, when one is given; a note on stderr when none is. */
async function previewAgent(flags: PreviewFlags, inRepo: (url: string | undefined) => boolean): Promise<AgentRenderer | undefined> {
  const { agentEndpoint } = await import("../app/remote.ts");
  const ep = agentEndpoint(flags);
  if (!("url" in ep)) {
    process.stderr.write(`rendering on this machine: ${ep.none}\n`);
    return undefined;
  }
  return (await import("./agent.ts")).agentRenderer(ep, inRepo);
}

const usage = (flag: string) => (err: unknown) => {
  throw new UsageError(`${flag} ${err instanceof Error ? err.message : String(err)}`);
};

/** The root app-of-apps as `tether bootstrap` creates it. */
function rootApplication(name: string, components: string, namespace: string): Application {
  return {
    apiVersion: API_VERSION, kind: "Application", metadata: { name, namespace },
    spec: { project: "default", source: { repoURL: "", path: components, directory: { recurse: true, exclude: "*/*/*" } }, destination: { namespace } },
  };
}

/**
 * The AppProjects of a commit's `projects/`, and `default` as `tether install` creates it when the
 * commit has none: the preview checks each app against the project it names, as the agent would.
 */
async function projectsAt(checkout: () => Promise<Tree>, namespace: string): Promise<(name: string) => Promise<AppProject | undefined>> {
  const tree = await checkout();
  try {
    const { projects } = await readProjects(diskTree(tree.dir));
    return (name) => Promise.resolve(projects.find((p) => p.name === name)?.project ?? (name === "default" ? defaultProject(namespace) : undefined));
  } finally {
    await tree.cleanup();
  }
}

async function remoteUrls(repo: string): Promise<string[]> {
  const r = await runTool("git", argv({ options: ["remote", "-v"] }), { cwd: repo, reject: false });
  return r.stdout.split("\n").map((l) => l.split(/\s+/)[1] ?? "").filter((u) => u !== "");
}

/** One spelling per repository: no credentials, scheme, `.git` or trailing slash; scp-style as a path. */
export function normalizeUrl(url: string): string {
  const scp = /^[\w.-]+@([\w.-]+):(.*)$/.exec(url);
  const plain = scp ? `${scp[1]}/${scp[2]}` : url.replace(/^[a-z+]+:\/\//i, "").replace(/^[^@/]*@/, "");
  return plain.replace(/\/+$/, "").replace(/\.git$/, "").toLowerCase();
}

async function ageKeys(files: readonly string[]): Promise<string[]> {
  const sources = files.length > 0 ? files : process.env.SOPS_AGE_KEY_FILE ? [process.env.SOPS_AGE_KEY_FILE] : [];
  const keys: string[] = [];
  for (const file of sources) {
    const text = await readFile(file, "utf8").catch(() => {
      throw new UsageError(`--age-key-file ${file}: cannot read it`);
    });
    keys.push(...text.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("AGE-SECRET-KEY-")));
  }
  return keys;
}
