// The repository layout Tether deploys, read and written as plain data: `components/<project>/<app>.yaml`
// holds an Application, `components/<project>/<app>/` its files, `projects/<name>.yaml` an AppProject.
// Pure apart from reading through a RepoTree.
import { parseAllDocuments } from "yaml";
import type { AppProject, Application } from "../../agent/api/types.ts";
import { API_VERSION } from "../../agent/api/types.ts";
import { UsageError } from "../errors.ts";
import type { RepoTree } from "../git/tree.ts";

/** The root app-of-apps directory, unless `--path` says otherwise. */
export const DEFAULT_COMPONENTS = "components";
/** Where AppProjects live; the `projects` Application applies this directory. */
export const PROJECTS = "projects";
/** The project `tether install` creates in the cluster, whether or not Git holds a file for it. */
export const DEFAULT_PROJECT = "default";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MANIFEST = /\.(ya?ml|json)$/;

/** Refuses a name that is not a DNS-1123 label: it becomes `metadata.name`, a file name and often a namespace. */
export function assertName(what: string, name: string): void {
  if (name.length > 63 || !DNS_LABEL.test(name)) {
    const hint = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
    throw new UsageError(`${what} "${name}" is not a valid name: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit (RFC 1123)${hint && hint !== name ? `, e.g. "${hint}"` : ""}`);
  }
}

/** A repository-relative directory from a flag: no leading `./` or `/`, no trailing `/`, no `..`. */
export function repoDir(value: string, flag: string): string {
  const parts = value.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.includes("..") || value.startsWith("/")) {
    throw new UsageError(`${flag} ${value}: expected a directory inside the repository, such as components`);
  }
  return parts.join("/");
}

/** A YAML or JSON file that did not parse, named so the user can fix it. */
export interface BrokenFile {
  readonly file: string;
  readonly message: string;
}

/** An Application found in the layout. */
export interface FoundApp {
  readonly name: string;
  readonly project: string;
  readonly file: string;
  readonly app: Application;
}

/** An AppProject found in `projects/`. */
export interface FoundProject {
  readonly name: string;
  readonly file: string;
  readonly project: AppProject;
}

/** Every object of the given kind in a YAML/JSON file (all documents), or the parse error. */
export function objectsOf<T>(file: string, text: string, kind: string): { objects: T[]; broken?: BrokenFile } {
  const docs = parseAllDocuments(text);
  const objects: T[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      const err = doc.errors[0]!;
      const line = err.linePos?.[0]?.line;
      return { objects, broken: { file, message: `${file}${line ? `:${line}` : ""}: ${err.message.split("\n")[0]}` } };
    }
    const value = doc.toJS() as { apiVersion?: unknown; kind?: unknown } | null;
    if (value && value.apiVersion === API_VERSION && value.kind === kind) objects.push(value as T);
  }
  return { objects };
}

/** The manifest files the root Application reads: `components/*` and `components/*\/*` (not deeper). */
export async function rootManifestFiles(tree: RepoTree, components: string): Promise<string[]> {
  const depth = components.split("/").length;
  return (await tree.walk(components)).filter((f) => MANIFEST.test(f) && f.split("/").length <= depth + 2);
}

/** The Applications the root Application deploys, and the files that did not parse. */
export async function readApps(tree: RepoTree, components: string): Promise<{ apps: FoundApp[]; broken: BrokenFile[] }> {
  const apps: FoundApp[] = [];
  const broken: BrokenFile[] = [];
  for (const file of await rootManifestFiles(tree, components)) {
    const parsed = objectsOf<Application>(file, (await tree.read(file)) ?? "", "Application");
    if (parsed.broken) broken.push(parsed.broken);
    for (const app of parsed.objects) {
      apps.push({ name: app.metadata?.name ?? "", project: app.spec?.project ?? DEFAULT_PROJECT, file, app });
    }
  }
  return { apps, broken };
}

/** The AppProjects in `projects/`, and the files that did not parse. */
export async function readProjects(tree: RepoTree): Promise<{ projects: FoundProject[]; broken: BrokenFile[] }> {
  const projects: FoundProject[] = [];
  const broken: BrokenFile[] = [];
  for (const file of (await tree.walk(PROJECTS)).filter((f) => MANIFEST.test(f))) {
    const parsed = objectsOf<AppProject>(file, (await tree.read(file)) ?? "", "AppProject");
    if (parsed.broken) broken.push(parsed.broken);
    for (const project of parsed.objects) projects.push({ name: project.metadata?.name ?? "", file, project });
  }
  return { projects, broken };
}

/**
 * The namespace the agent reads Applications and AppProjects from, as this repository already says
 * it: the destination of the Application that applies `projects/`, else the first AppProject's.
 */
export async function agentNamespace(tree: RepoTree, components: string): Promise<string | undefined> {
  const { apps } = await readApps(tree, components);
  const projectsApp = apps.find((a) => a.app.spec?.source?.path === PROJECTS && !a.app.spec.source.repoURL);
  if (projectsApp?.app.spec.destination?.namespace) return projectsApp.app.spec.destination.namespace;
  const { projects } = await readProjects(tree);
  return projects.find((p) => p.project.metadata?.namespace)?.project.metadata?.namespace;
}

/** A file name inside the layout, posix-joined. */
export function join(...parts: readonly string[]): string {
  return parts.filter((p) => p !== "" && p !== ".").join("/");
}
