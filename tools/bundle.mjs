// `npm run build`: bundles the CLI and the agent with esbuild into dist/, which is what bin/tether.mjs,
// the integration suites and the agent image run.
//
//   dist/tether.mjs   the `tether` CLI (the agent runs as `tether agent`)
//   dist/agent.mjs    startAgent() for programs that embed the agent (the demo, the benchmark)
//   dist/chunks/      code split along the CLI's lazy imports, so `tether --help` parses only commander
//   dist/build.json   what the build read and when it started, for the freshness check below
//
// Every dependency is bundled: dist/ runs with node alone, without node_modules, tsx or TypeScript.
// Plain JavaScript on purpose: bin/tether.mjs imports it from a checkout before anything is built.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const distDir = path.join(root, "dist");
export const cliBundle = path.join(distDir, "tether.mjs");
const buildFile = path.join(distDir, "build.json");

/** Files outside the sources whose change changes the bundle (dependency versions). */
const ALSO_READ = ["package.json", "package-lock.json"];
/** A bundle must never carry test code: an input matching this fails the build. */
const TEST_CODE = /(^|\/)(test|testdata)\/|\.test\.ts$|(^|\/)node_modules\/(vitest|tsx|typescript|@vitest)\//;
/** Chunks of an earlier build stay this long, for a CLI that started before the rebuild and loads them lazily. */
const OLD_CHUNK_GRACE_MS = 10 * 60_000;

/** The commit the sources come from, `-dirty` when they differ from it; `unknown` outside a git checkout. */
function commitOf() {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no", "--", "agent", "cli"],
      { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() !== "";
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return "unknown";
  }
}

/**
 * Whether dist/ holds a bundle built after the last change to every file it was built from. Costs one
 * stat per source file (a few milliseconds), so bin/tether.mjs runs it on every start in a checkout.
 */
export function isFresh() {
  let build;
  try {
    build = JSON.parse(readFileSync(buildFile, "utf8"));
  } catch {
    return false;
  }
  if (!existsSync(cliBundle) || !Array.isArray(build.inputs)) return false;
  for (const file of [...build.inputs, ...ALSO_READ]) {
    let mtime;
    try {
      mtime = statSync(path.join(root, file)).mtimeMs;
    } catch {
      return false;
    }
    if (mtime >= build.startedAtMs) return false;
  }
  return true;
}

/** Inputs from this repository (not node_modules), relative to the root; fails on test code. */
function localInputs(metafile) {
  const inputs = Object.keys(metafile.inputs);
  const leaked = inputs.filter((f) => TEST_CODE.test(f));
  if (leaked.length > 0) {
    throw new Error(`the bundle would include test code: ${leaked.join(", ")}; import it from tests only, never from cli/ or agent/`);
  }
  return inputs.filter((f) => !f.startsWith("node_modules/") && !f.includes(":"));
}

/** Moves a finished build from `tmp` into dist/: chunks first, then build.json, then the entry files (each a rename). */
function publish(tmp, build) {
  mkdirSync(path.join(distDir, "chunks"), { recursive: true });
  for (const chunk of readdirSync(path.join(tmp, "chunks"))) renameSync(path.join(tmp, "chunks", chunk), path.join(distDir, "chunks", chunk));
  writeFileSync(`${buildFile}.${process.pid}`, `${JSON.stringify(build, null, 1)}\n`);
  renameSync(`${buildFile}.${process.pid}`, buildFile);
  for (const entry of readdirSync(tmp)) if (entry.endsWith(".mjs")) renameSync(path.join(tmp, entry), path.join(distDir, entry));
  rmSync(tmp, { recursive: true, force: true });
}

function removeOldChunks(keep) {
  const dir = path.join(distDir, "chunks");
  for (const chunk of readdirSync(dir)) {
    const file = path.join(dir, chunk);
    if (!keep.has(chunk) && Date.now() - statSync(file).mtimeMs > OLD_CHUNK_GRACE_MS) rmSync(file, { force: true });
  }
}

/** Bundles cli/main.ts and agent/main.ts into dist/; safe to run while another process runs or builds dist/. */
export async function build({ log = (line) => console.error(line) } = {}) {
  const { build: esbuild } = await import("esbuild");
  const startedAtMs = Date.now();
  // The image build has no .git: it passes the commit in.
  const commit = process.env.TETHER_COMMIT || commitOf();
  const tmp = path.join(distDir, `.build-${process.pid}-${startedAtMs}`);
  const result = await esbuild({
    absWorkingDir: root,
    entryPoints: { tether: "cli/main.ts", agent: "agent/main.ts" },
    outdir: tmp,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    // CommonJS dependencies call require() for Node's built-ins; an ES module has none of its own.
    banner: { js: "import { createRequire as __tetherRequire } from 'node:module'; const require = __tetherRequire(import.meta.url);" },
    define: { __TETHER_BUILD__: JSON.stringify({ commit, builtAt: new Date(startedAtMs).toISOString() }) },
  });
  const inputs = localInputs(result.metafile);
  const outputs = Object.keys(result.metafile.outputs).map((f) => path.relative(tmp, path.join(root, f)));
  publish(tmp, { commit, startedAtMs, inputs });
  removeOldChunks(new Set(outputs.filter((f) => f.startsWith("chunks/")).map((f) => path.basename(f))));
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  log(`built dist/ (commit ${commit}): ${inputs.length} source files, ${outputs.length} files, ${(bytes / 1e6).toFixed(1)} MB in ${Date.now() - startedAtMs} ms`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await build({ log: (line) => console.log(line) });
  } catch (err) {
    // esbuild has already printed each error with its file and line.
    console.error(`npm run build failed: ${err instanceof Error ? err.message.split("\n")[0] : err}`);
    process.exitCode = 1;
  }
}
