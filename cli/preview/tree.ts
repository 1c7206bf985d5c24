// Renders a whole app-of-apps tree at one commit on this machine, as the agent would: the root
// directory, every child Application found in it, their children, and so on.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { argv, gitRevArgv, runTool } from "../../agent/exec.ts";
import type { AppProject, Application, Manifest } from "../../agent/api/types.ts";
import { primarySource, sourcesOf } from "../../agent/api/sources.ts";
import type { PlannedObject } from "../../agent/apply/plan.ts";
import { RenderCache } from "../../agent/controller/memo.ts";
import { desiredState } from "../../agent/controller/pipeline.ts";
import { errorMessage } from "../../agent/errors.ts";
import { missingToolHint } from "../app/remote.ts";
import type { ChartSource } from "../../agent/render/chart-deps.ts";
import type { RenderedObject } from "../../agent/render/types.ts";
import { ChartFetcher } from "../../agent/source/helm-repo.ts";

/** One Application as rendered at one commit: its spec, and its objects or why they could not be made. */
export interface AppSnapshot {
  readonly name: string;
  /** The Application as its parent renders it (the root's is synthetic). */
  readonly app: Application;
  readonly parent?: string;
  readonly objects?: readonly Manifest[];
  /** The objects as the agent would apply them (placed, tracked), kinds scoped without a cluster. */
  readonly planned?: readonly PlannedObject[];
  /** The render, with what was decrypted marked (masked in a live diff whatever its kind). */
  readonly rendered?: readonly RenderedObject[];
  readonly error?: string;
  /** Git's hash of the source directory at this commit: tells a changed app apart when it cannot be rendered. */
  readonly sourceHash?: string;
}

/** A tree of one commit in a throwaway directory. */
export interface Tree {
  readonly dir: string;
  cleanup(): Promise<void>;
}

export interface RenderTreeOptions {
  /** A fresh copy of the commit's tree for each render: the Kustomize renderer edits it in place. */
  readonly checkout: () => Promise<Tree>;
  /** The root Application: the one `tether bootstrap` creates over components/. */
  readonly root: Application;
  /** Whether an Application's source is this repository (rendered at this commit) or another one. */
  readonly inRepo: (repoURL: string | undefined) => boolean;
  /** Renders an Application from another repository; absent, such apps are compared by spec only. */
  readonly external?: (app: Application) => Promise<Manifest[]>;
  readonly decryptionKeys: readonly string[];
  /** Charts from chart repositories and registries; by default fetched anonymously into ~/.cache/tether/charts. */
  readonly charts?: ChartSource;
  /** The AppProjects of this commit (its `projects/`), as the agent would find them; the project rules are checked. */
  readonly project: (name: string) => Promise<AppProject | undefined>;
  /** Git's hash of a directory of this commit, or undefined when it does not exist. */
  readonly treeHash?: (dir: string) => Promise<string | undefined>;
  /**
   * Renders an Application on the agent (cli/preview/agent.ts), as it renders for the sync; undefined
   * when the agent cannot (no such app there, the commit not pushed, unreachable): rendered here then.
   */
  readonly remote?: (app: Application) => Promise<Manifest[] | undefined>;
}

const APP_API_VERSIONS = new Set(["tether.dev/v1alpha1", "argoproj.io/v1alpha1"]);

export function isApplication(m: Manifest): boolean {
  return m.kind === "Application" && APP_API_VERSIONS.has(m.apiVersion);
}

/** Every Application of the tree, the root first, each with what it renders to. */
export async function renderTree(opts: RenderTreeOptions): Promise<AppSnapshot[]> {
  const out: AppSnapshot[] = [];
  const queue: { app: Application; parent?: string }[] = [{ app: opts.root }];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const { app, parent } = queue.shift()!;
    const name = app.metadata?.name ?? "";
    if (seen.has(name)) continue;
    seen.add(name);
    const snapshot = await renderOne(app, opts);
    const primary = primarySource(app);
    const sourceHash = snapshot.error && primary && opts.inRepo(primary.repoURL) ? await opts.treeHash?.(primary.path ?? ".") : undefined;
    out.push({ name, app, ...(parent ? { parent } : {}), ...snapshot, ...(sourceHash ? { sourceHash } : {}) });
    for (const child of snapshot.objects?.filter(isApplication) ?? []) queue.push({ app: child as unknown as Application, parent: name });
  }
  return out;
}

/**
 * One app through the agent's pipeline (every source, charts from their repositories, `$ref` value
 * files, Argo CD manifests adopted, plaintext and project rules); its Git sources read this commit's tree.
 */
async function renderOne(app: Application, opts: RenderTreeOptions): Promise<{ objects?: Manifest[]; planned?: readonly PlannedObject[]; rendered?: readonly RenderedObject[]; error?: string }> {
  try {
    const outside = sourcesOf(app).find((s) => s.chart === undefined && !opts.inRepo(s.repoURL));
    if (outside) {
      return opts.external ? { objects: await opts.external(app) } : { error: `not rendered: reads ${outside.repoURL}, another repository` };
    }
    const remote = await opts.remote?.(app);
    if (remote !== undefined) return { objects: remote };
    const tree = { resolve: () => Promise.resolve("preview"), checkout: () => opts.checkout() };
    const state = await desiredState({ app }, {
      source: { ...tree, fetch: () => Promise.resolve() },
      charts: opts.charts ?? new ChartFetcher({ cacheDir: path.join(os.homedir(), ".cache", "tether") }),
      decryptionKeys: () => Promise.resolve(opts.decryptionKeys), project: opts.project, renderCache: new RenderCache(),
      agentNamespace: app.metadata?.namespace ?? "tether-system",
      // Only this clone is read (apps of other repositories are not rendered), whatever its remote URL spells.
      allowLocalRepos: true,
    });
    return { objects: state.desired.rendered.map((r) => r.manifest), planned: state.planned, rendered: state.desired.rendered };
  } catch (err) {
    return { error: errorMessage(missingToolHint(err)) };
  }
}

/** The full SHA of `rev` in the clone at `repo`. */
export async function resolveRevision(repo: string, rev: string): Promise<string> {
  const r = await runTool("git", gitRevArgv({ options: ["rev-parse", "--verify", "--quiet"], positionals: [`${rev}^{commit}`] }), { cwd: repo, reject: false });
  if (r.exitCode !== 0) throw new Error(`${rev} is not a commit of the Git repository in ${repo}: pass a branch, tag or SHA it has (fetch it first in CI)`);
  return r.stdout.trim();
}

/** A checkout function for `sha` of the clone at `repo`: `git archive`, extracted into a fresh directory each time. */
export function archiveCheckout(repo: string, sha: string): () => Promise<Tree> {
  return async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "tether-preview-"));
    try {
      await runTool("git", gitRevArgv({ options: ["-c", "core.attributesFile=/dev/null", "archive", "--format=tar"], positionals: [sha] }), { cwd: repo })
        .pipe(runTool("tar", argv({ options: ["-x", "--file=-", `--directory=${dir}`] }), {}));
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
  };
}

/** Git's hash of directory `dir` at `sha` in the clone at `repo`. */
export function gitTreeHash(repo: string, sha: string): (dir: string) => Promise<string | undefined> {
  return async (dir) => {
    const clean = dir.replace(/^\.\/?|\/$/g, "");
    const r = await runTool("git", gitRevArgv({ options: ["rev-parse", "--verify", "--quiet"], positionals: [`${sha}:${clean}`] }), { cwd: repo, reject: false });
    return r.exitCode === 0 ? r.stdout.trim() : undefined;
  };
}
