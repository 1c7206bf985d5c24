// The Kustomize renderer: the real `kustomize build` of spec.source.path, with spec.source.kustomize
// applied as Argo CD applies it (`kustomize edit` in the kustomization directory), KSOPS generators
// run by Tether's exec plugin, and SOPS-encrypted resources decrypted after the build.
import { readFile, realpath, stat, writeFile } from "node:fs/promises";
import { isAbsolute, join, posix, relative, resolve, sep } from "node:path";
import { isSeq, parse as parseYaml, parseDocument } from "yaml";
import type { KustomizeSource, Manifest } from "../api/types.ts";
import { decryptObject, isSopsEncrypted, plaintextsOf, withPlaintexts } from "../decrypt/object.ts";
import { pluginErrorIn, serveKsops, type KsopsServer } from "../decrypt/ksops/plugin.ts";
import { decryptBytes } from "../decrypt/sops.ts";
import { TetherError } from "../errors.ts";
import { argv, runTool, type Argv } from "../exec.ts";
import { safeJoin } from "../source/safe-join.ts";
import { krmFunctionIn, krmFunctionRefused } from "./krm.ts";
import { madeByKsops, prepareKsopsGenerators } from "./ksops.ts";
import { findExecutable, isRecord, parsePrinted, scratch, scrubPaths, type Scratch } from "./tool.ts";
import type { RenderedObject } from "./types.ts";

/** What {@link renderKustomize} reads. */
export interface KustomizeRenderInput {
  /**
   * The checkout root: a throwaway tree. Kustomization files are edited in place (the
   * spec.source.kustomize options, origin tracking, KSOPS function annotations); nothing decrypted
   * is ever written.
   */
  readonly root: string;
  /** `spec.source.path`, relative to `root`. */
  readonly path: string;
  readonly kustomize?: KustomizeSource;
  /** age identities for KSOPS generators and SOPS-encrypted resources. */
  readonly ageKeys: readonly string[];
  /**
   * Whether a remote base (a Git or HTTP URL under resources or components) may be fetched; the
   * AppProject decides. Without it every remote base is refused: a render reads only the commit.
   */
  readonly allowRemoteBases?: (url: string) => boolean;
  /**
   * Whether a remote base may be a repository on the agent's disk (`file://`, a path): as for
   * sources, only when the agent runs with `--allow-local-repos`. Default: refused.
   */
  readonly allowLocalRepos?: boolean;
}

export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"] as const;
const ORIGIN_ANNOTATION = "config.kubernetes.io/origin";
const BUILD_TIMEOUT_MS = 120_000;

/**
 * Builds the kustomization at `root/path` and returns its objects in kustomize's order. Objects
 * made by a KSOPS generator or decrypted from a SOPS-encrypted resource are marked `decrypted`;
 * `file` is the file each object came from (or the generator that made it).
 */
export async function renderKustomize(input: KustomizeRenderInput): Promise<RenderedObject[]> {
  const root = await realpath(input.root);
  const sourcePath = normalizeSourcePath(input.path);
  const dir = await kustomizationDir(root, sourcePath);
  const tree = await inspectTree({ root, dir, allowRemoteBases: input.allowRemoteBases, allowLocalRepos: input.allowLocalRepos === true });
  const ksopsGenerators = await prepareKsopsGenerators(tree.files);
  const space = await scratch("kustomize");
  try {
    const run = await toolRunner({ root, space, remote: tree.remote.length > 0 });
    await applyOptions(run, dir, input.kustomize ?? {});
    const keepOrigins = await trackOrigins(run, dir);
    const printed = await build(run, { dir, sourcePath, ksops: ksopsGenerators > 0, ageKeys: input.ageKeys });
    const decrypt = fileDecryptor(root, input.ageKeys);
    const objects: RenderedObject[] = [];
    for (const manifest of printed) objects.push(await rendered(manifest, { sourcePath, keepOrigins, decrypt }));
    return objects;
  } finally {
    await space.cleanup();
  }
}

