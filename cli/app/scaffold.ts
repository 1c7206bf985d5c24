// The files `tether app create` and `tether app delete` commit. Pure apart from reading the tree:
// every check (name, project, destination, source) runs before anything is written.
import path from "node:path";
import { Document, isMap, isSeq } from "yaml";
import { API_VERSION, FINALIZER, type AppProject, type ApplicationSource } from "../../agent/api/types.ts";
import { globMatch, IN_CLUSTER } from "../../agent/policy/project.ts";
import { ConflictError, NotFoundError, UsageError } from "../errors.ts";
import type { FileChange, Plan, RepoTree } from "../git/tree.ts";
import { addResource, KUSTOMIZATION_FILES, newKustomization, referencesOutside, removeResource } from "../repo/kustomization.ts";
import { assertName, DEFAULT_PROJECT, join, PROJECTS, readApps, readProjects, type FoundApp } from "../repo/layout.ts";
import { chooseType, manifestFiles, needsRecurse, type AppType, type LocalFiles, type RemoteInfo } from "./spec.ts";

/** Where the app's files come from, as resolved before planning. */
export type AppSource =
  /** A directory of another repository, already inspected. */
  | { readonly kind: "remote"; readonly remote: RemoteInfo }
  /**
   * A path: inside the repository when `repoPath` exists in the tree, else the local files copied in.
   * `uncommitted` marks a path inside the user's clone that the branch does not have yet.
   */
  | { readonly kind: "path"; readonly spec: string; readonly repoPath?: string; readonly local?: LocalFiles; readonly uncommitted?: boolean };

export interface AppCreateOptions {
  readonly name: string;
  readonly project: string;
  readonly source: AppSource;
  readonly type?: AppType;
  /** Default: the app's name. */
  readonly destNamespace?: string;
  readonly destServer?: string;
  /** `targetRevision`: for another repository its ref; for this one, pins the app to a revision. */
  readonly revision?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly components: string;
}

/** The Application manifest, in the style of this repository's components/. */
export function applicationYaml(opts: { name: string; project: string; labels?: Readonly<Record<string, string>>; source: Partial<ApplicationSource>; server: string; namespace: string }): string {
  const doc = new Document({
    apiVersion: API_VERSION,
    kind: "Application",
    metadata: {
      name: opts.name,
      ...(opts.labels && Object.keys(opts.labels).length > 0 ? { labels: opts.labels } : {}),
      finalizers: [FINALIZER],
    },
    spec: {
      project: opts.project,
      source: opts.source,
      destination: { server: opts.server, namespace: opts.namespace },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    },
  });
  for (const at of [["metadata", "finalizers"], ["spec", "syncPolicy", "automated"], ["spec", "syncPolicy", "syncOptions"],
    ["spec", "source", "directory"], ["spec", "source", "kustomize"], ["spec", "source", "helm"]]) {
    const node = doc.getIn(at, true);
    if (isSeq(node) || isMap(node)) node.flow = true;
  }
  return doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
}

function negatable(patterns: readonly string[], value: string): boolean {
  return patterns.some((p) => !p.startsWith("!") && globMatch(p, value)) && !patterns.some((p) => p.startsWith("!") && globMatch(p.slice(1), value));
}

/** Refuses a destination or repository the project would refuse at sync time, naming the file to edit. */
function checkProject(found: { project: AppProject; file: string } | undefined, dest: { server: string; namespace: string }, repoURL?: string): void {
  if (!found) return;
  const { project, file } = found;
  const name = project.metadata?.name ?? "";
  const allowed = (project.spec?.destinations ?? []).some((d) => globMatch(d.server ?? "*", dest.server) && globMatch(d.namespace ?? "*", dest.namespace));
  if (!allowed) {
    throw new UsageError(`project ${name} does not allow namespace ${dest.namespace} on ${dest.server}: add \`- {server: ${dest.server}, namespace: ${dest.namespace}}\` `
      + `to spec.destinations in ${file}, or pass a --dest-namespace it allows (${(project.spec?.destinations ?? []).map((d) => d.namespace ?? "*").join(", ") || "none"})`);
  }
  if (repoURL && !negatable(project.spec?.sourceRepos ?? [], repoURL)) {
    throw new UsageError(`project ${name} does not allow repository ${repoURL}: add it to spec.sourceRepos in ${file} (tether project create --source-repo URL for a new project)`);
  }
}

