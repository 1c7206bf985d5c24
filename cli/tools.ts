// The external binaries the CLI runs (sops, age-keygen, helm, kustomize): found on PATH, with the ones
// tools/build.sh linked into the checkout's .tools/bin first.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The checkout's .tools/bin, where tools/build.sh links the binaries it built: the nearest one above
 * this module, which is cli/ in the sources and dist/chunks/ in the bundle.
 */
export function repoToolsDir(from = path.dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from, depth = 0; depth < 4; dir = path.dirname(dir), depth++) {
    const candidate = path.join(dir, ".tools", "bin");
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  return undefined;
}

/**
 * In a checkout, puts the binaries tools/build.sh made before PATH, so `npx tether` uses the pinned
 * versions the tests ran with; an installed CLI without .tools/bin uses PATH as it is.
 */
export function useRepoTools(): void {
  const current = process.env.PATH ?? "";
  const tools = repoToolsDir();
  if (!tools || current.split(path.delimiter).includes(tools)) return;
  process.env.PATH = `${tools}${path.delimiter}${current}`;
}

/** Whether an execa failure means the binary itself could not be found or started. */
export function notInstalled(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === "ENOENT";
}

/** The message for a binary that is not on PATH, with where to get it. */
export function installHint(binary: string, from: string): string {
  return `${binary} was not found on PATH: install it (${from}), or run \`npm run tools\` in a Tether checkout`;
}
