// The git generator over a checkout the environment provides: `directories` (every directory of the
// tree but hidden ones, matched with Go's path.Match) and `files` (matched as `git ls-files` pathspecs
// match, Argo CD's default: `*` also crosses `/`), YAML or JSON, one object or a list per file.
import type { Dirent } from "node:fs";
import { readFile, readdir, realpath } from "node:fs/promises";
import { join, posix } from "node:path";
import { parseAllDocuments } from "yaml";
import { globToRegExp } from "../../render/glob.ts";
import { isInside } from "../../source/safe-join.ts";
import { fromDecoded, normalize } from "../../template/sprig.ts";
import { isMap } from "../../template/values.ts";
import { GeneratorError } from "./errors.ts";
import type { GeneratorEnv } from "./index.ts";
import type { Params, RenderMode } from "./render.ts";
import { flattenParams } from "./selector.ts";
import type { GitGenerator, GitPathItem } from "./types.ts";
import { withValues } from "./values.ts";

/** Bounds on what one git generator reads. */
const MAX_ENTRIES = 50_000;
const MAX_FILE_BYTES = 1 << 20;

export async function gitParams(gen: GitGenerator, env: GeneratorEnv, mode: RenderMode): Promise<Params[]> {
  if (typeof gen.repoURL !== "string" || gen.repoURL === "") throw new GeneratorError("ErrorOccurred", "repoURL is required");
  const hasDirs = (gen.directories ?? []).length > 0;
  const hasFiles = (gen.files ?? []).length > 0;
  if (!hasDirs && !hasFiles) throw new GeneratorError("ErrorOccurred", "set directories or files (a git generator with neither generates nothing)");
  const revision = gen.revision === undefined || gen.revision === "" ? "HEAD" : gen.revision;
  let checkout: { readonly dir: string; readonly revision: string };
  try {
    checkout = await env.checkout(gen.repoURL, revision);
  } catch (err) {
    throw new GeneratorError(
      "ApplicationGenerationFromParamsError",
      `cannot read repository ${gen.repoURL} at revision ${revision}: ${(err as Error).message}: ` +
        "check repoURL, revision and the repository's credentials; the Applications generated before stay as they are",
    );
  }
  const tree = await listTree(checkout.dir);
  if (hasDirs) {
    const dirs = filterDirectories(gen.directories ?? [], tree.dirs);
    return dirs.map((d) => withValues(directoryParams(d, gen.pathParamPrefix ?? "", mode), gen.values, mode));
  }
  const files = filterFiles(gen.files ?? [], tree.files);
  const out: Params[] = [];
  for (const file of files) {
    const objects = await readParamFile(checkout.dir, file, gen.repoURL);
    for (const obj of objects) out.push(withValues(fileParams(file, obj, gen.pathParamPrefix ?? "", mode), gen.values, mode));
  }
  return out;
}

interface Tree {
  /** Directories, relative, depth first in name order (filepath.WalkDir's order); hidden ones skipped. */
  readonly dirs: string[];
  /** Regular files and symlinks, relative, outside `.git`. */
  readonly files: string[];
}

async function listTree(root: string): Promise<Tree> {
  const dirs: string[] = [];
  const files: string[] = [];
  const walk = async (rel: string, hidden: boolean): Promise<void> => {
    const entries: Dirent[] = await readdir(rel === "" ? root : join(root, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (dirs.length + files.length > MAX_ENTRIES) {
        throw new GeneratorError("ApplicationGenerationFromParamsError", `the repository has more than ${MAX_ENTRIES} entries: narrow it down`);
      }
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name === ".git" && rel === "") continue;
        const isHidden = hidden || e.name.startsWith(".");
        if (!isHidden) dirs.push(path);
        await walk(path, isHidden);
      } else if (e.isFile() || e.isSymbolicLink()) {
        files.push(path);
      }
    }
  };
  await walk("", false);
  return { dirs, files };
}

/** Go's path.Match: `*` and `?` stay inside one segment, `[...]` / `[^...]` classes, `\` escapes. */
export function goPathMatch(pattern: string, name: string): boolean {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\") {
      if (i + 1 >= pattern.length) return false;
      re += escapeRe(pattern.charAt(++i));
    } else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) return false;
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith("^");
      if (negate) body = body.slice(1);
      re += `(?!/)[${negate ? "^" : ""}${body.replace(/[\]\\^]/g, "\\$&")}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`).test(name);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Argo CD's filterApps: included by one non-exclude pattern and excluded by none. */
