import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, whatever the caller's working directory. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Where tools/build.sh links the binaries it built. */
export const toolsBinDir = path.join(repoRoot, ".tools", "bin");

/**
 * State directory of the long-lived cluster of `npm run cluster:up` and `npm run demo`: .tether/cluster,
 * or $TETHER_CLUSTER_DIR (the demo's test runs the demo in a directory of its own, leaving a developer's be).
 */
export const clusterStateDir = process.env.TETHER_CLUSTER_DIR || path.join(repoRoot, ".tether", "cluster");

/** Absolute path of a tool binary built by tools/build.sh, or an error that says how to build it. */
export function toolPath(name: string): string {
  const file = path.join(toolsBinDir, name);
  if (!existsSync(file)) {
    throw new Error(`${name} is not built: ${file} is missing. Run \`npm run tools\` (bash tools/build.sh) first.`);
  }
  return file;
}

/** PATH with the tool binaries first, for child processes that look tools up by name. */
export function pathWithTools(): string {
  return [toolsBinDir, process.env.PATH ?? ""].join(path.delimiter);
}