function checkName(apps: readonly FoundApp[], name: string): void {
  const taken = apps.find((a) => a.name === name);
  if (taken) throw new ConflictError(`app ${name} already exists (${taken.file}, project ${taken.project}); choose another name, or \`tether app delete ${name}\` first`);
}

/** Parent kustomizations that list Application files, for users whose root is a kustomization. */
async function parentKustomization(tree: RepoTree, components: string, project: string): Promise<{ file: string; entry: string } | undefined> {
  for (const [dir, entry] of [[join(components, project), ""], [components, `${project}/`]] as const) {
    for (const name of KUSTOMIZATION_FILES) {
      const file = join(dir, name);
      if ((await tree.kind(file)) === "file") return { file, entry };
    }
  }
  return undefined;
}

async function findKustomization(tree: RepoTree, dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    if ((await tree.kind(join(dir, name))) === "file") return join(dir, name);
  }
  return undefined;
}

/** The source fields, the files to write, and a phrase for the commit message. */
interface SourcePlan {
  readonly source: Partial<ApplicationSource>;
  readonly changes: FileChange[];
  readonly type: AppType;
  readonly describe: string;
  readonly repoURL?: string;
}

/** Explicit type fields only when `--type` was given: otherwise the agent guesses as this CLI did. */
function typeField(explicit: AppType | undefined, type: AppType, files: readonly string[]): Partial<ApplicationSource> {
  if (type === "dir" && needsRecurse(files)) return { directory: { recurse: true } };
  if (!explicit) return {};
  return explicit === "dir" ? { directory: {} } : explicit === "kustomize" ? { kustomize: {} } : { helm: {} };
}

function planRemote(remote: RemoteInfo, opts: AppCreateOptions): SourcePlan {
  const where = `${remote.spec.repoURL}${remote.spec.path ? `//${remote.spec.path}` : ""}`;
  const type = chooseType(remote.files, opts.type, where);
  if (opts.type === "kustomize" && !remote.files.some((f) => (KUSTOMIZATION_FILES as readonly string[]).includes(f))) {
    throw new UsageError(`--type kustomize: ${where} has no kustomization.yaml; drop --type to deploy its manifests as a directory`);
  }
  const revision = opts.revision ?? remote.spec.ref ?? "HEAD";
  return {
    source: { repoURL: remote.spec.repoURL, targetRevision: revision, path: remote.spec.path || ".", ...typeField(opts.type, type, remote.files) },
    changes: [], type, describe: `${where} at ${revision}`, repoURL: remote.spec.repoURL,
  };
}

async function planRepoPath(tree: RepoTree, repoPath: string, opts: AppCreateOptions): Promise<SourcePlan> {
  const appDir = join(opts.components, opts.project, opts.name);
  if ((await tree.kind(repoPath)) !== "dir") throw new UsageError(`--app ${repoPath}: a directory is needed (the agent deploys directories); pass the directory that holds it`);
  const depth = repoPath.split("/").length - opts.components.split("/").length;
  if ((repoPath === opts.components || repoPath.startsWith(`${opts.components}/`)) && depth < 2) {
    throw new UsageError(`--app ${repoPath}: the root Application reads that directory itself; pass an app's directory (${opts.components}/<project>/<app>)`);
  }
  const files = (await tree.walk(repoPath)).map((f) => f.slice(repoPath.length + 1));
  const revision = opts.revision ? { targetRevision: opts.revision } : {};
  if (repoPath === appDir) {
    const type = chooseType(files, opts.type === "kustomize" ? undefined : opts.type, repoPath);
    const changes: FileChange[] = [];
    if (opts.type === "kustomize" && type !== "kustomize") {
      changes.push({ path: join(appDir, "kustomization.yaml"), content: newKustomization(manifestFiles(files)) });
    }
    const final = opts.type ?? type;
    return { source: { ...revision, path: repoPath, ...typeField(opts.type, final, files) }, changes, type: final, describe: `${repoPath} (already in the repository)` };
  }
  const type = chooseType(files, opts.type, repoPath);
  if (type !== "kustomize") {
    return { source: { ...revision, path: repoPath, ...typeField(opts.type, type, files) }, changes: [], type, describe: repoPath };
  }
  // A kustomize base elsewhere in the repository gets an overlay of the app's own, to patch per project.
  if (!(await findKustomization(tree, repoPath))) {
    throw new UsageError(`--type kustomize: ${repoPath} has no kustomization.yaml, and kustomize can only build on a directory that has one; add one there, or drop --type kustomize`);
  }
  const resource = path.posix.relative(appDir, repoPath);
  const existing = await findKustomization(tree, appDir);
  const content = existing
    ? addResource((await tree.read(existing)) ?? "", existing, resource)
    : newKustomization([resource], `${opts.name} in project ${opts.project}: the base ${repoPath}, with this project's changes added here.`);
  return {
    source: { ...revision, path: appDir, ...typeField(opts.type, type, files) },
    changes: [{ path: existing ?? join(appDir, "kustomization.yaml"), content }], type, describe: `${appDir} (kustomize, based on ${repoPath})`,
  };
}

