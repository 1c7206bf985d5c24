// Charts in OCI registries, pulled with the real `helm pull oci://…` (Helm resolves a semver
// constraint against the registry's tags and checks every blob against its digest). Helm runs in a
// scratch HOME: the registry login it needs lives in a config file there and is removed with it.
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { TetherError } from "../errors.ts";
import { argv, runTool, type Argv } from "../exec.ts";
import { findExecutable, scratch, scrubPaths, type Scratch } from "../render/tool.ts";
import type { HelmRepoAccess } from "./helm-repo.ts";
import { sizeLabel } from "./limits.ts";

/** One chart to pull. */
export interface OciPull {
  /** `host[:port]/path/chart`, without `oci://`. */
  readonly ref: string;
  /** An exact version, a semver constraint, or empty for the newest. */
  readonly version: string;
  readonly access?: HelmRepoAccess;
  readonly timeoutMs: number;
  /** The most the archive may hold: larger is refused before it is read into memory. */
  readonly maxBytes?: number;
}

/** The archive helm pulled, read into memory, and the version it chose. */
export interface OciPulled {
  readonly version: string;
  readonly bytes: Buffer;
}

/** Pulls `oci://ref` at `version`; throws `TetherError("SourceFailed")` with helm's reason. */
export async function pullOciChart(pull: OciPull): Promise<OciPulled> {
  const helm = await findExecutable("helm");
  const space = await scratch("oci");
  try {
    const env = await helmEnv(space);
    const run = { helm, env, space, pull };
    if (pull.access?.password !== undefined) await login(run);
    const dest = await space.sub("pulled");
    const args = argv({ options: ["pull", `--destination=${dest}`, ...(pull.version ? [`--version=${pull.version}`] : []), ...plainHttp(pull)], positionals: [`oci://${pull.ref}`] });
    await helmRun(run, args, "");
    const [file] = await readdir(dest);
    const chart = pull.ref.split("/").pop() ?? "";
    if (file === undefined || !file.startsWith(`${chart}-`) || !file.endsWith(".tgz")) {
      throw new TetherError("SourceFailed", `helm pull oci://${pull.ref} wrote no chart archive`, { object: `oci://${pull.ref}` });
    }
    const size = (await stat(join(dest, file))).size;
    if (pull.maxBytes !== undefined && size > pull.maxBytes) {
      throw new TetherError("SourceFailed", `the chart archive at oci://${pull.ref} is larger than the limit of ${sizeLabel(pull.maxBytes)} (${sizeLabel(size)}); a chart that large is refused (raise the agent's --max-chart-size if it is genuine)`, { object: `oci://${pull.ref}` });
    }
    return { version: file.slice(chart.length + 1, -".tgz".length), bytes: await readFile(join(dest, file)) };
  } finally {
    await space.cleanup();
  }
}

interface HelmRun {
  readonly helm: string;
  readonly env: Record<string, string>;
  readonly space: Scratch;
  readonly pull: OciPull;
}

async function helmEnv(space: Scratch): Promise<Record<string, string>> {
  const config = await space.sub("config");
  return {
    PATH: "", HOME: await space.sub("home"), TMPDIR: await space.sub("tmp"),
    HELM_CACHE_HOME: await space.sub("cache"), HELM_CONFIG_HOME: config, HELM_DATA_HOME: await space.sub("data"),
    HELM_REGISTRY_CONFIG: join(config, "registry.json"),
  };
}

/** The password goes through stdin, never the command line (which any local user can read). */
async function login(run: HelmRun): Promise<void> {
  const host = run.pull.ref.split("/")[0] ?? "";
  const options = ["registry", "login", `--username=${run.pull.access?.username ?? ""}`, "--password-stdin", ...plainHttp(run.pull)];
  await helmRun(run, argv({ options, positionals: [host] }), run.pull.access?.password ?? "");
}

function plainHttp(pull: OciPull): string[] {
  return pull.access?.plainHttp === true ? ["--plain-http"] : [];
}

async function helmRun(run: HelmRun, args: Argv, stdin: string): Promise<void> {
  const result = await runTool(run.helm, args, {
    cwd: run.env.HOME, env: run.env, extendEnv: false, input: stdin, reject: false, timeout: run.pull.timeoutMs,
  });
  if (result.exitCode === 0 && !result.timedOut) return;
  const where = `oci://${run.pull.ref}`;
  if (result.timedOut) throw new TetherError("SourceFailed", `helm ${args[0]} ${where} did not finish within ${run.pull.timeoutMs / 1000}s; retrying`, { object: where, retryable: true });
  const message = scrubPaths(result.stderr, { root: [], scratch: [run.space.dir] }).replace(/^Error: /, "");
  throw new TetherError("SourceFailed", ociHint(message, run.pull), { object: where, retryable: isUnreachable(message) });
}

function isUnreachable(message: string): boolean {
  return /connection refused|no such host|i\/o timeout|TLS handshake timeout|context deadline exceeded|EOF/i.test(message);
}

function ociHint(message: string, pull: OciPull): string {
  if (isUnreachable(message)) return `cannot reach the registry of oci://${pull.ref} (${message}); retrying`;
  if (/not found|manifest unknown|name unknown/i.test(message)) {
    return `oci://${pull.ref}${pull.version ? ` version ${pull.version}` : ""} is not in the registry (${message}): fix spec.source.chart or targetRevision`;
  }
  if (/server gave HTTP response to HTTPS client/i.test(message)) {
    return `the registry of oci://${pull.ref} speaks plain HTTP: set insecureOCIForceHttp: "true" in its repository Secret (${message})`;
  }
  if (/unauthorized|denied|401|403/i.test(message)) {
    const secret = pull.access?.secretName;
    return `the registry refused oci://${pull.ref} (${message}): ${secret === undefined ? "add a repository Secret with type: helm and enableOCI: \"true\"" : `check the credentials in Secret ${secret}`}`;
  }
  return `helm pull oci://${pull.ref} failed: ${message}`;
}
