// How much one render may read and produce. A repository is untrusted input: without a bound, one
// commit with a huge file makes the agent (1 GiB limit in its Deployment) run out of memory in a loop.
import { lstatSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { sourcesOf } from "../api/sources.ts";
import type { Application } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { safeJoin } from "../source/safe-join.ts";
import type { RenderedObject } from "./types.ts";

export interface RenderLimits {
  /** Largest file under the source path a renderer may read (`--max-file-size`). */
  readonly maxFileBytes: number;
  /** Largest total of the objects one render may produce, as JSON (`--max-render-size`). */
  readonly maxRenderBytes: number;
}

const MiB = 1024 * 1024;

/** 64 MiB per file and 256 MiB per render: a 50 MB manifest renders in about 300 MiB (test/bench/render-memory.ts). */
export const DEFAULT_RENDER_LIMITS: RenderLimits = { maxFileBytes: 64 * MiB, maxRenderBytes: 256 * MiB };

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1000, ki: 1024, m: 1e6, mi: MiB, g: 1e9, gi: 1024 * MiB };

/** Parses `64Mi`, `256MiB`, `1Gi`, `500M` or a byte count; throws with the flag named. */
export function parseSize(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?)?b?$/i.exec(text.trim());
  const unit = UNITS[(match?.[2] ?? "").toLowerCase()];
  if (match === null || unit === undefined || Number(match[1]) <= 0) {
    throw new Error(`${flag} ${text}: expected a size such as 64Mi, 256MiB or 1Gi`);
  }
  return Math.floor(Number(match[1]) * unit);
}

function shown(bytes: number): string {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(bytes % MiB === 0 ? 0 : 1)} MiB` : `${bytes} bytes`;
}

/** The RenderTooLarge error: names the file (or the source path), its size and the limit with its flag. */
export function renderTooLarge(what: { file: string; limit: number; flag: string; detail: string }): TetherError {
  return new TetherError("RenderTooLarge",
    `${what.file}: ${what.detail}, over the limit of ${shown(what.limit)} (agent flag ${what.flag}); ` +
    "split the manifests into several applications, or raise the limit and the agent's memory together", { object: what.file, retryable: false });
}

/** RenderTooLarge for the file `child` (relative to the source path `path`) of `size` bytes. */
export function fileTooLarge(path: string, child: string, size: number, limits: RenderLimits): TetherError {
  const file = [path.replace(/^\.?\/?|\/+$/g, ""), child].filter((p) => p !== "").join("/");
  return renderTooLarge({ file, limit: limits.maxFileBytes, flag: "--max-file-size", detail: `the file is ${shown(size)}` });
}

/** Throws RenderTooLarge for the first file under `root/path` larger than the limit (symlinks not followed). */
export async function checkFileSizes(root: string, path: string, limits: RenderLimits): Promise<void> {
  const base = await safeJoin(root, path);
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(join(dir, entry.name), child);
      else if (entry.isFile()) {
        // One synchronous lstat per file: the promise API's cost ten times the CPU, for every file of every render.
        const { size } = lstatSync(join(dir, entry.name));
        if (size > limits.maxFileBytes) throw fileTooLarge(path, child, size, limits);
      }
    }
  };
  await walk(base, "");
}

/** Throws RenderTooLarge when the objects together exceed the limit, naming the file that gave the most. */
export function checkRenderedSize(objects: readonly RenderedObject[], path: string, limits: RenderLimits): void {
  let total = 0;
  const byFile = new Map<string, number>();
  for (const object of objects) {
    const bytes = Buffer.byteLength(JSON.stringify(object.manifest));
    total += bytes;
    byFile.set(object.file, (byFile.get(object.file) ?? 0) + bytes);
  }
  if (total <= limits.maxRenderBytes) return;
  const [largest = path, largestBytes = total] = [...byFile.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
  throw renderTooLarge({
    file: largest, limit: limits.maxRenderBytes, flag: "--max-render-size",
    detail: `the render of ${path || "."} produced ${shown(total)} of objects, ${shown(largestBytes)} of them from this file`,
  });
}

/** A render function bounded by `limits`: file sizes checked before it runs, the output after. */
export function withRenderLimits<I extends { readonly root: string; readonly app: Application }>(
  render: (input: I) => Promise<RenderedObject[]>, limits: RenderLimits = DEFAULT_RENDER_LIMITS,
): (input: I) => Promise<RenderedObject[]> {
  return async (input) => {
    const path = sourcesOf(input.app)[0]?.path ?? ".";
    await checkFileSizes(input.root, path, limits);
    const objects = await render(input);
    checkRenderedSize(objects, path, limits);
    return objects;
  };
}