async function planLocal(tree: RepoTree, local: LocalFiles, spec: string, opts: AppCreateOptions): Promise<SourcePlan> {
  const appDir = join(opts.components, opts.project, opts.name);
  if ((await tree.kind(appDir)) !== undefined) {
    throw new ConflictError(`${appDir}/ already exists in the repository; deploy what is there with --app ${appDir}, or remove it first`);
  }
  const names = local.files.map((f) => f.path);
  const type = chooseType(names, opts.type === "kustomize" ? undefined : opts.type, spec);
  const changes: FileChange[] = local.files.map((f) => ({ path: join(appDir, f.path), content: f.content }));
  const kustomization = local.files.find((f) => (KUSTOMIZATION_FILES as readonly string[]).includes(f.path));
  if (kustomization) {
    const outside = referencesOutside(kustomization.content.toString("utf8"), `${spec}/${kustomization.path}`);
    if (outside.length > 0) {
      throw new UsageError(`--app ${spec}: ${kustomization.path} refers to ${outside.join(", ")}, outside the directory, which would not be copied; `
        + `commit the base and the overlay to the repository and pass the overlay's path inside it`);
    }
  } else if (opts.type === "kustomize") {
    changes.push({ path: join(appDir, "kustomization.yaml"), content: newKustomization(manifestFiles(names)) });
  }
  const final = opts.type ?? type;
  return { source: { ...(opts.revision ? { targetRevision: opts.revision } : {}), path: appDir, ...typeField(opts.type, final, names) }, changes, type: final, describe: `${appDir} (copied from ${spec})` };
}

async function planSource(tree: RepoTree, opts: AppCreateOptions): Promise<SourcePlan> {
  const src = opts.source;
  if (src.kind === "remote") return planRemote(src.remote, opts);
  if (src.repoPath !== undefined && (await tree.kind(src.repoPath)) !== undefined) return await planRepoPath(tree, src.repoPath, opts);
  if (src.uncommitted) {
    throw new UsageError(`--app ${src.spec}: ${src.repoPath} is in your clone but not committed on the branch; commit it first, or pass a directory outside the repository to copy it in`);
  }
  if (src.local) return await planLocal(tree, src.local, src.spec, opts);
  throw new UsageError(`--app ${src.spec}: no such directory in the repository or on this machine, and not a repository URL (https://host/org/repo.git/path?ref=REV)`);
}

