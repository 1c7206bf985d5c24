// Jsonnet in directory sources, as Argo CD evaluates it: every `*.jsonnet` file the directory source
// selects is evaluated (`*.libsonnet` files are only imported), with `directory.jsonnet.extVars`,
// `tlas` and `libs`; the value is one object or an array of objects (Lists flattened). Evaluation is
// go-jsonnet's, through `tether-jsonnet` (tools/jsonnet), which confines imports to the checkout.
import { posix } from "node:path";
import { TetherError } from "../errors.ts";
import { argv, runTool } from "../exec.ts";
import { safeJoin } from "../source/safe-join.ts";
import { findExecutable, scrubPaths } from "./tool.ts";

/** One external variable or top-level argument; `code: true` means the value is Jsonnet, not a string. */
export interface JsonnetVar {
  readonly name: string;
  readonly value: string;
  readonly code?: boolean;
}

/** `spec.source.directory.jsonnet`, Argo CD's spelling. */
export interface JsonnetSource {
  readonly extVars?: readonly JsonnetVar[];
  readonly tlas?: readonly JsonnetVar[];
  /** Library search directories, relative to the repository root (Argo CD: `vendor/`, `lib/`). */
  readonly libs?: readonly string[];
}

export interface JsonnetFileInput {
  /** The checkout root: imports and libs never leave it. */
  readonly root: string;
  /** The `.jsonnet` file, relative to `root`. */
  readonly file: string;
  readonly jsonnet?: JsonnetSource;
}

const EVAL_TIMEOUT_MS = 60_000;

/** Whether the directory renderer hands `file` to {@link evaluateJsonnet}. */
export function isJsonnetFile(file: string): boolean {
  return file.endsWith(".jsonnet");
}

/**
 * The values a Jsonnet file evaluates to: the top-level value, or the elements of a top-level array.
 * Errors name the file and line Jsonnet reports (`app/main.jsonnet:12: …`).
 */
export async function evaluateJsonnet(input: JsonnetFileInput): Promise<unknown[]> {
  await safeJoin(input.root, input.file);
  const args = argv({ options: ["--root=.", ...(await libArgs(input)), ...varArgs(input.jsonnet ?? {})], positionals: [input.file] });
  const binary = await findExecutable("tether-jsonnet");
  const result = await runTool(binary, args, {
    cwd: input.root, env: { PATH: "" }, extendEnv: false, reject: false, timeout: EVAL_TIMEOUT_MS, maxBuffer: 256 * 1024 * 1024,
  });
  if (result.timedOut) throw new TetherError("RenderFailed", `${input.file}: Jsonnet did not finish within ${EVAL_TIMEOUT_MS / 1000}s`, { object: input.file });
  if (result.exitCode !== 0) throw jsonnetError(scrubPaths(result.stderr, { root: [input.root], scratch: [] }), input.file);
  const value = JSON.parse(result.stdout) as unknown;
  return Array.isArray(value) ? (value as unknown[]) : [value];
}

async function libArgs(input: JsonnetFileInput): Promise<string[]> {
  const args: string[] = [];
  for (const lib of input.jsonnet?.libs ?? []) {
    const rel = posix.normalize(lib.replace(/^\/+/, ""));
    // safeJoin refuses `..` and links out of the checkout; the path passed stays relative (cwd = root).
    await safeJoin(input.root, rel);
    args.push(`-J=${rel}`);
  }
  return args;
}

function varArgs(jsonnet: JsonnetSource): string[] {
  const args: string[] = [];
  for (const v of jsonnet.extVars ?? []) args.push(`${v.code === true ? "--ext-code" : "--ext-str"}=${v.name}=${v.value}`);
  for (const v of jsonnet.tlas ?? []) args.push(`${v.code === true ? "--tla-code" : "--tla-str"}=${v.name}=${v.value}`);
  return args;
}

/**
 * go-jsonnet's message as a condition: `file:line: what`, the place taken from the first location in
 * its report (a syntax error's own position, or the top frame of a runtime error's trace).
 */
export function jsonnetError(stderr: string, file: string): TetherError {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const located = lines.map((l) => /([\w./-]+\.(?:jsonnet|libsonnet)):(\d+)(?::[\d-]+)?/.exec(l)).find((m) => m !== null);
  const what = (lines[0] ?? "evaluation failed").replace(/^([\w./-]+\.(?:jsonnet|libsonnet)):[\d:-]+\s*/, "").replace(/^(RUNTIME|STATIC) ERROR:\s*/, "");
  const where = located ? `${located[1]}:${located[2]}` : file;
  return new TetherError("RenderFailed", `${where}: ${what}`, { object: located?.[1] ?? file });
}
