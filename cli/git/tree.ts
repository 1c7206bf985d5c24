// The files of a checkout as planners read them, and the changes they return. Planners never write:
// they read a RepoTree and return FileChanges, so every check runs before the first byte is written,
// and a unit test can hand them an in-memory tree.
import { lstat, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { safeJoin } from "../../agent/source/safe-join.ts";

/** Read access to a tree of files, by repository-relative POSIX paths. */
export interface RepoTree {
  /** The text of a file; undefined when there is no such file. */
  read(file: string): Promise<string | undefined>;
  /** "file", "dir", or undefined when nothing is there. */
  kind(file: string): Promise<"file" | "dir" | undefined>;
  /** Every file below `dir`, relative to the tree root and sorted; [] when `dir` does not exist. */
  walk(dir: string): Promise<string[]>;
}

/** One file to write (`content`) or delete (`null`; a directory is deleted with all it holds). */
export interface FileChange {
  readonly path: string;
  readonly content: string | Buffer | null;
}

/** What a command commits: its message and its changes. */
export interface Plan {
  /** The commit message: a subject line, optionally a blank line and a body. */
  readonly message: string;
  readonly changes: readonly FileChange[];
  /** Lines for the user that are not errors (printed on stderr). */
  readonly notes?: readonly string[];
}

/** A tree over a directory on disk; paths that leave it (`..`, symlinks) are refused. */
export function diskTree(root: string): RepoTree {
  const at = (file: string) => safeJoin(root, file === "" ? "." : file);
  const kind = async (file: string) => {
    const stat = await lstat(await at(file)).catch(() => undefined);
    return stat?.isDirectory() ? "dir" as const : stat?.isFile() ? "file" as const : undefined;
  };
  return {
    kind,
    async read(file) {
      return (await kind(file)) === "file" ? await readFile(await at(file), "utf8") : undefined;
    },
    async walk(dir) {
      if ((await kind(dir)) !== "dir") return [];
      const base = await at(dir);
      const entries = await readdir(base, { recursive: true, withFileTypes: true });
      return entries
        .filter((e) => e.isFile())
        .map((e) => path.relative(base, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
        .filter((rel) => !rel.split("/").includes(".git"))
        .map((rel) => (dir === "" || dir === "." ? rel : `${dir}/${rel}`))
        .sort();
    },
  };
}

/** A tree held in memory (file path -> text): for tests and for previews. */
export function memoryTree(files: Readonly<Record<string, string>>): RepoTree {
  const names = Object.keys(files).sort();
  const under = (dir: string) => (dir === "" || dir === "." ? names : names.filter((n) => n.startsWith(`${dir}/`)));
  return {
    read: (file) => Promise.resolve(files[file]),
    kind: (file) => Promise.resolve(files[file] !== undefined ? "file" : under(file).length > 0 ? "dir" : undefined),
    walk: (dir) => Promise.resolve(under(dir)),
  };
}

/** `tree` as it will be once `changes` are written: for checks that must see the files a plan adds. */
export function withChanges(tree: RepoTree, changes: readonly FileChange[]): RepoTree {
  const written = new Map(changes.map((c) => [c.path, c.content]));
  const removed = (file: string) => changes.some((c) => c.content === null && (file === c.path || file.startsWith(`${c.path}/`)));
  const added = (dir: string) => [...written].filter(([p, c]) => c !== null && (dir === "" || dir === "." || p.startsWith(`${dir}/`))).map(([p]) => p);
  return {
    async read(file) {
      const content = written.get(file);
      if (content !== undefined) return content === null ? undefined : content.toString();
      return removed(file) ? undefined : await tree.read(file);
    },
    async kind(file) {
      if (written.has(file)) return written.get(file) === null ? undefined : "file";
      if (added(file).length > 0) return "dir";
      return removed(file) ? undefined : await tree.kind(file);
    },
    async walk(dir) {
      const before = (await tree.walk(dir)).filter((f) => !removed(f));
      return [...new Set([...before, ...added(dir)])].sort();
    },
  };
}

/** Writes the changes under `root`; every path is checked to stay inside it. */
export async function writeChanges(root: string, changes: readonly FileChange[]): Promise<void> {
  for (const change of changes) {
    const target = await safeJoin(root, change.path);
    if (change.content === null) {
      await rm(target, { recursive: true, force: true });
    } else {
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, change.content);
    }
  }
}

/** The paths a plan touches, for `git add` and for messages. */
export function changedPaths(changes: readonly FileChange[]): string[] {
  return [...new Set(changes.map((c) => c.path))];
}
