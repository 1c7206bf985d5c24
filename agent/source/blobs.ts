// Objects of a mirror read through one long-lived `git cat-file --batch`: listing and writing a
// directory of a pushed commit costs no process (`git ls-tree` and a `git archive | tar` pair were
// three, and most of a webhook's build).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gitRevArgv, runTool } from "../exec.ts";
import { gitEnv } from "./git.ts";

/** A reader with nothing asked of it for this long ends its process; the next read starts another. */
const IDLE_MS = 30_000;
/** Blobs asked at once: their contents are held until written, so a huge directory streams through. */
const IN_FLIGHT = 64;

/** An object as `git cat-file` gives it; without `content` when it was larger than the read allowed. */
export interface GitObject {
  readonly oid: string;
  readonly type: string;
  readonly size: number;
  readonly content?: Buffer;
}

interface Pending {
  readonly maxBytes: number;
  readonly resolve: (data: GitObject | undefined) => void;
  readonly reject: (err: Error) => void;
}

/** A running `git cat-file --batch`, with the reads it has yet to answer, in order. */
interface Session {
  readonly child: ReturnType<typeof startCatFile>;
  readonly pending: Pending[];
  buffered: Buffer;
  /** Bytes of an object too large to keep (and its newline) still to pass by unkept. */
  skipping: number;
}

/** One `git cat-file --batch` of one repository, started on first read and ended when idle. */
export class ObjectReader {
  private session: Session | undefined;
  private idle: NodeJS.Timeout | undefined;

  constructor(private readonly gitDir: string) {}

  /**
   * The object `spec` names (an id, `<commit>:<path>`, `<commit>^{tree}`); undefined when there is none.
   * Content over `maxBytes` is not kept: the object comes without it (its size says why).
   */
  read(spec: string, maxBytes = Infinity): Promise<GitObject | undefined> {
    if (spec.includes("\n") || spec === "") return Promise.reject(new Error(`internal: not an object name: '${spec}'`));
    clearTimeout(this.idle);
    const session = this.session ?? this.start();
    if (session.pending.length === 0) hold(session, true);
    return new Promise((resolve, reject) => {
      session.pending.push({ maxBytes, resolve, reject });
      session.child.stdin.write(`${spec}\n`);
    });
  }

  /** Ends the process once it answered what it was asked. */
  close(): void {
    clearTimeout(this.idle);
    this.session?.child.stdin.end();
    this.session = undefined;
  }

  private start(): Session {
    const child = startCatFile(this.gitDir);
    const session: Session = { child, pending: [], buffered: Buffer.alloc(0), skipping: 0 };
    this.session = session;
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => { stderr = (stderr + d.toString("utf8")).slice(-2000); });
    child.stdout.on("data", (d: Buffer) => this.received(session, d));
    child.stdin.on("error", () => undefined);
    void child.then((result) => {
      if (this.session === session) this.session = undefined;
      const why = result.failed ? `failed: ${result.shortMessage}` : "ended";
      for (const p of session.pending.splice(0)) p.reject(new Error(`git cat-file of ${this.gitDir} ${why}${stderr ? `: ${stderr.trim()}` : ""}`));
    });
    return session;
  }

  /** Parses `<oid> <type> <size>\n<content>\n` (or `<oid> missing\n`) answers as they stream in. */
  private received(session: Session, data: Buffer): void {
    if (session.skipping > 0) {
      const skipped = Math.min(session.skipping, data.length);
      session.skipping -= skipped;
      data = data.subarray(skipped);
    }
    session.buffered = session.buffered.length === 0 ? data : Buffer.concat([session.buffered, data]);
    for (;;) {
      const eol = session.buffered.indexOf(10);
      if (eol < 0) return;
      const header = session.buffered.subarray(0, eol).toString("utf8").split(" ");
      const maxBytes = session.pending[0]?.maxBytes ?? Infinity;
      let object: GitObject | undefined;
      if (header.length === 3 && header[1] !== "missing") {
        const size = Number(header[2]);
        if (size > maxBytes) {
          // Passed by as it streams in, never held: the reader asked for its size only.
          object = { oid: header[0]!, type: header[1]!, size };
          const here = Math.min(session.buffered.length - eol - 1, size + 1);
          session.skipping = size + 1 - here;
          session.buffered = session.buffered.subarray(eol + 1 + here);
        } else {
          if (session.buffered.length < eol + 1 + size + 1) return;
          object = { oid: header[0]!, type: header[1]!, size, content: Buffer.from(session.buffered.subarray(eol + 1, eol + 1 + size)) };
          session.buffered = session.buffered.subarray(eol + 1 + size + 1);
        }
      } else {
        session.buffered = session.buffered.subarray(eol + 1);
      }
      session.pending.shift()?.resolve(object);
      if (session.pending.length === 0) hold(session, false);
      if (session.pending.length === 0 && this.session === session) {
        this.idle = setTimeout(() => this.close(), IDLE_MS);
        this.idle.unref();
      }
    }
  }
}

