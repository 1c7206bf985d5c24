import { readFile, readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { argv, gitRevArgv } from "./exec.ts";

const ROOT = join(import.meta.dirname, "..");

/** Every source file of the agent and the CLI (tests and test data aside): what runs in `tether`. */
async function sources(dir = ROOT, top = true): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (top && !(entry.isDirectory() && (entry.name === "agent" || entry.name === "cli"))) continue;
    if (entry.isDirectory() && entry.name !== "testdata" && entry.name !== "node_modules") files.push(...await sources(path, false));
    else if (/\.(ts|cjs|js)$/.test(entry.name) && !entry.name.endsWith(".test.ts")) files.push(path);
  }
  return files;
}

/** What starts a program in a source file, besides agent/exec.ts's own functions. */
const STARTS_A_PROGRAM: readonly [string, RegExp][] = [
  ["imports execa", /from\s+["']execa["']/],
  ["imports child_process", /["'](node:)?child_process["']/],
  ["runs a git command through simple-git's raw()", /\.raw\(/],
  ["uses simple-git's commands that take users' arguments", /\.(fetch|clone|revparse|listRemote|checkout|show|log)\(\s*\[/],
  ["pipes into a program by name", /\.pipe\(\s*["'`]/],
];

describe("every external program gets `--` before users' arguments", () => {
  it("builds options, then the end of options, then positionals", () => {
    expect(argv({ options: ["template", "--include-crds"], positionals: ["--set=x", "/chart"] }))
      .toEqual(["template", "--include-crds", "--", "--set=x", "/chart"]);
    expect(argv({ options: ["decrypt"] })).toEqual(["decrypt", "--"]);
    expect(gitRevArgv({ options: ["rev-parse", "--verify"], positionals: ["--output=x^{commit}"] }))
      .toEqual(["rev-parse", "--verify", "--end-of-options", "--output=x^{commit}"]);
  });

  it("starts programs only through agent/exec.ts, whose functions take an Argv (made by argv() alone), in the agent and the CLI", async () => {
    const offenders: string[] = [];
    for (const file of await sources()) {
      const rel = relative(ROOT, file);
      if (rel === "agent/exec.ts") continue;
      const text = await readFile(file, "utf8");
      for (const [what, pattern] of STARTS_A_PROGRAM) if (pattern.test(text)) offenders.push(`${rel} ${what}`);
    }
    expect(offenders, "start programs with runTool/gitRaw from agent/exec.ts and an argv({ options, positionals })").toEqual([]);
  });

  it("finds the call sites it guards (the scan is not vacuous)", async () => {
    const users = [];
    for (const file of await sources()) {
      if (/\b(runTool|gitRaw|runGit)\(/.test(await readFile(file, "utf8"))) users.push(relative(ROOT, file));
    }
    expect(users.sort()).toEqual(expect.arrayContaining([
      "agent/decrypt/sops.ts", "agent/render/chart.ts", "agent/render/helm.ts", "agent/render/jsonnet.ts", "agent/render/kustomize.ts",
      "agent/source/git-source.ts", "agent/source/oci.ts",
      "cli/app/revision.ts", "cli/app/spec.ts", "cli/git/access.ts", "cli/git/commit.ts", "cli/git/workspace.ts",
      "cli/preview/index.ts", "cli/preview/tree.ts", "cli/secret/encrypt.ts", "cli/secret/keygen.ts",
    ]));
  });
});
