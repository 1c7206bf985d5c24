// The Helm renderer: the real `helm template` of a chart committed in the repository, with the
// Application's release name, destination namespace and values, as Argo CD renders Helm sources.
// Dependencies missing from charts/ are fetched (chart-deps.ts) when the caller gives a fetcher.
import { lstat, readdir, realpath } from "node:fs/promises";
import { join, posix, relative, sep } from "node:path";
import type { HelmSource } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { argv, runTool, type Argv } from "../exec.ts";
import { safeJoin } from "../source/safe-join.ts";
import { buildDependencies, type DependencyFetch } from "./chart-deps.ts";
import { findExecutable, parsePrinted, scratch, scrubPaths, type PrintedObject } from "./tool.ts";
import type { Capabilities, RenderedObject } from "./types.ts";

/** What {@link renderHelm} reads. */
export interface HelmRenderInput {
  /** The checkout root: no file outside it is read. */
  readonly root: string;
  /** `spec.source.path`: the chart directory, relative to `root`. */
  readonly path: string;
  readonly helm?: HelmSource;
  /** `spec.source.helm.releaseName`, else the Application's name. */
  readonly releaseName: string;
  /** The destination namespace: `.Release.Namespace`. */
  readonly namespace?: string;
  /**
   * Checkouts of the Application's sources that have a `ref` (multiple sources): a value file
   * `$values/env/prod.yaml` is read from the checkout of the source with `ref: values`.
   */
  readonly valueRoots?: Readonly<Record<string, string>>;
  /** Where dependencies missing from charts/ come from; without it they must be vendored. */
  readonly dependencies?: DependencyFetch;
  /** The destination's version and APIs (`.Capabilities`); `helm.kubeVersion`/`apiVersions` override them. */
  readonly capabilities?: Capabilities;
}

const TEMPLATE_TIMEOUT_MS = 120_000;
const HOOK_ANNOTATION = "helm.sh/hook";
/** Hooks run by `helm test`, never part of a release's objects. */
const TEST_HOOKS = new Set(["test", "test-success", "test-failure"]);

/**
 * Renders the chart at `root/path` with `helm template` and returns its objects (CRDs from crds/
 * included, Helm test hooks left out). `file` is the template each object came from.
 */
export async function renderHelm(input: HelmRenderInput): Promise<RenderedObject[]> {
  const root = await realpath(input.root);
  const sourcePath = normalizeSourcePath(input.path);
  const chart = await safeJoin(root, sourcePath);
  checkReleaseName(input.releaseName);
  // Before dependencies are written (a committed `charts -> /elsewhere` link would take the copies
  // out of the checkout) and again before helm reads the chart (below).
  await refuseEscapingLinks(root, chart);
  if (input.dependencies !== undefined) await buildDependencies(root, sourcePath || ".", input.dependencies);
  const valueFiles = await resolveValueFiles({ root, sourcePath, files: input.helm?.valueFiles ?? [], valueRoots: input.valueRoots ?? {} });
  const helm = input.helm ?? {};
  checkHelmVersion(helm.version);
  const inline = inlineValues(helm);
  const crds = helm.skipCrds === true ? "--skip-crds" : "--include-crds";
  const options = ["template", crds, ...(input.namespace ? [`--namespace=${input.namespace}`] : []), ...capabilityArgs(helm, input.capabilities)];
  for (const file of valueFiles) options.push(`--values=${file}`);
  // Inline values come last, so they override the value files (as in Argo CD); through stdin, as
  // they may be large.
  if (inline !== undefined) options.push("--values=-");
  options.push(...parameterArgs(helm), ...await fileParameterArgs(root, sourcePath, helm));
  // Only now, with every file:// dependency copied in: a link a subchart brought is checked too.
  await refuseEscapingLinks(root, chart);
  const args = argv({ options, positionals: [input.releaseName, chart] });
  const printed = await template({ root, sourcePath, args, stdin: inline ?? "", otherRoots: Object.values(input.valueRoots ?? {}) });
  return printed.filter((p) => !isTestHook(p)).map((p) => ({ manifest: p.manifest, file: templateFile(p.comment, sourcePath), decrypted: false }));
}

/**
 * A release name helm could read as an option (`--set=…`, `-f…`) is refused even though it goes
 * after `--`: it names no release helm would accept, and a child Application's author writes it.
 */
function checkReleaseName(name: string): void {
  if (!name.startsWith("-")) return;
  throw new TetherError("InvalidSpecError",
    `spec.source.helm.releaseName "${name}" starts with '-'; a release name is lower-case letters, digits, '-' and '.', starting with a letter or digit`,
    { object: "spec.source.helm.releaseName" });
}

function normalizeSourcePath(path: string): string {
  const normal = posix.normalize(path === "" ? "." : path).replace(/\/+$/, "");
  return normal === "." ? "" : normal;
}

