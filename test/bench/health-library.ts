// `npx tsx test/bench/health-library.ts [ARGO_CD_GIT_DIR]`: runs `tether health`'s own function over
// every test case of Argo CD's resource_customizations library (its health_test.yaml files) and prints
// how often Tether gives Argo CD's expected status and message:
//   - with the library's health.lua scripts given as the user's customization (a tether-cm holding
//     every script as resource.customizations.health.<group>_<kind>, with useOpenLibs as Argo CD gives
//     its built-ins; wildcard folders such as _.crossplane.io/_ become *.crossplane.io_* keys);
//   - with Tether's built-in rules alone, no Lua.
// Nothing of Argo CD is kept in this repository: the library is read from a snapshot of the argo-cd git
// repository (a bare git directory; default the one the session's fetch leaves, or $ARGO_CD_GIT_DIR).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { objectsOf } from "../../cli/health/assess.ts";
import { explainHealth, healthRules, NO_RULES, type HealthRules } from "../../agent/health/index.ts";
import { parseSettings } from "../../agent/settings/index.ts";

export const DEFAULT_ARGO_CD_GIT_DIR = "/work/.mirror/argoproj+argo-cd/repo";

export interface LibraryCase {
  /** `group/Kind/testdata/file.yaml` */
  readonly id: string;
  readonly text: string;
  readonly expected: { readonly status?: string; readonly message?: string };
}

export interface CaseResult {
  readonly id: string;
  readonly expected: LibraryCase["expected"];
  readonly got: { readonly status: string; readonly message?: string; readonly rule?: string };
  readonly status: boolean;
  readonly message: boolean;
}

export interface LibraryFigures {
  readonly commit: string;
  readonly cases: number;
  readonly lua: readonly CaseResult[];
  readonly builtIn: readonly CaseResult[];
  readonly msPerCase: number;
}

/** Where the argo-cd snapshot is, or undefined when this machine has none (CI has no network). */
export function argoCdGitDir(): string | undefined {
  const dir = process.env.ARGO_CD_GIT_DIR ?? DEFAULT_ARGO_CD_GIT_DIR;
  return existsSync(dir) ? dir : undefined;
}

