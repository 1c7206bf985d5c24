// The directory renderer: plain YAML and JSON manifests under spec.source.path, as Argo CD's
// directory source reads them.
import { readFileSync } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import { LineCounter, parseAllDocuments } from "yaml";
import type { DirectorySource, Manifest } from "../api/types.ts";
import { TetherError, errorMessage } from "../errors.ts";
import { isInside, safeJoin } from "../source/safe-join.ts";
import { detached, jsonDocument, splitDocuments } from "./documents.ts";
import { compileGlob } from "./glob.ts";
import { evaluateJsonnet, isJsonnetFile } from "./jsonnet.ts";
import type { DecryptFn, RenderedObject, SopsFormat } from "./types.ts";

/** What {@link renderDirectory} reads. */
export interface DirectoryRenderInput {
  /** The checkout's root directory: no file outside it is ever read. */
  readonly root: string;
  /** `spec.source.path`, relative to `root`; `""` or `"."` for the root itself. */
  readonly path: string;
  readonly directory?: DirectorySource;
  /** Decrypts SOPS files; without it an encrypted file is a DecryptionFailed error. */
  readonly decrypt?: DecryptFn;
}

const MANIFEST_FILE = /\.(ya?ml|json|jsonnet)$/;

/**
 * Reads every manifest under `root/path` (subdirectories only with `directory.recurse`, filtered by
 * `directory.include` / `directory.exclude`; exclude wins), in path order then document order.
 * Multi-document YAML, JSON, and `List` kinds are flattened to single objects.
 */
export async function renderDirectory(input: DirectoryRenderInput): Promise<RenderedObject[]> {
  const sourcePath = normalizeSourcePath(input.path);
  const base = await sourceDirectory(input.root, sourcePath);
  const files = await listManifestFiles(base, input.directory ?? {}, { root: input.root, prefix: sourcePath });
  const objects: RenderedObject[] = [];
  // One file at a time: each encrypted file spawns a decryption process.
  for (const { rel, link } of files) {
    const file = sourcePath === "" ? rel : `${sourcePath}/${rel}`;
    if (isJsonnetFile(file)) {
      objects.push(...(await renderJsonnetFile(input.root, file, input.directory)));
      continue;
    }
    // A regular file the walk found under the real source directory, through real directories only, is
    // inside the checkout as it stands: only a symlink needs resolving (a realpath per file was a
    // tenth of a first sync's CPU).
    const text = await readRepoFile(input.root, file, link ? undefined : join(base, rel));
    objects.push(...(await renderFile({ file, text, decrypt: input.decrypt })));
  }
  return objects;
}

function normalizeSourcePath(path: string): string {
  const normal = posix.normalize(path === "" ? "." : path).replace(/\/+$/, "");
  return normal === "." ? "" : normal;
}

async function sourceDirectory(root: string, sourcePath: string): Promise<string> {
  const dir = await safeJoin(root, sourcePath);
  const info = await stat(dir).catch(() => undefined);
  if (info?.isDirectory() !== true) {
    const why = info === undefined ? "does not exist" : "is not a directory";
    throw new TetherError("RenderFailed", `path '${sourcePath || "."}' ${why} at this revision: fix spec.source.path`, { object: sourcePath, retryable: false });
  }
  return dir;
}

/** A manifest file the walk found: its path relative to the source directory, and whether it is a symlink. */
interface Found {
  readonly rel: string;
  readonly link: boolean;
}

/** Manifest files under `base`, relative to it with `/` separators, sorted. */
async function listManifestFiles(base: string, directory: DirectorySource, where: Omit<Walk, "recurse">): Promise<Found[]> {
  return chosen(await walk(base, "", { ...where, recurse: directory.recurse === true }), directory);
}

