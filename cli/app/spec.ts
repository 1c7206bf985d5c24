// What `tether app create --app SPEC` names: a directory in another repository (written as
// autopilot and kustomize write remote bases), a path inside the GitOps repository, or a local
// directory or chart whose files are copied in. Parsing and type detection are pure.
import { mkdtemp, readFile, readdir, lstat, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseRepoUrl, type Credentials } from "../../agent/source/repo-url.ts";
import { UsageError } from "../errors.ts";
import { argv, gitRaw, gitRevArgv } from "../../agent/exec.ts";
import { cliGit, explainGitError } from "../git/git.ts";
import { RepositoryError } from "../git/workspace.ts";
import { KUSTOMIZATION_FILES } from "../repo/kustomization.ts";

/** How the agent renders an app; the `--type` values. */
export type AppType = "dir" | "kustomize" | "helm";
export const APP_TYPES: readonly AppType[] = ["dir", "kustomize", "helm"];

/** A directory in another repository. */
export interface RemoteSpec {
  readonly repoURL: string;
  /** Inside that repository; "" for its root. */
  readonly path: string;
  /** `?ref=`: a branch, tag or commit. */
  readonly ref?: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const SCP = /^([^/\s@]+@[^/:\s]+):(.*)$/;
/** `github.com/org/repo/...` without a scheme, as autopilot accepts it. */
const HOST_FIRST = /^([a-z0-9-]+(\.[a-z0-9-]+)+)\/[^/]+\/[^/]+/i;

/** Whether SPEC names another repository rather than a path. */
export function isRemoteSpec(spec: string): boolean {
  return SCHEME.test(spec) || SCP.test(spec) || HOST_FIRST.test(spec);
}

function cleanPath(value: string, spec: string): string {
  const parts = value.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new UsageError(`--app ${spec}: the path inside the repository must not contain '..'`);
  return parts.join("/");
}

/**
 * Splits a remote SPEC into repository, path and ref. The repository ends at `//` or after `.git`;
 * without either, at the second path segment (`https://github.com/org/repo/path`).
 */
export function parseRemoteSpec(spec: string): RemoteSpec {
  let text = spec.trim();
  let ref: string | undefined;
  const q = text.indexOf("?");
  if (q >= 0) {
    const params = new URLSearchParams(text.slice(q + 1));
    ref = params.get("ref") ?? params.get("version") ?? undefined;
    text = text.slice(0, q);
  }
  if (HOST_FIRST.test(text) && !SCHEME.test(text) && !SCP.test(text)) text = `https://${text}`;
  let prefix: string;
  let rest: string;
  const scp = SCP.exec(text);
  if (scp) {
    prefix = `${scp[1]}:`;
    rest = scp[2]!;
  } else {
    const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]*)(\/.*)?$/i.exec(text);
    if (!m) throw new UsageError(`--app ${spec}: not a repository URL`);
    prefix = m[1]!;
    rest = m[2] ?? "";
    if (/^[^:/]+:[^@/]*@/.test(prefix.replace(SCHEME, ""))) {
      throw new UsageError(`--app ${spec}: remove the credentials from the URL; the agent reads repository credentials from its own configuration`);
    }
  }
  let repoPart: string;
  let pathPart: string;
  const doubleSlash = rest.indexOf("//", scp ? 0 : 1);
  const dotGit = /\.git(\/|$)/.exec(rest);
  if (doubleSlash >= 0) {
    repoPart = rest.slice(0, doubleSlash);
    pathPart = rest.slice(doubleSlash + 2);
  } else if (dotGit) {
    repoPart = rest.slice(0, dotGit.index + 4);
    pathPart = rest.slice(dotGit.index + 4);
  } else if (/^https?:/i.test(prefix)) {
    const segments = rest.split("/").filter((s) => s !== "");
    if (segments.length < 2) throw new UsageError(`--app ${spec}: expected https://host/org/repo[/path][?ref=REV]`);
    repoPart = `/${segments.slice(0, 2).join("/")}`;
    pathPart = segments.slice(2).join("/");
  } else {
    throw new UsageError(`--app ${spec}: cannot tell where the repository ends; write it as URL.git/path/in/repo or URL//path/in/repo`);
  }
  const repoURL = `${prefix}${repoPart}`;
  const cleaned = cleanPath(pathPart, spec);
  return ref ? { repoURL, path: cleaned, ref } : { repoURL, path: cleaned };
}

/** The app type its files say (as the agent guesses it), from paths relative to the app's directory. */
export function detectType(files: readonly string[]): AppType {
  const top = new Set(files.filter((f) => !f.includes("/")));
  if (KUSTOMIZATION_FILES.some((k) => top.has(k))) return "kustomize";
  if (top.has("Chart.yaml")) return "helm";
  return "dir";
}