interface ValueFilesInput {
  readonly root: string;
  readonly sourcePath: string;
  readonly files: readonly string[];
  readonly valueRoots: Readonly<Record<string, string>>;
}

/**
 * Value files, as Argo CD resolves them: relative to the chart, or to the repository root when they
 * start with `/`, or to the root of another source's checkout when they start with `$ref/`; never
 * outside that repository, never a URL (a render reads only the commit).
 */
async function resolveValueFiles({ root, sourcePath, files, valueRoots }: ValueFilesInput): Promise<string[]> {
  const resolved: string[] = [];
  for (const file of files) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
      throw new TetherError("RenderFailed", `spec.source.helm.valueFiles: ${file} is a URL; commit the values file to the repository`, { object: file });
    }
    const ref = /^\$([^/]+)\/(.*)$/.exec(file);
    if (ref !== null) {
      resolved.push(await refValueFile(ref[1]!, ref[2]!, valueRoots));
      continue;
    }
    const rel = file.startsWith("/") ? posix.normalize(file.slice(1)) : posix.join(sourcePath, file);
    const path = await safeJoin(root, rel);
    const info = await lstat(path).catch(() => undefined);
    if (info?.isFile() !== true) {
      throw new TetherError("RenderFailed", `spec.source.helm.valueFiles: ${rel} does not exist at this revision`, { object: rel });
    }
    resolved.push(path);
  }
  return resolved;
}

/** `$ref/path`: a file of the source whose `ref` is `ref`, inside that source's checkout. */
async function refValueFile(ref: string, rel: string, valueRoots: Readonly<Record<string, string>>): Promise<string> {
  const refRoot = Object.hasOwn(valueRoots, ref) ? valueRoots[ref] : undefined;
  if (refRoot === undefined) {
    const known = Object.keys(valueRoots).map((k) => `$${k}`).join(", ") || "none";
    throw new TetherError("RenderFailed", `spec.sources: helm.valueFiles $${ref}/${rel} refers to no source with ref: ${ref} (sources with a ref: ${known}); add ref: ${ref} to the source that holds the file`, { object: `$${ref}/${rel}` });
  }
  const path = await safeJoin(refRoot, posix.normalize(rel));
  const info = await lstat(path).catch(() => undefined);
  if (info?.isFile() !== true) {
    throw new TetherError("RenderFailed", `spec.sources: helm.valueFiles $${ref}/${rel} does not exist in the source with ref: ${ref} at its revision`, { object: `$${ref}/${rel}` });
  }
  return path;
}

/** Only Helm 3 renders here; Argo CD dropped Helm 2 as well. */
function checkHelmVersion(version: string | undefined): void {
  if (version === undefined || version === "" || version === "v3" || version === "3") return;
  throw new TetherError("RenderFailed",
    `spec.source.helm.version: "${version}" is not supported; Tether renders with Helm 3 only: remove the field or set it to v3`,
    { object: "spec.source.helm.version" });
}

/**
 * `--kube-version` and `--api-versions` as Argo CD passes them: the source's `helm.kubeVersion` /
 * `helm.apiVersions` when set, else the destination's; neither without a cluster (Helm's defaults).
 */
export function capabilityArgs(helm: HelmSource, capabilities: Capabilities | undefined): string[] {
  const kubeVersion = helm.kubeVersion !== undefined && helm.kubeVersion !== "" ? helm.kubeVersion : capabilities?.kubeVersion ?? "";
  const apiVersions = helm.apiVersions !== undefined && helm.apiVersions.length > 0 ? helm.apiVersions : capabilities?.apiVersions ?? [];
  const field = helm.kubeVersion ? "spec.source.helm.kubeVersion" : "the destination cluster's version";
  return [
    ...(kubeVersion === "" ? [] : [`--kube-version=${semverOf(kubeVersion, field)}`]),
    ...apiVersions.map((v) => `--api-versions=${v}`),
  ];
}

/**
 * `v1.30.4+k3s1` → `1.30.4`: what Helm parses, as Argo CD trims a server's version (Helm rejects some
 * build suffixes); two numbers get a `.0`.
 */
export function semverOf(version: string, field: string): string {
  const m = /^\s*v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (m === null) {
    throw new TetherError("InvalidSpecError", `${field}: "${version}" is not a Kubernetes version; write it as 1.30 or v1.30.4`, { object: field });
  }
  return `${m[1]}.${m[2]}.${m[3] ?? "0"}`;
}

/**
 * `parameters` as `--set` (`--set-string` with forceString). A comma in a value is escaped, unless
 * the value is a `{a,b}` list, so one parameter stays one value (as Argo CD passes them).
 */