export function filterDirectories(items: readonly GitPathItem[], all: readonly string[]): string[] {
  return all.filter((dir) => {
    let include = false;
    for (const item of items) {
      if (!goPathMatch(item.path, dir)) continue;
      if (item.exclude === true) return false;
      include = true;
    }
    return include;
  });
}

/** `git ls-files -- PATTERN`: a glob where `*` crosses `/`, or a plain path naming a file or a directory. */
export function pathspecMatch(pattern: string, file: string): boolean {
  const clean = pattern.replace(/^\.\//, "").replace(/\/+$/, "");
  if (!/[*?[]/.test(clean)) return file === clean || file.startsWith(`${clean}/`);
  try {
    return globToRegExp(clean.replace(/[{}]/g, "\\$&")).test(file);
  } catch {
    return false;
  }
}

/** Included by an include pattern and matched by no exclude pattern, in path order (Argo CD sorts them). */
export function filterFiles(items: readonly GitPathItem[], all: readonly string[]): string[] {
  const include = items.filter((i) => i.exclude !== true);
  const exclude = items.filter((i) => i.exclude === true);
  return all
    .filter((f) => include.some((i) => pathspecMatch(i.path, f)) && !exclude.some((i) => pathspecMatch(i.path, f)))
    .sort();
}

async function readParamFile(root: string, file: string, repoURL: string): Promise<Array<Record<string, unknown>>> {
  const fail = (why: string): GeneratorError =>
    new GeneratorError("ApplicationGenerationFromParamsError", `unable to process file '${file}' from repository '${repoURL}': ${why}`);
  const abs = join(root, file);
  const real = await realpath(abs).catch(() => undefined);
  const realRoot = await realpath(root);
  if (real === undefined || !isInside(realRoot, real)) throw fail("it is a link that leaves the repository");
  const text = await readFile(real, "utf8");
  if (text.length > MAX_FILE_BYTES) throw fail(`it is larger than ${MAX_FILE_BYTES} bytes`);
  let value: unknown;
  try {
    const docs = parseAllDocuments(text);
    const first = docs[0];
    const problem = first?.errors[0];
    if (problem !== undefined) throw problem;
    value = first === undefined ? null : fromDecoded(first.toJS({ maxAliasCount: 100 }));
  } catch (err) {
    throw fail(`unable to parse file: ${(err as Error).message.split("\n")[0]}`);
  }
  if (value === null || value === undefined) return [{}];
  if (isMap(value)) return [value];
  if (Array.isArray(value) && value.every(isMap)) return value;
  throw fail("unable to parse file: it must hold one object or a list of objects");
}

function pathInfo(path: string): Record<string, unknown> {
  const basename = posix.basename(path) || path;
  return { path, basename, basenameNormalized: normalize(basename), segments: path.split("/") };
}

function directoryParams(dir: string, prefix: string, mode: RenderMode): Params {
  if (mode.goTemplate) {
    const info = pathInfo(dir);
    return prefix === "" ? { path: info } : { [prefix]: { path: info } };
  }
  return flatPath(dir, prefix === "" ? "path" : `${prefix}.path`, undefined);
}

function fileParams(file: string, obj: Record<string, unknown>, prefix: string, mode: RenderMode): Params {
  const dir = posix.dirname(file);
  const filename = posix.basename(file);
  if (mode.goTemplate) {
    const info = { ...pathInfo(dir), filename, filenameNormalized: normalize(filename) };
    return { ...obj, ...(prefix === "" ? { path: info } : { [prefix]: { path: info } }) };
  }
  return { ...flattenParams(obj), ...flatPath(dir, prefix === "" ? "path" : `${prefix}.path`, filename) };
}

function flatPath(dir: string, name: string, filename: string | undefined): Record<string, string> {
  const basename = posix.basename(dir) || dir;
  const out: Record<string, string> = { [name]: dir, [`${name}.basename`]: basename, [`${name}.basenameNormalized`]: normalize(basename) };
  if (filename !== undefined) {
    out[`${name}.filename`] = filename;
    out[`${name}.filenameNormalized`] = normalize(filename);
  }
  dir.split("/").forEach((seg, i) => {
    if (seg !== "") out[`${name}[${i}]`] = seg;
  });
  return out;
}