/** The manifest files a directory app renders, relative to its directory. */
export function manifestFiles(files: readonly string[]): string[] {
  return files.filter((f) => /\.(ya?ml|json)$/.test(f) && !f.split("/").some((p) => p.startsWith("."))).sort();
}

/** Whether a directory app needs `recurse: true` to see all its manifests. */
export function needsRecurse(files: readonly string[]): boolean {
  return manifestFiles(files).some((f) => f.includes("/"));
}

/** Refuses a `--type` its files cannot back; returns the type to use. */
export function chooseType(files: readonly string[], explicit: AppType | undefined, where: string): AppType {
  const found = detectType(files);
  if (explicit === "helm" && found !== "helm") throw new UsageError(`--type helm: ${where} has no Chart.yaml; pass the chart's directory`);
  if (explicit === "dir" && manifestFiles(files).length === 0) throw new UsageError(`--type dir: ${where} holds no .yaml, .yml or .json file`);
  if (!explicit && found === "dir" && manifestFiles(files).length === 0) {
    throw new UsageError(`--app ${where} holds no manifest (.yaml, .yml, .json), kustomization.yaml or Chart.yaml`);
  }
  return explicit ?? found;
}

/** The files of a local directory (or one file), to be copied into the repository. */
export interface LocalFiles {
  readonly root: string;
  /** Relative POSIX paths and contents. */
  readonly files: readonly { readonly path: string; readonly content: Buffer }[];
}

/** Reads a local directory or file; undefined when nothing is there. Symlinks are refused. */
export async function readLocal(abs: string): Promise<LocalFiles | undefined> {
  const stat = await lstat(abs).catch(() => undefined);
  if (!stat) return undefined;
  if (stat.isFile()) return { root: path.dirname(abs), files: [{ path: path.basename(abs), content: await readFile(abs) }] };
  if (!stat.isDirectory()) throw new UsageError(`--app ${abs}: not a directory or a regular file`);
  const files: { path: string; content: Buffer }[] = [];
  for (const entry of await readdir(abs, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const rel = path.relative(abs, full).split(path.sep).join("/");
    if (rel.split("/").includes(".git")) continue;
    if (entry.isSymbolicLink()) throw new UsageError(`--app ${abs}: ${rel} is a symbolic link; copy the file it points to instead`);
    if (entry.isFile()) files.push({ path: rel, content: await readFile(full) });
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  return { root: abs, files };
}

/** What a remote directory holds, read before anything is committed. */
export interface RemoteInfo {
  readonly spec: RemoteSpec;
  /** Files under the path, relative to it. */
  readonly files: readonly string[];
}

/**
 * Fetches the remote at its ref (one commit, no checkout) and lists the directory: the path must
 * exist there, and its files decide the type.
 */
export async function inspectRemote(spec: RemoteSpec, credentials?: Credentials): Promise<RemoteInfo> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "tether-spec-"));
  const git = cliGit(tmp, credentials);
  const ref = spec.ref ?? "HEAD";
  const url = parseRepoUrl(spec.repoURL).url;
  const fail = (err: unknown, action: string) => new RepositoryError(explainGitError(err instanceof Error ? err.message : String(err), {
    repo: url, hadToken: credentials !== undefined, action, secrets: credentials ? [credentials.password] : [], paths: [tmp],
  }));
  try {
    await gitRaw(git, argv({ options: ["init", "-q", "--bare"] }));
    let commit = "FETCH_HEAD";
    try {
      await gitRaw(git, argv({ options: ["fetch", "-q", "--depth", "1", "--no-tags"], positionals: [url, ref] }));
    } catch (err) {
      // A commit SHA is not always fetchable by name; every branch and tag is.
      if (!/^[0-9a-f]{7,64}$/i.test(ref)) throw fail(err, `fetching ${ref} from`);
      await gitRaw(git, argv({ options: ["fetch", "-q"], positionals: [url, "+refs/heads/*:refs/remotes/r/*", "+refs/tags/*:refs/tags/*"] })).catch((e: unknown) => { throw fail(e, "fetching"); });
      commit = (await gitRaw(git, gitRevArgv({ options: ["rev-parse", "--verify", "-q"], positionals: [`${ref}^{commit}`] })).catch(() => "")).trim();
      if (!commit) throw fail(err, `fetching ${ref} from`);
    }
    const listing = await gitRaw(git, gitRevArgv({ options: ["ls-tree", "-r", "--name-only"], positionals: [commit, spec.path === "" ? "." : `${spec.path}/`] }));
    const files = listing.split("\n").filter((l) => l !== "").map((f) => (spec.path === "" ? f : f.slice(spec.path.length + 1)));
    if (files.length === 0) throw new UsageError(`--app: ${spec.path || "the root"} does not exist (or is empty) in ${url} at ${ref}; check the path and ?ref=`);
    return { spec, files };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