export function parameterArgs(helm: HelmSource): string[] {
  return (helm.parameters ?? []).map((p) => `${p.forceString === true ? "--set-string" : "--set"}=${p.name}=${escapeCommas(p.value)}`);
}

function escapeCommas(value: string): string {
  if (value.startsWith("{") && value.endsWith("}")) return value;
  return value.replace(/(?<!\\),/g, "\\,");
}

/** `fileParameters` as `--set-file`, each file relative to the chart (or the repository root with a leading `/`), never outside it. */
async function fileParameterArgs(root: string, sourcePath: string, helm: HelmSource): Promise<string[]> {
  const args: string[] = [];
  for (const p of helm.fileParameters ?? []) {
    const rel = p.path.startsWith("/") ? posix.normalize(p.path.slice(1)) : posix.join(sourcePath, p.path);
    const where = `spec.source.helm.fileParameters ${p.name}`;
    const path = await safeJoin(root, rel).catch((err: unknown) => {
      throw new TetherError("RenderFailed", `${where}: ${p.path} is outside the repository; name a file of the repository`, { object: p.path, cause: err });
    });
    const info = await lstat(path).catch(() => undefined);
    if (info?.isFile() !== true) throw new TetherError("RenderFailed", `${where}: ${rel} does not exist at this revision`, { object: rel });
    args.push(`--set-file=${p.name}=${path}`);
  }
  return args;
}

/** `valuesObject` wins over `values`, as in Argo CD; JSON is YAML, so it goes as is. */
function inlineValues(helm: HelmSource): string | undefined {
  if (helm.valuesObject !== undefined) return JSON.stringify(helm.valuesObject);
  return helm.values !== undefined && helm.values.trim() !== "" ? helm.values : undefined;
}

/**
 * Helm reads every file of a chart and follows symlinks: a link out of the repository would put a
 * file of the agent's into `.Files`.
 */
async function refuseEscapingLinks(root: string, dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) await safeJoin(root, relative(root, path));
    else if (entry.isDirectory()) await refuseEscapingLinks(root, path);
  }
}

interface TemplateRun {
  readonly root: string;
  /** Checkouts of `$ref` value files: scrubbed from messages like the root. */
  readonly otherRoots: readonly string[];
  readonly sourcePath: string;
  readonly args: Argv;
  readonly stdin: string;
}

async function template(run: TemplateRun): Promise<PrintedObject[]> {
  const helm = await findExecutable("helm");
  const space = await scratch("helm");
  try {
    const home = await space.sub("home");
    // Helm's caches, config and plugins in the scratch directory: the agent's home is never read
    // (no repositories, registries or plugins configured there) nor written.
    const env = {
      PATH: "", HOME: home, TMPDIR: await space.sub("tmp"),
      HELM_CACHE_HOME: await space.sub("cache"), HELM_CONFIG_HOME: await space.sub("config"), HELM_DATA_HOME: await space.sub("data"),
    };
    const result = await runTool(helm, run.args, {
      cwd: home, env, extendEnv: false, input: run.stdin, reject: false, timeout: TEMPLATE_TIMEOUT_MS, maxBuffer: 256 * 1024 * 1024,
    });
    const where = run.sourcePath || ".";
    if (result.timedOut) throw new TetherError("RenderFailed", `helm template ${where} did not finish within ${TEMPLATE_TIMEOUT_MS / 1000}s`, { object: where, retryable: true });
    if (result.exitCode !== 0) {
      throw new TetherError("RenderFailed", `helm template ${where} failed: ${hint(scrubPaths(result.stderr, { root: [run.root, ...run.otherRoots], scratch: [space.dir] }).replace(/^Error: /, ""))}`, { object: where });
    }
    return parsePrinted(result.stdout, `helm template ${where}`);
  } finally {
    await space.cleanup();
  }
}

function hint(stderr: string): string {
  // Advice for a person at a terminal, not for an Application's condition.
  const message = stderr.split("\n").filter((l) => !l.includes("--debug flag")).join("\n").trim();
  if (message.includes("missing in charts/ directory")) {
    return `${message}; list the dependency's repository in Chart.yaml, or run \`helm dependency build\` and commit the charts/ directory`;
  }
  return message;
}

function isTestHook(p: PrintedObject): boolean {
  const hooks = p.manifest.metadata.annotations?.[HOOK_ANNOTATION];
  return hooks !== undefined && hooks.split(",").some((h) => TEST_HOOKS.has(h.trim()));
}

/** `# Source: chart/templates/x.yaml` names the template; the chart's name stands for its directory. */
function templateFile(comment: string, sourcePath: string): string {
  const source = /Source:\s*(\S+)/.exec(comment)?.[1];
  if (source === undefined) return sourcePath || ".";
  const inChart = source.split("/").slice(1).join("/");
  return posix.join(sourcePath, inChart).split(sep).join("/");
}
