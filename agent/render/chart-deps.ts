// Chart dependencies as `helm dependency build` fetches them: each entry of Chart.yaml's
// `dependencies` from its own repository (HTTP(S) index or OCI registry, with the same credentials as
// any chart source), at the version Chart.lock pins, into the chart's charts/ directory. A
// dependency already under charts/ (vendored) is left as committed.
import { access, copyFile, cp, mkdir, readFile, readdir } from "node:fs/promises";
import { join, posix, relative } from "node:path";
import { parse as parseYaml } from "yaml";
import { TetherError, errorMessage } from "../errors.ts";
import type { ChartRef, FetchedChart } from "../source/helm-repo.ts";
import { safeJoin } from "../source/safe-join.ts";
import { isRecord } from "./tool.ts";

/** What fetches charts: `ChartFetcher` from agent/source/helm-repo.ts. */
export interface ChartSource {
  fetch(ref: ChartRef): Promise<FetchedChart>;
  /** The version `ref.targetRevision` selects (exact versions need no request). */
  resolve(ref: ChartRef): Promise<string>;
}

/** Fetching of chart dependencies: where from, and whether the AppProject allows that repository. */
export interface DependencyFetch {
  readonly charts: ChartSource;
  /** The AppProject's `sourceRepos`, applied to every dependency's repository; absent: all allowed. */
  readonly allowRepo?: (repoURL: string) => boolean;
}

/** One entry of Chart.yaml's `dependencies` (or a v1 chart's requirements.yaml). */
interface Dependency {
  readonly name: string;
  readonly version: string;
  readonly repository: string;
}

/**
 * Puts every dependency the chart at `root/path` lists into its charts/ directory, unless it is
 * already there (vendored). Versions come from Chart.lock when it exists, as `helm dependency build`
 * takes them; else the newest release matching the constraint. `file://` dependencies are copied
 * from inside the repository.
 */
export async function buildDependencies(root: string, path: string, fetch: DependencyFetch): Promise<void> {
  const chartDir = await safeJoin(root, path);
  const deps = await readDependencies(chartDir, path);
  if (deps.length === 0) return;
  const locked = await readLock(chartDir);
  // Through safeJoin: a committed `charts` link out of the checkout would take the copies with it.
  const chartsDir = await safeJoin(root, posix.join(path, "charts"));
  await mkdir(chartsDir, { recursive: true });
  const present = await readdir(chartsDir);
  for (const dep of deps) {
    if (present.some((f) => f === dep.name || (f.startsWith(`${dep.name}-`) && f.endsWith(".tgz")))) continue;
    await addDependency({ root, path, chartsDir, dep, version: locked.get(dep.name) ?? dep.version, fetch });
  }
}

interface AddDependency {
  readonly root: string;
  readonly path: string;
  readonly chartsDir: string;
  readonly dep: Dependency;
  readonly version: string;
  readonly fetch: DependencyFetch;
}

async function addDependency({ root, path, chartsDir, dep, version, fetch }: AddDependency): Promise<void> {
  const where = `${path}/Chart.yaml: dependency ${dep.name}`;
  const repository = dep.repository.trim();
  if (repository === "") {
    throw new TetherError("RenderFailed", `${where} has no repository and is not in charts/: add its repository URL or commit it under charts/`, { object: `${path}/Chart.yaml` });
  }
  if (repository.startsWith("@") || repository.startsWith("alias:")) {
    throw new TetherError("RenderFailed", `${where} names the repository '${repository}' by a local \`helm repo add\` alias, which the agent does not have: write its URL`, { object: `${path}/Chart.yaml` });
  }
  if (repository.startsWith("file://")) {
    const rel = posix.normalize(posix.join(path, repository.slice("file://".length)));
    const from = await safeJoin(root, rel);
    // Links are copied as links (never followed here); renderHelm checks them all before helm runs.
    await cp(from, join(chartsDir, dep.name), { recursive: true, verbatimSymlinks: true });
    await buildDependencies(root, posix.join(relative(root, chartsDir), dep.name), fetch);
    return;
  }
  if (fetch.allowRepo?.(repository) === false) throw notPermitted(repository, where);
  const fetched = await fetch.charts.fetch({ repoURL: repository, chart: dep.name, targetRevision: version });
  const file = `${dep.name}-${fetched.version}.tgz`;
  if (!isChartName(file)) {
    throw new TetherError("RenderFailed", `${where}: the repository gave version "${fetched.version}", which is no chart version`, { object: `${path}/Chart.yaml` });
  }
  await copyFile(fetched.archive, join(chartsDir, file));
}

async function readDependencies(chartDir: string, path: string): Promise<Dependency[]> {
  const chartYaml = await readYaml(join(chartDir, "Chart.yaml"), `${path}/Chart.yaml`);
  const requirements = await readYaml(join(chartDir, "requirements.yaml"), `${path}/requirements.yaml`);
  const list = (isRecord(chartYaml) ? chartYaml.dependencies : undefined) ?? (isRecord(requirements) ? requirements.dependencies : undefined) ?? [];
  if (!Array.isArray(list)) throw new TetherError("RenderFailed", `${path}/Chart.yaml: dependencies is not a list`, { object: `${path}/Chart.yaml` });
  const deps = list.filter(isRecord).map((d) => ({
    name: scalar(d.name), version: scalar(d.version), repository: scalar(d.repository),
  }));
  for (const dep of deps) checkDependencyName(dep.name, `${path}/Chart.yaml`);
  return deps;
}

/**
 * Helm's rule for chart names (`^[a-zA-Z0-9._-]+$`, never `.` or `..`): the name becomes a directory
 * under charts/, so a `/` or `..` in it would write files anywhere the agent can write.
 */
export function isChartName(name: string): boolean {
  return /^[A-Za-z0-9._-]+$/.test(name) && name !== "." && name !== "..";
}

function checkDependencyName(name: string, file: string): void {
  if (isChartName(name)) return;
  throw new TetherError("RenderFailed",
    `${file}: dependency name "${name}" is not a chart name (letters, digits, '.', '_' and '-'; no '/' and not '..'): use the dependency's chart name, and alias to rename it`,
    { object: file });
}

/** A YAML scalar as text (`version: 1.2` parses as a number); anything else as empty. */
function scalar(value: unknown): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

async function readLock(chartDir: string): Promise<Map<string, string>> {
  for (const name of ["Chart.lock", "requirements.lock"]) {
    const lock = await readYaml(join(chartDir, name), name);
    if (isRecord(lock) && Array.isArray(lock.dependencies)) {
      return new Map(lock.dependencies.filter(isRecord).map((d) => [scalar(d.name), scalar(d.version)]));
    }
  }
  return new Map();
}

async function readYaml(file: string, label: string): Promise<unknown> {
  if (await access(file).then(() => false, () => true)) return undefined;
  try {
    return parseYaml(await readFile(file, "utf8"));
  } catch (err) {
    throw new TetherError("RenderFailed", `${label}: ${errorMessage(err)}`, { object: label });
  }
}

export function notPermitted(repoURL: string, what: string): TetherError {
  return new TetherError("PolicyViolation", `${what}: repository ${repoURL} is not permitted by the AppProject's sourceRepos; add it there`, { object: repoURL });
}
