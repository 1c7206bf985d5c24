// `tether project create`: an AppProject in `projects/NAME.yaml`, checked against what the
// repository already holds. Pure apart from reading the tree.
import { Document, isMap, isSeq, type Node } from "yaml";
import { API_VERSION, DEFAULT_NAMESPACE, type AppProject } from "../../agent/api/types.ts";
import { DEFAULT_KEY_SECRET } from "../../agent/api/sources.ts";
import { IN_CLUSTER } from "../../agent/policy/project.ts";
import { ConflictError, NotFoundError, UsageError } from "../errors.ts";
import type { Plan, RepoTree } from "../git/tree.ts";
import { agentNamespace, assertName, DEFAULT_PROJECT, join, PROJECTS, readApps, readProjects } from "../repo/layout.ts";

export interface ProjectOptions {
  readonly name: string;
  /** Namespaces apps of the project may deploy to; globs allowed. Default: any. */
  readonly destNamespaces?: readonly string[];
  /** Clusters apps of the project may deploy to. Default: the cluster the agent runs in. */
  readonly destServers?: readonly string[];
  /** Repositories apps of the project may read; globs allowed. Default: any. */
  readonly sourceRepos?: readonly string[];
  /** Key Secrets apps of the project may decrypt with (spec.decryptionKeys). Default: tether-sops, the key `tether secret` uses. */
  readonly decryptionKeys?: readonly string[];
  readonly description?: string;
  /** The agent's namespace; default: what the repository already uses, else tether-system. */
  readonly namespace?: string;
  readonly components: string;
}

const NAMESPACE_PATTERN = /^!?[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?$/;

/** The AppProject for the options. */
export function appProject(opts: ProjectOptions & { namespace: string }): AppProject {
  const servers = opts.destServers?.length ? opts.destServers : [IN_CLUSTER];
  const namespaces = opts.destNamespaces?.length ? opts.destNamespaces : ["*"];
  return {
    apiVersion: API_VERSION,
    kind: "AppProject",
    metadata: { name: opts.name, namespace: opts.namespace },
    spec: {
      ...(opts.description ? { description: opts.description } : {}),
      sourceRepos: opts.sourceRepos?.length ? [...opts.sourceRepos] : ["*"],
      destinations: servers.flatMap((server) => namespaces.map((namespace) => ({ server, namespace }))),
      decryptionKeys: opts.decryptionKeys?.length ? [...opts.decryptionKeys] : [DEFAULT_KEY_SECRET],
      // Apps create their namespace (CreateNamespace=true); nothing else cluster-wide.
      clusterResourceWhitelist: [{ group: "", kind: "Namespace" }],
    },
  };
}

/** YAML in the style of this repository's projects/: one line per destination and list entry. */
export function projectYaml(project: AppProject): string {
  const doc = new Document(project);
  const flow = (node: unknown) => {
    if (isSeq(node) || isMap(node)) (node as Node & { flow?: boolean }).flow = true;
  };
  flow(doc.getIn(["spec", "sourceRepos"], true));
  flow(doc.getIn(["spec", "decryptionKeys"], true));
  for (const key of ["destinations", "clusterResourceWhitelist"]) {
    const seq = doc.getIn(["spec", key], true);
    if (isSeq(seq)) seq.items.forEach(flow);
  }
  return doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
}

function validate(opts: ProjectOptions): void {
  assertName("project", opts.name);
  for (const ns of opts.destNamespaces ?? []) {
    if (!NAMESPACE_PATTERN.test(ns)) throw new UsageError(`--dest-namespace ${ns}: expected a namespace name or a glob such as team-a-*`);
  }
  for (const server of opts.destServers ?? []) {
    if (server !== "*" && !/^https?:\/\/\S+$/.test(server)) throw new UsageError(`--dest-server ${server}: expected the API server URL, such as ${IN_CLUSTER}`);
  }
  for (const repo of opts.sourceRepos ?? []) {
    if (/\s/.test(repo) || /\/\/[^/@]*:[^/@]*@/.test(repo)) throw new UsageError(`--source-repo ${repo}: expected a repository URL or glob, without credentials`);
  }
}

/** Plans `projects/NAME.yaml`; refuses a taken name. */
export async function planProject(tree: RepoTree, opts: ProjectOptions): Promise<Plan> {
  validate(opts);
  const file = join(PROJECTS, `${opts.name}.yaml`);
  const { projects } = await readProjects(tree);
  const existing = projects.find((p) => p.name === opts.name);
  if (opts.name === DEFAULT_PROJECT) {
    throw new ConflictError(`project ${DEFAULT_PROJECT} already exists: \`tether install\` creates it; \`tether repo init\` writes ${join(PROJECTS, "default.yaml")} to narrow it`);
  }
  if (existing || (await tree.kind(file)) !== undefined) {
    throw new ConflictError(`project ${opts.name} already exists (${existing?.file ?? file}); edit that file, or choose another name`);
  }
  const namespace = opts.namespace ?? (await agentNamespace(tree, opts.components)) ?? DEFAULT_NAMESPACE;
  const project = appProject({ ...opts, namespace });
  const notes: string[] = [];
  const { apps } = await readApps(tree, opts.components);
  if (!apps.some((a) => a.app.spec?.source?.path === PROJECTS && !a.app.spec.source.repoURL)) {
    notes.push(`warning: no Application in ${opts.components}/ applies ${PROJECTS}/, so the agent will not see this project; run \`tether repo init\``);
  }
  const destinations = (project.spec.destinations ?? []).map((d) => `${d.server} namespace ${d.namespace}`).join(", ");
  return {
    message: `Add project ${opts.name}\n\nDestinations: ${destinations}\nSource repositories: ${(project.spec.sourceRepos ?? []).join(", ")}\n`,
    changes: [{ path: file, content: projectYaml(project) }],
    notes,
  };
}

/**
 * Plans removing `projects/NAME.yaml`; refuses while an app of the repository still names the
 * project (the agent would stop deploying it), and the default project, which `tether install` owns.
 */
export async function planProjectDelete(tree: RepoTree, opts: { readonly name: string; readonly components: string }): Promise<Plan> {
  assertName("project", opts.name);
  if (opts.name === DEFAULT_PROJECT) throw new UsageError(`project ${DEFAULT_PROJECT} cannot be deleted: \`tether install\` creates it and apps fall back to it`);
  const { projects } = await readProjects(tree);
  const found = projects.find((p) => p.name === opts.name);
  if (!found) {
    throw new NotFoundError(`project ${opts.name} not found in ${PROJECTS}/ (known: ${projects.map((p) => p.name).join(", ") || "none"})`);
  }
  const { apps } = await readApps(tree, opts.components);
  const users = apps.filter((a) => (a.app.spec?.project ?? DEFAULT_PROJECT) === opts.name);
  if (users.length > 0) {
    throw new ConflictError(`project ${opts.name} is used by ${users.map((a) => `${a.name} (${a.file})`).join(", ")}: `
      + "delete those apps or move them to another project first");
  }
  const text = (await tree.read(found.file)) ?? "";
  if (text.split(/^---\s*$/m).filter((d) => d.replace(/#.*$/gm, "").trim() !== "").length > 1) {
    throw new UsageError(`${found.file} holds more than the AppProject ${opts.name}; remove it from that file by hand`);
  }
  return { message: `Remove project ${opts.name}\n`, changes: [{ path: found.file, content: null }] };
}