function startCatFile(gitDir: string) {
  return runTool("git", gitRevArgv({ options: [`--git-dir=${gitDir}`, "cat-file", "--batch"] }), {
    env: gitEnv(), extendEnv: false, stdin: "pipe", stdout: "pipe", stderr: "pipe", buffer: false, reject: false,
    // No exit hook (execa's cleanup installs signal-exit, which took the agent's SIGTERM from its graceful stop):
    // the process ends by itself when the agent's end of its stdin closes.
    cleanup: false,
  });
}

/**
 * Whether the process keeps Node running: while it owes answers, as any read would; idle, not (a CLI
 * exits as soon as its work is done, without waiting for the reader's idle timeout).
 */
function hold(session: Session, on: boolean): void {
  const { child } = session;
  // The pipes are sockets at run time (typed as plain streams): each holds the loop until unref'd.
  for (const handle of [child, child.stdin, child.stdout, child.stderr] as unknown as Partial<Record<"ref" | "unref", () => void>>[]) {
    if (on) handle.ref?.();
    else handle.unref?.();
  }
}

/** An entry of a commit's tree, as `git ls-tree -r` lists it: a file or symlink (blob) or a submodule (commit). */
export interface ListedEntry {
  readonly path: string;
  readonly mode: string;
  readonly type: string;
  readonly object: string;
}

/**
 * The entries under `dir` of `commit` (repository-relative, clean, not the root) as `git ls-tree -r`
 * lists them, read tree by tree; empty when `dir` is not a directory of the commit.
 */
export async function listDirectory(reader: ObjectReader, commit: string, dir: string): Promise<ListedEntry[]> {
  const entries: ListedEntry[] = [];
  const walk = async (spec: string, prefix: string): Promise<void> => {
    const tree = await reader.read(spec);
    if (tree?.type !== "tree" || tree.content === undefined) return;
    const idBytes = tree.oid.length / 2;
    const subtrees: Promise<void>[] = [];
    const { content } = tree;
    for (let at = 0; at < content.length;) {
      const space = content.indexOf(32, at);
      const nul = content.indexOf(0, space);
      const mode = content.subarray(at, space).toString("latin1");
      const path = `${prefix}/${content.subarray(space + 1, nul).toString("utf8")}`;
      const object = content.subarray(nul + 1, nul + 1 + idBytes).toString("hex");
      at = nul + 1 + idBytes;
      if (mode === "40000") subtrees.push(walk(object, path));
      else entries.push({ path, mode, type: mode === "160000" ? "commit" : "blob", object });
    }
    await Promise.all(subtrees);
  };
  await walk(`${commit}:${dir}`, dir);
  // In path order, as ls-tree lists them.
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Writes `entries` (regular files, `100644` or `100755`) under `root` at their repository paths.
 * Throws when the repository lacks one of them.
 */
export async function writeBlobs(reader: ObjectReader, root: string, entries: readonly ListedEntry[]): Promise<void> {
  // Written synchronously as each blob arrives: small files, and the promise API's open, write and close
  // cost several times the CPU (a push's 20 apps of 20 files each).
  for (const dir of new Set(entries.map((e) => dirname(join(root, e.path))))) mkdirSync(dir, { recursive: true });
  for (let i = 0; i < entries.length; i += IN_FLIGHT) {
    const chunk = entries.slice(i, i + IN_FLIGHT);
    await Promise.all(chunk.map(async (entry) => {
      const blob = await reader.read(entry.object);
      if (blob?.type !== "blob" || blob.content === undefined) throw new Error(`object ${entry.object} (${entry.path}) is not a blob of the mirror`);
      writeFileSync(join(root, entry.path), blob.content, { mode: entry.mode === "100755" ? 0o755 : 0o644 });
    }));
  }
}