/** Plans `components/PROJECT/NAME.yaml` and the app's files. */
export async function planAppCreate(tree: RepoTree, opts: AppCreateOptions): Promise<Plan> {
  assertName("app", opts.name);
  assertName("project", opts.project);
  const namespace = opts.destNamespace ?? opts.name;
  assertName("--dest-namespace", namespace);
  const server = opts.destServer ?? IN_CLUSTER;
  const appFile = join(opts.components, opts.project, `${opts.name}.yaml`);
  const { apps, broken } = await readApps(tree, opts.components);
  checkName(apps, opts.name);
  if ((await tree.kind(appFile)) !== undefined) throw new ConflictError(`${appFile} already exists; choose another name, or remove the file first`);
  const { projects } = await readProjects(tree);
  const project = projects.find((p) => p.name === opts.project);
  if (!project && opts.project !== DEFAULT_PROJECT) {
    const known = [...new Set([DEFAULT_PROJECT, ...projects.map((p) => p.name)])].join(", ");
    throw new NotFoundError(`project ${opts.project} does not exist in ${PROJECTS}/ (known: ${known}); create it with \`tether project create ${opts.project}\``);
  }
  const planned = await planSource(tree, opts);
  checkProject(project, { server, namespace }, planned.repoURL);

  const changes: FileChange[] = [
    { path: appFile, content: applicationYaml({ name: opts.name, project: opts.project, ...(opts.labels ? { labels: opts.labels } : {}), source: planned.source, server, namespace }) },
    ...planned.changes,
  ];
  const parent = await parentKustomization(tree, opts.components, opts.project);
  if (parent) changes.push({ path: parent.file, content: addResource((await tree.read(parent.file)) ?? "", parent.file, `${parent.entry}${opts.name}.yaml`) });
  const notes = broken.map((b) => `warning: ${b.message}: the root Application cannot render until this is fixed`);
  return {
    message: `Add app ${opts.name} to project ${opts.project}\n\nSource: ${planned.describe}\nType: ${planned.type}\nDestination: ${server} namespace ${namespace}\n`,
    changes, notes,
  };
}

export interface AppDeleteOptions {
  readonly name: string;
  readonly project?: string;
  readonly components: string;
}

/** Plans the removal of the app's manifest, its directory, and its entry in a parent kustomization. */
export async function planAppDelete(tree: RepoTree, opts: AppDeleteOptions): Promise<Plan> {
  assertName("app", opts.name);
  const { apps } = await readApps(tree, opts.components);
  const named = apps.filter((a) => a.name === opts.name);
  const matches = opts.project ? named.filter((a) => a.project === opts.project) : named;
  if (matches.length === 0) {
    const where = opts.project ? ` in project ${opts.project}` : "";
    const others = named.length > 0 ? ` (it is in project ${named.map((a) => a.project).join(", ")})` : "";
    throw new NotFoundError(`app ${opts.name} not found${where} in ${opts.components}/${others}; \`tether app list\` shows what the cluster runs`);
  }
  if (matches.length > 1) throw new UsageError(`app ${opts.name} is defined in ${matches.map((m) => m.file).join(" and ")}; pass -p PROJECT`);
  return await planRemoval(tree, matches[0]!, opts.components);
}

async function planRemoval(tree: RepoTree, found: FoundApp, components: string): Promise<Plan> {
  const text = (await tree.read(found.file)) ?? "";
  if (text.split(/^---\s*$/m).filter((d) => d.replace(/#.*$/gm, "").trim() !== "").length > 1) {
    throw new UsageError(`${found.file} holds more than the Application ${found.name}; remove it from that file by hand`);
  }
  const projectDir = path.posix.dirname(found.file);
  const projectName = path.posix.basename(projectDir);
  const appDir = join(projectDir, found.name);
  const changes: FileChange[] = [{ path: found.file, content: null }];
  const notes: string[] = [];
  if ((await tree.kind(appDir)) === "dir") changes.push({ path: appDir, content: null });
  const sourcePath = found.app.spec?.source?.path;
  if (!found.app.spec?.source?.repoURL && sourcePath && sourcePath !== appDir && !sourcePath.startsWith(`${appDir}/`)) {
    notes.push(`${sourcePath} is kept: other apps may use it`);
  }
  const parent = await parentKustomization(tree, components, projectName);
  if (parent) {
    const before = (await tree.read(parent.file)) ?? "";
    const after = removeResource(before, parent.file, `${parent.entry}${found.name}.yaml`);
    if (after !== before) changes.push({ path: parent.file, content: after });
  }
  const cascade = (found.app.metadata?.finalizers ?? []).includes(FINALIZER)
    ? "the agent deletes what it deployed (finalizer)" : "what it deployed stays in the cluster (no finalizer)";
  notes.push(`once the root Application syncs, ${cascade}`);
  return { message: `Delete app ${found.name} from project ${found.project}\n\nRemoved: ${changes.map((c) => c.path).join(", ")}\n`, changes, notes };
}