/** The files `directory.include` / `directory.exclude` keep (exclude wins), in path order. */
function chosen<F extends { readonly rel: string }>(files: readonly F[], directory: DirectorySource): F[] {
  const include = directory.include ? compileGlob(directory.include, "include") : undefined;
  const exclude = directory.exclude ? compileGlob(directory.exclude, "exclude") : undefined;
  return files
    .filter(({ rel }) => exclude?.test(rel) !== true && include?.test(rel) !== false)
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** What {@link renderFiles} renders: a plain directory's files, already read. */
export interface FilesRenderInput {
  /** `spec.source.path`. */
  readonly path: string;
  /** Every regular file under it, paths relative to it with `/` separators; no symlink, no Jsonnet. */
  readonly files: readonly { readonly path: string; readonly text: string }[];
  readonly directory?: DirectorySource;
  readonly decrypt?: DecryptFn;
}

/**
 * {@link renderDirectory} of files already in memory (read from the mirror's objects): the same files
 * chosen (hidden entries skipped at every level, subdirectories only with `directory.recurse`,
 * include / exclude), in the same order, parsed the same way.
 */
export async function renderFiles(input: FilesRenderInput): Promise<RenderedObject[]> {
  const sourcePath = normalizeSourcePath(input.path);
  const recurse = input.directory?.recurse === true;
  const manifests = input.files.filter(({ path }) => {
    const parts = path.split("/");
    return !parts.some((p) => p.startsWith(".")) && (recurse || parts.length === 1) && MANIFEST_FILE.test(parts.at(-1)!);
  });
  const objects: RenderedObject[] = [];
  for (const { rel, text } of chosen(manifests.map((f) => ({ rel: f.path, text: f.text })), input.directory ?? {})) {
    const file = sourcePath === "" ? rel : `${sourcePath}/${rel}`;
    objects.push(...(await renderFile({ file, text, decrypt: input.decrypt })));
  }
  return objects;
}

/** Where a walk happens: the checkout root (the bound for symlinks) and the source path inside it. */
interface Walk {
  readonly root: string;
  readonly prefix: string;
  readonly recurse: boolean;
}

async function walk(dir: string, rel: string, scope: Walk): Promise<Found[]> {
  const found: Found[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    // Hidden entries are tooling (.git, .github, .sops.yaml), never manifests.
    if (entry.name.startsWith(".")) continue;
    const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isSymbolicLink() && await isLinkedDirectory(join(dir, entry.name), child, scope)) continue;
    if (entry.isDirectory()) {
      if (scope.recurse) found.push(...(await walk(join(dir, entry.name), child, scope)));
    } else if ((entry.isFile() || entry.isSymbolicLink()) && MANIFEST_FILE.test(entry.name)) {
      // Symlinked files are read through safeJoin, which refuses links that leave the repository.
      found.push({ rel: child, link: entry.isSymbolicLink() });
    }
  }
  return found;
}

/**
 * Whether a symlink leads to a directory inside the repository; those are not followed (as in Argo
 * CD: no cycles). A link that leaves the repository is refused with RenderFailed naming it, as Argo CD
 * refuses out-of-bounds symlinks, instead of being skipped without a word.
 */
async function isLinkedDirectory(path: string, child: string, scope: Walk): Promise<boolean> {
  const target = await realpath(path).catch(() => undefined);
  if (target === undefined) return false;
  if (!isInside(await realpath(scope.root), target)) await safeJoin(scope.root, scope.prefix === "" ? child : `${scope.prefix}/${child}`);
  return (await stat(target)).isDirectory();
}

/** Reads `file` of the checkout through safeJoin, or at `real` when the caller found it as a regular file inside it. */
async function readRepoFile(root: string, file: string, real?: string): Promise<string> {
  const path = real ?? await safeJoin(root, file);
  try {
    // Read synchronously: the text is parsed synchronously right after anyway, and the promise API's
    // open, stat, read and close took ten times the CPU of one readFileSync (a tenth of a first sync's).
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = err instanceof Error && "code" in err ? String(err.code) : errorMessage(err);
    throw new TetherError("RenderFailed", `${file}: cannot read the file (${code})`, { object: file, retryable: false });
  }
}

/** A `.jsonnet` file's objects; `directory.jsonnet` carries its extVars, tlas and libs. */
async function renderJsonnetFile(root: string, file: string, directory: DirectorySource | undefined): Promise<RenderedObject[]> {
  const jsonnet = directory?.jsonnet;
  const values = await evaluateJsonnet({ root, file, ...(jsonnet ? { jsonnet } : {}) });
  return values.flatMap((value, i) => toObjects({ value, index: i + 1, line: 1 }, file, false));
}

/** One document of a file, with what a message needs to point at it. */
interface ParsedDocument {
  readonly value: unknown;
  /** 1-based position in the file's document stream. */
  readonly index: number;
  readonly line: number;
}

interface FileToRender {
  readonly file: string;
  readonly text: string;
  readonly decrypt: DecryptFn | undefined;
}

async function renderFile({ file, text, decrypt }: FileToRender): Promise<RenderedObject[]> {
  const format: SopsFormat = file.endsWith(".json") ? "json" : "yaml";
  const documents = parseDocuments({ text, file, format, decrypted: false });
  if (!documents.some((doc) => isRecord(doc.value) && Object.hasOwn(doc.value, "sops"))) {
    return documents.flatMap((doc) => toObjects(doc, file, false));
  }
  if (decrypt === undefined) {
    throw new TetherError("DecryptionFailed", `${file} is encrypted with SOPS but no decryption is configured: provide the key (an *.agekey entry in the agent's key Secret)`, { object: file, retryable: false });
  }
  // The whole original text goes to SOPS: its MAC covers the file as written, so re-serialized
  // documents would fail to verify.
  const plaintext = await decryptFile({ decrypt, text, file, format });
  return parseDocuments({ text: plaintext, file, format, decrypted: true }).flatMap((doc) => toObjects(doc, file, true));
}

