// Before `tether app create` commits: the agent's own render and policy checks on the files it is
// about to push, so a plaintext Secret, a kind the project forbids or a broken manifest is refused
// here, with the agent's message, and never reaches the repository.
import { declaredSources, primarySource } from "../../agent/api/sources.ts";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { defaultProject } from "../../agent/api/install.ts";
import { DEFAULT_NAMESPACE, type AppProject, type Application } from "../../agent/api/types.ts";
import { RenderCache } from "../../agent/controller/memo.ts";
import { desiredState } from "../../agent/controller/pipeline.ts";
import { TetherError } from "../../agent/errors.ts";
import { checkApplication } from "../../agent/policy/project.ts";
import { ChartFetcher } from "../../agent/source/helm-repo.ts";
import { UsageError } from "../errors.ts";
import { withChanges, writeChanges, type Plan, type RepoTree } from "../git/tree.ts";
import { readProjects } from "../repo/layout.ts";

/** A refusal with the agent's reason and message: nothing was committed. */
export class RefusedError extends UsageError {}

export interface VerifyOptions {
  /** The Application file the plan writes. */
  readonly appFile: string;
  /** age identities, when the user has them: encrypted files are then decrypted in memory and checked too. */
  readonly decryptionKeys?: readonly string[];
}

/**
 * Renders the planned Application from the tree as it will be once committed, and runs the agent's
 * guard on it: plaintext Secrets, the project's source, destination and kind rules. Returns notes
 * (what could not be checked); throws RefusedError with the agent's message.
 */
export async function verifyPlan(tree: RepoTree, plan: Plan, opts: VerifyOptions): Promise<string[]> {
  const after = withChanges(tree, plan.changes);
  const app = parse((await after.read(opts.appFile)) ?? "") as Application;
  const project = await projectOf(after, app.spec.project ?? "default");
  // Another repository, or several sources (chart repositories among them): only the project's rules here.
  if (primarySource(app)?.repoURL || declaredSources(app).length > 1) {
    guard(() => project && checkApplication(project, app));
    return [];
  }
  const root = await mkdtemp(path.join(os.tmpdir(), "tether-verify-"));
  try {
    await writeChanges(root, await Promise.all((await after.walk("")).map(async (file) => ({ path: file, content: (await after.read(file)) ?? "" }))));
    const tree = { dir: root, cleanup: () => Promise.resolve() };
    // The agent's own pipeline over the tree as it will be committed: plaintext guard and project rules included.
    // A project that is not in the repository (made in the cluster) is not checked here, as before.
    try {
      await desiredState({ app }, {
        source: { fetch: () => Promise.resolve(), resolve: () => Promise.resolve("verify"), checkout: () => Promise.resolve(tree) },
        charts: new ChartFetcher({ cacheDir: path.join(os.homedir(), ".cache", "tether") }), renderCache: new RenderCache(),
        decryptionKeys: () => Promise.resolve(opts.decryptionKeys ?? []), project: () => Promise.resolve(sourcesUnchecked(project ?? defaultProject())),
        agentNamespace: app.metadata?.namespace ?? DEFAULT_NAMESPACE, allowLocalRepos: true,
      });
    } catch (err) {
      if (err instanceof TetherError && err.reason === "DecryptionFailed") {
        return ["note: encrypted files were not checked (no age key here; set SOPS_AGE_KEY_FILE to check them)"];
      }
      throw err instanceof TetherError ? refused(err) : err;
    }
    return [];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function projectOf(tree: RepoTree, name: string): Promise<AppProject | undefined> {
  return (await readProjects(tree)).projects.find((p) => p.name === name)?.project;
}

/**
 * The app reads the repository being committed to, by the parent's URL the agent fills in: known only
 * there, so the project's sourceRepos are left to the agent; destinations and kinds are checked here.
 */
function sourcesUnchecked(project: AppProject): AppProject {
  return { ...project, spec: { ...project.spec, sourceRepos: ["*"] } };
}

function guard(check: () => unknown): void {
  try {
    check();
  } catch (err) {
    throw err instanceof TetherError ? refused(err) : err;
  }
}

function refused(err: TetherError): RefusedError {
  return new RefusedError(`refused before committing, as the agent would refuse it (${err.reason}): ${err.message}`);
}