function normalizeSourcePath(path: string): string {
  const normal = posix.normalize(path === "" ? "." : path).replace(/\/+$/, "");
  return normal === "." ? "" : normal;
}

async function kustomizationDir(root: string, sourcePath: string): Promise<string> {
  const dir = await safeJoin(root, sourcePath);
  if (await kustomizationFile(dir) === undefined) {
    throw new TetherError("RenderFailed", `path '${sourcePath || "."}' has no kustomization.yaml: fix spec.source.path or add the kustomization`, { object: sourcePath });
  }
  return dir;
}

async function kustomizationFile(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    const file = join(dir, name);
    if (await stat(file).then((s) => s.isFile(), () => false)) return file;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The tree of kustomizations: every local base must stay in the checkout, remote ones need leave.

interface TreeFacts {
  /** Local files the kustomizations list (resources, generators, ...): where KSOPS generators live. */
  readonly files: Set<string>;
  /** Remote bases, allowed by the caller. */
  readonly remote: string[];
}

interface TreeInput {
  readonly root: string;
  readonly dir: string;
  readonly allowRemoteBases: ((url: string) => boolean) | undefined;
  readonly allowLocalRepos: boolean;
}

/** The fields of a kustomization that name other kustomizations or files to build from. */
const REFERENCE_FIELDS = ["resources", "bases", "components", "generators", "transformers", "validators"] as const;

/**
 * Walks the kustomizations reachable from `dir`. kustomize itself keeps the files each one loads
 * inside its own directory (LoadRestrictionsRootOnly) but follows directory references anywhere,
 * and fetches URLs: both are checked here, before kustomize runs.
 */
async function inspectTree({ root, dir, allowRemoteBases, allowLocalRepos }: TreeInput): Promise<TreeFacts> {
  const facts: TreeFacts = { files: new Set(), remote: [] };
  const seen = new Set<string>();
  const visit = async (kdir: string): Promise<void> => {
    if (seen.has(kdir)) return;
    seen.add(kdir);
    const kfile = await kustomizationFile(kdir);
    if (kfile === undefined) return;
    const kustomization = await readKustomization(kfile);
    const where = repoRelative(root, kfile);
    for (const field of REFERENCE_FIELDS) {
      for (const entry of stringsIn(kustomization[field])) {
        // A multi-line entry is an inline generator or transformer config, not a path.
        if (entry.includes("\n")) {
          refuseFunction(where, entry);
          continue;
        }
        const target = await reference({ root, kdir, entry, where, allowRemoteBases, allowLocalRepos });
        if (target === "remote") facts.remote.push(entry);
        else if (target?.isDirectory) await visit(target.path);
        else if (target) facts.files.add(target.path);
        if (target !== "remote" && target?.isDirectory === false && field !== "resources" && field !== "bases" && field !== "components") {
          refuseFunction(repoRelative(root, target.path), await readFile(target.path, "utf8"));
        }
      }
    }
  };
  await visit(dir);
  return facts;
}

/** Throws RenderFailed naming `file` when its text configures a KRM function other than KSOPS. */
function refuseFunction(file: string, text: string): void {
  const found = krmFunctionIn(text);
  if (found !== undefined) throw krmFunctionRefused(file, found);
}

async function readKustomization(file: string): Promise<Record<string, unknown>> {
  try {
    const value: unknown = parseYaml(await readFile(file, "utf8"));
    return isRecord(value) ? value : {};
  } catch {
    // kustomize reports a malformed kustomization better than we could.
    return {};
  }
}

function stringsIn(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

interface ReferenceInput {
  readonly root: string;
  readonly kdir: string;
  readonly entry: string;
  /** The kustomization file, relative to the repository, for messages. */
  readonly where: string;
  readonly allowRemoteBases: ((url: string) => boolean) | undefined;
  readonly allowLocalRepos: boolean;
}

/** Where a kustomization entry points: "remote", a path inside the checkout, or undefined when missing. */
async function reference(input: ReferenceInput): Promise<"remote" | { path: string; isDirectory: boolean } | undefined> {
  const { root, kdir, entry, where } = input;
  if (isRemote(entry)) {
    checkRemoteBase(input);
    if (input.allowRemoteBases?.(entry) === true) return "remote";
    throw new TetherError("RenderFailed",
      `${where}: remote base ${entry} is not allowed: vendor it into the repository, or allow its repository in the AppProject's sourceRepos`,
      { object: where });
  }
  if (isAbsolute(entry)) {
    throw new TetherError("RenderFailed", `${where}: ${entry} is an absolute path: paths in a kustomization are relative to it`, { object: where });
  }
  const rel = relative(root, resolve(kdir, entry));
  if (rel === ".." || rel.startsWith(`..${sep}`)) {
    throw new TetherError("RenderFailed", `${where}: ${entry} is outside the repository: bases and components must be in the same repository`, { object: where });
  }
  const path = await safeJoin(root, rel);
  const info = await stat(path).catch(() => undefined);
  return info === undefined ? undefined : { path, isDirectory: info.isDirectory() };
}

/**
 * A remote base follows the rules of repositories: one on the agent's disk only with
 * `--allow-local-repos` (it could be another app's mirror), and no `..` (the project's sourceRepos
 * are matched on the URL as written, and kustomize splits it into repository and path itself).
 */
function checkRemoteBase({ entry, where, allowLocalRepos }: ReferenceInput): void {
  const url = entry.replace(/^git::/, "").split("?")[0]!;
  if (!allowLocalRepos && (/^file:/i.test(url) || url.startsWith("/") || url.startsWith("."))) {
    throw new TetherError("RenderFailed",
      `${where}: remote base ${entry} is a repository on the agent's disk, which is refused unless the agent runs with --allow-local-repos: vendor the base into the repository`,
      { object: where });
  }
  if (url.split(/\/+/).some((segment) => segment.replace(/%2e/gi, ".") === "..")) {
    throw new TetherError("RenderFailed", `${where}: remote base ${entry} has a '..' segment: write the repository's URL and path without it`, { object: where });
  }
}

/**
 * What kustomize would fetch instead of reading: a URL (`https://`, `ssh://`, `file://`...),
 * `git@host:path`, `git::`/`gh:` forms, or a `host.tld/org/repo` shorthand.
 */
function isRemote(entry: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || /^(git@|git::|gh:)/.test(entry) || /^[\w-]+(\.[\w-]+)+\//.test(entry);
}

function repoRelative(root: string, path: string): string {
  return relative(root, path).split(sep).join("/") || ".";
}

// ---------------------------------------------------------------------------------------------
// Running kustomize.

interface Runner {
  readonly root: string;
  readonly space: Scratch;
  readonly bin: string;
  /** The environment every kustomize run gets: its own HOME and TMPDIR, no key, no agent setting. */
  readonly env: Readonly<Record<string, string>>;
}

async function toolRunner(opts: { root: string; space: Scratch; remote: boolean }): Promise<Runner> {
  const bin = await findExecutable("kustomize");
  // kustomize gets an empty PATH, so nothing a repository writes can make it run a program (a
  // container function would look for docker). Fetching an allowed remote base needs git and the
  // shell tools behind it: then it gets the agent's PATH.
  const path = opts.remote ? process.env.PATH ?? "" : await opts.space.sub("bin");
  const home = await opts.space.sub("home");
  const env = { PATH: path, HOME: home, XDG_CONFIG_HOME: home, TMPDIR: await opts.space.sub("tmp"), GIT_TERMINAL_PROMPT: "0" };
  return { root: opts.root, space: opts.space, bin, env };
}

async function kustomize(run: Runner, args: Argv, opts: { cwd: string; env?: Record<string, string> }): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const result = await runTool(run.bin, args, {
    cwd: opts.cwd, env: { ...run.env, ...opts.env }, extendEnv: false, reject: false, timeout: BUILD_TIMEOUT_MS, stripFinalNewline: false, maxBuffer: 256 * 1024 * 1024,
  });
  if (result.timedOut) {
    throw new TetherError("RenderFailed", `kustomize ${args[0] ?? ""} did not finish within ${BUILD_TIMEOUT_MS / 1000}s`, { retryable: true });
  }
  return { ok: result.exitCode === 0, stdout: result.stdout, stderr: result.stderr };
}

/** kustomize's message without temporary paths or its deprecation warnings (which are not the error). */
function scrub(run: Runner, message: string): string {
  const lines = message.split("\n").filter((l) => !l.startsWith("# Warning:"));
  return scrubPaths(lines.join("\n"), { root: [run.root], scratch: [run.space.dir] });
}

/**
 * spec.source.kustomize, applied as Argo CD does: `kustomize edit` in the kustomization directory,
 * so the options mean exactly what they mean there (and in `kustomize edit` itself).
 */
async function applyOptions(run: Runner, dir: string, opts: KustomizeSource): Promise<void> {
  const edits: { field: string; args: Argv }[] = [];
  if (opts.namePrefix) edits.push({ field: "namePrefix", args: argv({ options: ["edit", "set", "nameprefix"], positionals: [opts.namePrefix] }) });
  if (opts.nameSuffix) edits.push({ field: "nameSuffix", args: argv({ options: ["edit", "set", "namesuffix"], positionals: [opts.nameSuffix] }) });
  if (opts.images && opts.images.length > 0) edits.push({ field: "images", args: argv({ options: ["edit", "set", "image"], positionals: opts.images }) });
  const labels = Object.entries(opts.commonLabels ?? {});
  if (labels.length > 0) edits.push({ field: "commonLabels", args: argv({ options: ["edit", "add", "label"], positionals: labels.map(([k, v]) => `${k}:${v}`) }) });
  const annotations = Object.entries(opts.commonAnnotations ?? {});
  if (annotations.length > 0) edits.push({ field: "commonAnnotations", args: argv({ options: ["edit", "add", "annotation"], positionals: annotations.map(([k, v]) => `${k}:${v}`) }) });
  if (opts.namespace) edits.push({ field: "namespace", args: argv({ options: ["edit", "set", "namespace"], positionals: [opts.namespace] }) });
  if (opts.replicas && opts.replicas.length > 0) {
    edits.push({ field: "replicas", args: argv({ options: ["edit", "set", "replicas"], positionals: opts.replicas.map((r) => `${r.name}=${replicaCount(r.count)}`) }) });
  }
  for (const edit of edits) {
    const result = await kustomize(run, edit.args, { cwd: dir });
    if (!result.ok) {
      throw new TetherError("RenderFailed", `spec.source.kustomize.${edit.field}: ${scrub(run, result.stderr).replace(/^Error: /, "")}`, { object: `spec.source.kustomize.${edit.field}` });
    }
  }
  if (opts.patches && opts.patches.length > 0) await appendPatches(dir, opts.patches);
}

/** A replica count as Argo CD takes it: a number, or a string holding one. */
function replicaCount(count: number | string): number {
  const n = typeof count === "number" ? count : Number(count.trim());
  if (!Number.isInteger(n) || n < 0) {
    throw new TetherError("RenderFailed", `spec.source.kustomize.replicas: count "${count}" is not a whole number of replicas`, { object: "spec.source.kustomize.replicas" });
  }
  return n;
}

type KustomizePatch = NonNullable<KustomizeSource["patches"]>[number];

/**
 * There is no `kustomize edit` for patches: as Argo CD does, they are appended to the
 * kustomization's own `patches` list (a patch file stays under the load restrictor like any other).
 */
async function appendPatches(dir: string, patches: readonly KustomizePatch[]): Promise<void> {
  const kfile = (await kustomizationFile(dir))!;
  const doc = parseDocument(await readFile(kfile, "utf8"));
  const current: unknown = doc.get("patches");
  if (current !== undefined && !isSeq(current)) {
    throw new TetherError("RenderFailed", "spec.source.kustomize.patches: the kustomization's own patches field is not a list", { object: "spec.source.kustomize.patches" });
  }
  for (const [i, patch] of patches.entries()) {
    if ((patch.path === undefined) === (patch.patch === undefined)) {
      throw new TetherError("RenderFailed", `spec.source.kustomize.patches[${i}]: set exactly one of path and patch`, { object: `spec.source.kustomize.patches[${i}]` });
    }
  }
  const added = patches.map(patchEntry);
  if (isSeq(current)) for (const entry of added) current.add(doc.createNode(entry));
  else doc.set("patches", doc.createNode(added));
  await writeFile(kfile, doc.toString());
}

/** A patch as kustomize reads it: only the fields it knows, none left empty. */
function patchEntry(p: KustomizePatch): Record<string, unknown> {
  const t = p.target;
  const target = t && Object.fromEntries(Object.entries({
    group: t.group, version: t.version, kind: t.kind, name: t.name, namespace: t.namespace,
    labelSelector: t.labelSelector, annotationSelector: t.annotationSelector,
  }).filter(([, v]) => v !== undefined));
  return {
    ...(p.path === undefined ? {} : { path: p.path }), ...(p.patch === undefined ? {} : { patch: p.patch }),
    ...(target ? { target } : {}), ...(p.options ? { options: p.options } : {}),
  };
}

/**
 * Turns on kustomize's origin annotations, which say which file (or generator) each object came
 * from: messages name the file, KSOPS output is told apart from a plain Secret, and an encrypted
 * resource is decrypted from the file it was committed as. Returns whether the kustomization asked
 * for them itself (then they stay in the output).
 */
async function trackOrigins(run: Runner, dir: string): Promise<boolean> {
  const kfile = (await kustomizationFile(dir))!;
  const current = await readKustomization(kfile);
  if (stringsIn(current.buildMetadata).includes("originAnnotations")) return true;
  const result = await kustomize(run, argv({ options: ["edit", "add", "buildmetadata"], positionals: ["originAnnotations"] }), { cwd: dir });
  if (!result.ok) throw new TetherError("RenderFailed", `${repoRelative(run.root, kfile)}: ${scrub(run, result.stderr).replace(/^Error: /, "")}`, { object: repoRelative(run.root, kfile) });
  return false;
}

interface BuildInput {
  readonly dir: string;
  readonly sourcePath: string;
  readonly ksops: boolean;
  readonly ageKeys: readonly string[];
}

async function build(run: Runner, input: BuildInput): Promise<Manifest[]> {
  const options = ["build", "--load-restrictor=LoadRestrictionsRootOnly"];
  let env: Record<string, string> = {};
  let ksops: KsopsServer | undefined;
  if (input.ksops) {
    const sopsPath = await findExecutable("sops");
    ksops = await serveKsops({
      dir: await run.space.sub("ksops"), root: run.root,
      decrypt: (ciphertext, file, format) => decryptBytes(ciphertext, { file, format, ageKeys: input.ageKeys, sopsPath }),
    });
    // Alpha plugins, but only the ones in this plugin home: Tether's KSOPS and nothing else.
    options.push("--enable-alpha-plugins");
    env = { KUSTOMIZE_PLUGIN_HOME: ksops.pluginHome };
  }
  try {
    const result = await kustomize(run, argv({ options, positionals: [input.dir] }), { cwd: input.dir, env });
    if (!result.ok) throw buildError(run, result.stderr, input.sourcePath);
    return parsePrinted(result.stdout, `kustomize build ${input.sourcePath || "."}`).map((p) => p.manifest);
  } finally {
    await ksops?.close();
  }
}

function buildError(run: Runner, stderr: string, sourcePath: string): TetherError {
  const fromPlugin = pluginErrorIn(stderr);
  if (fromPlugin) return fromPlugin;
  let message = scrub(run, stderr).replace(/^Error: /, "");
  if (message.includes("enable-exec")) {
    message += " (Tether runs KSOPS generators itself and no other KRM exec functions)";
  }
  return new TetherError("RenderFailed", `kustomize build ${sourcePath || "."} failed: ${message}`, { object: sourcePath || "." });
}

// ---------------------------------------------------------------------------------------------
// From kustomize's objects to rendered objects.

interface Origin {
  readonly path?: string;
  readonly repo?: string;
  readonly ref?: string;
  readonly configuredIn?: string;
  readonly configuredBy?: unknown;
}

interface RenderedInput {
  readonly sourcePath: string;
  readonly keepOrigins: boolean;
  readonly decrypt: (manifest: Manifest, origin: Origin, file: string) => Promise<Manifest>;
}

async function rendered(printed: Manifest, input: RenderedInput): Promise<RenderedObject> {
  const origin = originOf(printed);
  const manifest = input.keepOrigins ? printed : withoutOrigin(printed);
  const file = fileOf(origin, input.sourcePath);
  if (madeByKsops(origin)) return { manifest, file, decrypted: true };
  if (isSopsEncrypted(manifest)) return { manifest: await input.decrypt(manifest, origin, file), file, decrypted: true };
  return { manifest, file, decrypted: false };
}

function originOf(manifest: Manifest): Origin {
  const text = manifest.metadata.annotations?.[ORIGIN_ANNOTATION];
  if (text === undefined) return {};
  try {
    const value: unknown = parseYaml(text);
    return isRecord(value) ? value : {};
  } catch {
    return {};
  }
}

function withoutOrigin(manifest: Manifest): Manifest {
  const annotations = manifest.metadata.annotations;
  if (annotations?.[ORIGIN_ANNOTATION] === undefined) return manifest;
  const rest = { ...annotations };
  delete rest[ORIGIN_ANNOTATION];
  const metadata: Manifest["metadata"] = { ...manifest.metadata, annotations: rest };
  if (Object.keys(rest).length === 0) delete metadata.annotations;
  return { ...manifest, metadata };
}

/** The file an object came from, relative to the repository root (a URL for a remote base). */
function fileOf(origin: Origin, sourcePath: string): string {
  const local = origin.path ?? origin.configuredIn;
  if (origin.repo !== undefined) return `${origin.repo}//${local ?? ""}${origin.ref ? `?ref=${origin.ref}` : ""}`;
  if (local === undefined) return sourcePath || ".";
  return posix.normalize(posix.join(sourcePath, local));
}

/**
 * Decrypts an object that still carries its `sops:` block, from the file it was committed as (read
 * and decrypted once per render), or by itself when kustomize did not say where it came from.
 */
function fileDecryptor(root: string, ageKeys: readonly string[]): RenderedInput["decrypt"] {
  const plaintexts = new Map<string, Promise<Map<string, unknown>>>();
  return async (manifest, origin, file) => {
    if (origin.repo !== undefined) {
      throw new TetherError("DecryptionFailed", `${file}: SOPS-encrypted resources in remote bases are not decrypted: vendor the base into the repository`, { object: file });
    }
    if (origin.path === undefined) return decryptObject(manifest, { file, ageKeys });
    let known = plaintexts.get(file);
    if (known === undefined) {
      known = safeJoin(root, file).then(async (path) => plaintextsOf({ file, text: await readFile(path, "utf8"), ageKeys }));
      plaintexts.set(file, known);
    }
    return withPlaintexts(manifest, await known, file);
  };
}