async function decryptFile(args: { decrypt: DecryptFn; text: string; file: string; format: SopsFormat }): Promise<string> {
  try {
    return await args.decrypt(args.text, args.file, args.format);
  } catch (err) {
    if (err instanceof TetherError) throw err;
    throw new TetherError("DecryptionFailed", `${args.file}: cannot decrypt: ${errorMessage(err)}`, { object: args.file, retryable: false, cause: err });
  }
}

interface TextToParse {
  readonly text: string;
  readonly file: string;
  readonly format: SopsFormat;
  /** Plaintext of a secret: errors then name only the error code, never the offending text. */
  readonly decrypted: boolean;
}

/**
 * The non-empty documents of a file. JSON goes through the YAML parser too (JSON is YAML 1.2), so
 * both get line numbers in their errors.
 */
function parseDocuments({ text, file, format, decrypted }: TextToParse): ParsedDocument[] {
  const parsed: ParsedDocument[] = [];
  let index = 0;
  // One document at a time (agent/render/documents.ts): a large file never has its whole syntax tree in memory.
  for (const chunk of splitDocuments(text)) {
    // A document that is one JSON object skips the YAML parser (the same value, a hundredth of the cost).
    const json = jsonDocument(chunk.text);
    if (json !== undefined) {
      index++;
      parsed.push({ value: json.value, index, line: chunk.firstLine + newlines(chunk.text, json.at) });
      continue;
    }
    const lineCounter = new LineCounter();
    // `merge`: Kubernetes' own YAML reader accepts `<<: *anchor` merge keys, so manifests use them.
    for (const doc of parseAllDocuments(chunk.text, { lineCounter, prettyErrors: false, merge: true })) {
      index++;
      const lineOf = (pos: number) => chunk.firstLine - 1 + lineCounter.linePos(pos).line;
      const error = doc.errors[0];
      if (error !== undefined) {
        const why = decrypted ? `the decrypted content is not valid ${format.toUpperCase()} (${error.code})` : error.message;
        throw new TetherError("RenderFailed", `${file}:${lineOf(error.pos[0])}: ${why}`, { object: file, retryable: false });
      }
      const value = toJS(doc, file);
      if (value === null || value === undefined) continue;
      parsed.push({ value, index, line: lineOf(doc.contents?.range[0] ?? doc.range[0]) });
    }
  }
  return parsed;
}

/** How many line breaks `text` holds before `end`. */
function newlines(text: string, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** A document's value; an alias bomb (the yaml library's alias limit) is refused naming the file. */
function toJS(doc: ReturnType<typeof parseAllDocuments>[number], file: string): unknown {
  try {
    return detached(doc.toJS());
  } catch (err) {
    const why = /alias/i.test(errorMessage(err))
      ? "too many YAML aliases (a document that expands like an alias bomb); write the values out or use fewer anchors"
      : errorMessage(err);
    throw new TetherError("RenderFailed", `${file}: ${why}`, { object: file, retryable: false });
  }
}

/** A document as objects: itself, or the items of a List (nested Lists flattened too). */
function toObjects(doc: ParsedDocument, file: string, decrypted: boolean): RenderedObject[] {
  return flattenLists(doc.value, `document ${doc.index}`).map(({ value, label }) => ({
    manifest: asManifest(value, { file, line: doc.line, label }),
    file,
    decrypted,
  }));
}

function flattenLists(value: unknown, label: string): { value: unknown; label: string }[] {
  if (isRecord(value) && Array.isArray(value.items) && typeof value.kind === "string" && value.kind.endsWith("List")) {
    const items: unknown[] = value.items;
    return items.flatMap((item, i) => flattenLists(item, `${label}, item ${i + 1}`));
  }
  return [{ value, label }];
}

function asManifest(value: unknown, where: { file: string; line: number; label: string }): Manifest {
  const prefix = `${where.file}:${where.line}: ${where.label}`;
  const opts = { object: where.file, retryable: false };
  if (!isRecord(value)) {
    throw new TetherError("RenderFailed", `${prefix} is not a Kubernetes object: a manifest is a mapping with apiVersion, kind and metadata.name`, opts);
  }
  const missing = missingFields(value);
  if (missing.length > 0) {
    throw new TetherError("RenderFailed", `${prefix} has no ${missing.join(", ")}: every manifest needs apiVersion, kind and metadata.name`, opts);
  }
  return value as Manifest;
}

function missingFields(value: Record<string, unknown>): string[] {
  const missing: string[] = [];
  if (!isNonEmptyString(value.apiVersion)) missing.push("apiVersion");
  if (!isNonEmptyString(value.kind)) missing.push("kind");
  const metadata = value.metadata;
  // generateName is how hooks (Jobs run on every sync) get a fresh name each time.
  const named = isRecord(metadata) && (isNonEmptyString(metadata.name) || isNonEmptyString(metadata.generateName));
  if (!named) missing.push("metadata.name");
  return missing;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}