/** Extracts resource_customizations/ at HEAD into a temporary directory; the caller removes it. */
function extract(gitDir: string): { dir: string; commit: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tether-argo-rc-"));
  const commit = execFileSync("git", ["--git-dir", gitDir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  const tar = execFileSync("git", ["--git-dir", gitDir, "archive", "--format=tar", "HEAD", "--", "resource_customizations"], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync("tar", ["-x", "-C", dir], { input: tar });
  return { dir: path.join(dir, "resource_customizations"), commit };
}

function walk(dir: string, found: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, found);
    else if (e.name === "health_test.yaml") found.push(dir);
  }
  return found;
}

/** health_test.yaml's keys are read case-insensitively, as Go's JSON decoding of it does (`inputpath` occurs). */
function lowerKeys(value: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries((value ?? {}) as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Every case of the library, and the tether-cm data that holds every script as a user customization. */
export function readLibrary(root: string): { cases: LibraryCase[]; config: Record<string, string> } {
  const cases: LibraryCase[] = [];
  const config: Record<string, string> = {};
  for (const dir of walk(root).sort()) {
    const rel = path.relative(root, dir);
    const [group, kind] = rel.split(path.sep).map((p) => p.replaceAll("_", "*")) as [string, string];
    config[`resource.customizations.health.${group}_${kind}`] = readFileSync(path.join(dir, "health.lua"), "utf8");
    config[`resource.customizations.useOpenLibs.${group}_${kind}`] = "true";
    const tests = lowerKeys(parse(readFileSync(path.join(dir, "health_test.yaml"), "utf8"))).tests as unknown[];
    for (const t of tests) {
      const test = lowerKeys(t);
      const input = String(test.inputpath);
      const expected = lowerKeys(test.healthstatus) as LibraryCase["expected"];
      cases.push({ id: `${rel}/${input}`, text: readFileSync(path.join(dir, input), "utf8"), expected });
    }
  }
  return { cases, config };
}

/** One case through the function `tether health` and the agent use, with `rules` as tether-cm's customizations. */
function judge(c: LibraryCase, rules: HealthRules): CaseResult {
  let got: CaseResult["got"];
  try {
    const obj = objectsOf(c.id, c.text)[0];
    if (obj === undefined) got = { status: "none", message: "no object in the file" };
    else {
      const { result, rule } = explainHealth(obj, { rules });
      got = { status: result.status, ...(result.message ? { message: result.message } : {}), rule };
    }
  } catch (err) {
    got = { status: "error", message: (err as Error).message.split("\n")[0] ?? "" };
  }
  return {
    id: c.id, expected: c.expected, got,
    status: got.status === c.expected.status,
    message: (got.message ?? "") === (c.expected.message ?? ""),
  };
}

/** Runs every case twice: with the library's Lua as tether-cm customizations, and with the built-ins alone. */
export function runLibrary(gitDir: string): LibraryFigures {
  const { dir, commit } = extract(gitDir);
  try {
    const { cases, config } = readLibrary(dir);
    const parsed = parseSettings(config);
    if (parsed.problems.length > 0) throw new Error(`tether-cm of the library: ${JSON.stringify(parsed.problems)}`);
    const { rules } = healthRules(parsed.settings);
    const started = performance.now();
    const lua = cases.map((c) => judge(c, rules));
    const msPerCase = (performance.now() - started) / Math.max(1, cases.length);
    const builtIn = cases.map((c) => judge(c, NO_RULES));
    return { commit, cases: cases.length, lua, builtIn, msPerCase };
  } finally {
    rmSync(path.dirname(dir), { recursive: true, force: true });
  }
}

export function percent(results: readonly CaseResult[], pick: (r: CaseResult) => boolean): number {
  return results.length === 0 ? 0 : (100 * results.filter(pick).length) / results.length;
}

function report(f: LibraryFigures): string {
  const pct = (rs: readonly CaseResult[], p: (r: CaseResult) => boolean) => `${percent(rs, p).toFixed(1)}% (${rs.filter(p).length}/${rs.length})`;
  const covered = f.builtIn.filter((r) => r.got.rule === "built-in");
  const lines = [
    `argo-cd ${f.commit.slice(0, 10)}: ${f.cases} cases in resource_customizations/**/health_test.yaml`,
    `with the library's health.lua as tether-cm customizations: status ${pct(f.lua, (r) => r.status)}, message ${pct(f.lua, (r) => r.message)}; ${f.msPerCase.toFixed(2)} ms per case`,
    `built-in rules alone (no Lua), all cases: status ${pct(f.builtIn, (r) => r.status)}, message ${pct(f.builtIn, (r) => r.message)}`,
    `built-in rules alone, kinds with a Tether built-in check (${covered.length} cases): status ${pct(covered, (r) => r.status)}, message ${pct(covered, (r) => r.message)}`,
    "",
    "cases that differ with Lua (expected → got):",
    ...f.lua.filter((r) => !r.status || !r.message).map((r) => `  ${r.id}: ${r.expected.status ?? ""} "${r.expected.message ?? ""}" → ${r.got.status} "${r.got.message ?? ""}"`),
    "",
    "built-in checks whose status differs from Argo CD's script (expected → got):",
    ...covered.filter((r) => !r.status).map((r) => `  ${r.id}: ${r.expected.status ?? ""} "${r.expected.message ?? ""}" → ${r.got.status} "${r.got.message ?? ""}"`),
  ];
  return `${lines.join("\n")}\n`;
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  const gitDir = process.argv[2] ?? argoCdGitDir();
  if (gitDir === undefined) {
    process.stderr.write(`no argo-cd snapshot at ${DEFAULT_ARGO_CD_GIT_DIR}; pass the path of an argo-cd git directory or set ARGO_CD_GIT_DIR\n`);
    process.exit(2);
  }
  process.stdout.write(report(runLibrary(gitDir)));
}
