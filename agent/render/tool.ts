// What the kustomize and helm renderers share: finding the binaries, a private scratch directory
// for each run, messages without temporary paths, and reading the manifests a tool prints.
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { Manifest } from "../api/types.ts";
import { TetherError } from "../errors.ts";

/** The absolute path of `name` on PATH (tools run with a PATH of our choosing, so it is resolved first). */
export async function findExecutable(name: string, path = process.env.PATH ?? ""): Promise<string> {
  if (name.includes("/")) return name;
  for (const dir of path.split(delimiter).filter((d) => d !== "")) {
    const candidate = join(dir, name);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  throw new TetherError("RenderFailed", `${name} is not installed: put the ${name} binary on the agent's PATH`, { retryable: true });
}

/** A fresh directory for one tool run (HOME, TMPDIR, caches), removed by `cleanup`. */
export interface Scratch {
  readonly dir: string;
  /** Creates and returns `dir/name`. */
  sub(name: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function scratch(prefix: string): Promise<Scratch> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), `tether-${prefix}-`)));
  return {
    dir,
    sub: async (name) => {
      const sub = join(dir, name);
      await mkdir(sub, { recursive: true });
      return sub;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * A tool's message with paths made readable: the checkout root becomes the repository root (paths
 * relative to it), scratch directories disappear.
 */
export function scrubPaths(message: string, paths: { readonly root: readonly string[]; readonly scratch: readonly string[] }): string {
  let out = message;
  for (const dir of [...paths.scratch].sort((a, b) => b.length - a.length)) out = out.replaceAll(`${dir}/`, "").replaceAll(dir, "<tmp>");
  for (const dir of [...paths.root].sort((a, b) => b.length - a.length)) out = out.replaceAll(`${dir}/`, "").replaceAll(dir, ".");
  return out.trim();
}

/** One object a tool printed, with the comment above it (helm names the template there). */
export interface PrintedObject {
  readonly manifest: Manifest;
  readonly comment: string;
}

/**
 * The objects in a tool's YAML output: empty documents skipped, `List` kinds flattened. A tool that
 * prints something else is a RenderFailed naming the tool and document, never the content (it may
 * hold decrypted data).
 */
export function parsePrinted(text: string, tool: string): PrintedObject[] {
  const objects: PrintedObject[] = [];
  for (const [i, doc] of parseAllDocuments(text, { merge: true, prettyErrors: false }).entries()) {
    const error = doc.errors[0];
    if (error !== undefined) throw new TetherError("RenderFailed", `${tool} printed document ${i + 1} that is not valid YAML (${error.code})`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const comment = [doc.commentBefore, doc.contents?.commentBefore].filter((c) => typeof c === "string").join("\n");
    for (const item of flattenLists(value)) objects.push({ manifest: asManifest(item, `${tool} printed document ${i + 1}`), comment });
  }
  return objects;
}

function flattenLists(value: unknown): unknown[] {
  if (isRecord(value) && Array.isArray(value.items) && typeof value.kind === "string" && value.kind.endsWith("List")) {
    return (value.items as unknown[]).flatMap(flattenLists);
  }
  return [value];
}

function asManifest(value: unknown, where: string): Manifest {
  const meta = isRecord(value) ? value.metadata : undefined;
  const named = isRecord(meta) && ((typeof meta.name === "string" && meta.name !== "") || (typeof meta.generateName === "string" && meta.generateName !== ""));
  if (!isRecord(value) || typeof value.apiVersion !== "string" || typeof value.kind !== "string" || !named) {
    throw new TetherError("RenderFailed", `${where}, which is not a Kubernetes object: every manifest needs apiVersion, kind and metadata.name`);
  }
  return value as Manifest;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
