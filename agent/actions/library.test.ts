// Argo CD's resource actions library (resource_customizations/*/*/actions/action_test.yaml) through the
// functions the agent and `tether app actions` use, its scripts given as tether-cm customizations. The
// library is read from a snapshot of the argo-cd repository when this machine has one; CI has none: skipped.
import { describe, expect, it } from "vitest";
import { runActionsLibrary } from "../../test/bench/actions-library.ts";
import { argoCdGitDir, DEFAULT_ARGO_CD_GIT_DIR } from "../../test/bench/health-library.ts";

const gitDir = argoCdGitDir();

describe.skipIf(gitDir === undefined)(`Argo CD's resource actions library (from ${gitDir ?? DEFAULT_ARGO_CD_GIT_DIR})`, () => {
  it("lists only the actions its discovery tests expect, and every action gives its expected output or error", () => {
    const figures = runActionsLibrary(gitDir!);
    expect(figures.discovery.length).toBeGreaterThan(50);
    expect(figures.actions.length).toBeGreaterThan(80);
    expect(figures.discovery.filter((r) => !r.ok)).toEqual([]);
    expect(figures.actions.filter((r) => !r.ok)).toEqual([]);
  }, 300_000);
});

it.runIf(gitDir === undefined)("skips Argo CD's actions library: no argo-cd snapshot on this machine", () => {
  console.log(`skipped: no argo-cd snapshot at ${DEFAULT_ARGO_CD_GIT_DIR} (set ARGO_CD_GIT_DIR to an argo-cd git directory to run it)`);
});
