// Paths from Git (spec.source.path, file names, symlinks) are untrusted: a repository must not be
// able to make the agent read its own service-account token or another app's checkout.
import { lstat, realpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { TetherError } from "../errors.ts";

/**
 * Joins `relPath` onto the checkout `root` and returns the real path (symlinks resolved), refusing
 * absolute paths, `..` escapes and symlinks that lead outside `root`. The path need not exist yet:
 * the part that exists is checked, the rest is appended.
 */
export async function safeJoin(root: string, relPath: string): Promise<string> {
  if (isAbsolute(relPath)) {
    throw escapeError(relPath, "is absolute: paths are relative to the repository root");
  }
  const lexical = resolve(root, relPath);
  if (!isInside(resolve(root), lexical)) {
    throw escapeError(relPath, "leaves the repository through '..': remove the '..'");
  }
  const realRoot = await realRootOf(root);
  const real = await realpathOfExisting(lexical);
  if (real === undefined) {
    throw escapeError(relPath, "goes through a symlink that points to nothing: fix or remove the link");
  }
  if (!isInside(realRoot, real)) {
    throw escapeError(relPath, "goes through a symlink that points outside the repository: make the link relative and inside the repository");
  }
  return real;
}

/**
 * The real path of a checkout root, remembered: a render joins many paths onto the same root (every
 * file of a directory source), and the agent's checkouts are directories it created (a fresh
 * temporary name each), never moved or replaced by a link afterwards.
 */
const realRoots = new Map<string, string>();
const REAL_ROOTS = 64;
async function realRootOf(root: string): Promise<string> {
  const known = realRoots.get(root);
  if (known !== undefined) return known;
  const real = await realpath(root);
  if (realRoots.size >= REAL_ROOTS) realRoots.delete(realRoots.keys().next().value!);
  realRoots.set(root, real);
  return real;
}

/** Whether `child` is `parent` or below it; both absolute and normalized. */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The real path of the longest existing prefix plus the rest; undefined for a dangling symlink. */
async function realpathOfExisting(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch (err) {
    const parent = dirname(path);
    if (!isNotFound(err) || parent === path) throw err;
    // A dangling symlink's target is unknown territory: nothing may go through it.
    if (await exists(path)) return undefined;
    const realParent = await realpathOfExisting(parent);
    return realParent === undefined ? undefined : join(realParent, basename(path));
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && "code" in err && (err.code === "ENOENT" || err.code === "ENOTDIR");
}

function escapeError(relPath: string, why: string): TetherError {
  return new TetherError("RenderFailed", `path '${relPath}' ${why}`, { object: relPath, retryable: false });
}
