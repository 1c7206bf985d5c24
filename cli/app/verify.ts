// Before `tether app create` commits: the agent's own render and policy checks on the files it is
// about to push, so a plaintext Secret, a kind the project forbids or a broken manifest is refused
// here, with the agent's message, and never reaches the repository.
import { declaredSources, primarySource } from "../../agent/api/sources.ts";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import type { AppProject, Application } from "../../agent/api/types.ts";
import { TetherError } from "../../agent/errors.ts";
import { checkPlaintextSecrets } from "../../agent/policy/plaintext.ts";
import { checkApplication, checkObjects } from "../../agent/policy/project.ts";
import { renderApplication } from "../../agent/render/application.ts";
import { UsageError } from "../errors.ts";
import { withChanges, writeChanges, type Plan, type RepoTree } from "../git/tree.ts";
import { readProjects } from "../repo/layout.ts";

/** Kinds that have no namespace, for the project's rules without asking a cluster. */
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
  "StorageClass", "PriorityClass", "IngressClass", "RuntimeClass", "APIService", "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "CSIDriver", "Node"]);

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
    const rendered = await renderApplication({ root, app, decryptionKeys: opts.decryptionKeys ?? [] }).catch((err: unknown) => {
      if (err instanceof TetherError && err.reason === "DecryptionFailed") return undefined;
      throw err instanceof TetherError ? refused(err) : err;
    });
    if (!rendered) return ["note: encrypted files were not checked (no age key here; set SOPS_AGE_KEY_FILE to check them)"];
    guard(() => checkPlaintextSecrets(rendered, app.metadata?.annotations));
    const namespace = app.spec.destination.namespace ?? "default";
    guard(() => project && checkObjects(project, app.spec.destination, rendered.map(({ manifest }) => {
      const namespaced = !CLUSTER_SCOPED.has(manifest.kind);
      return { namespaced, manifest: namespaced ? { ...manifest, metadata: { ...manifest.metadata, namespace: manifest.metadata.namespace ?? namespace } } : manifest };
    })));
    return [];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function projectOf(tree: RepoTree, name: string): Promise<AppProject | undefined> {
  return (await readProjects(tree)).projects.find((p) => p.name === name)?.project;
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
