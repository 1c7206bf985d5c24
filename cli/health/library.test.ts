// Argo CD's resource_customizations library through `tether health`'s function: its health.lua scripts
// as tether-cm customizations must give Argo CD's expected status in >= 98% of the test cases and its
// message in >= 95%. The library is read from a snapshot of the argo-cd repository when this machine has
// one (test/bench/health-library.ts says where); nothing of it is kept here. CI has no network: skipped.
import { describe, expect, it } from "vitest";
import { argoCdGitDir, DEFAULT_ARGO_CD_GIT_DIR, percent, runLibrary } from "../../test/bench/health-library.ts";

const gitDir = argoCdGitDir();

describe.skipIf(gitDir === undefined)(`Argo CD's health library (from ${gitDir ?? DEFAULT_ARGO_CD_GIT_DIR})`, () => {
  it("gives Argo CD's status in >= 98% of its test cases and its message in >= 95%, with the scripts as tether-cm customizations", () => {
    const figures = runLibrary(gitDir!);
    expect(figures.cases).toBeGreaterThan(500);
    expect(percent(figures.lua, (r) => r.status)).toBeGreaterThanOrEqual(98);
    expect(percent(figures.lua, (r) => r.message)).toBeGreaterThanOrEqual(95);
  }, 300_000);
});

it.runIf(gitDir === undefined)("skips Argo CD's health library: no argo-cd snapshot on this machine", () => {
  console.log(`skipped: no argo-cd snapshot at ${DEFAULT_ARGO_CD_GIT_DIR} (set ARGO_CD_GIT_DIR to an argo-cd git directory to run it)`);
});
