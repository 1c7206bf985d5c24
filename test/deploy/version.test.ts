// `tether version` against the real API server: the client's version always, and why the agent's is
// unknown when the namespace has no agent Service. (The agent's own answer is checked through
// --agent-url in bootstrap.test.ts.)
import { describe, expect, it } from "vitest";
import { VERSION } from "../../agent/version/version.ts";
import { cli } from "../support/agent.ts";
import { kube } from "../support/kube.ts";

const { kubeconfigPath } = kube();

describe("tether version", () => {
  it("says why the agent's version is unknown when the namespace has no agent Service, and exits 1", async () => {
    const run = await cli(["version", "-n", "tether-e2e-no-agent"], { kubeconfig: kubeconfigPath });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^client: tether ${VERSION} \\(commit [0-9a-f]{12}`, "m"));
    expect(run.stdout).toContain("Service tether-e2e-no-agent/tether-agent does not exist");
    expect(run.stdout).toContain("--agent-url");
  });

  it("prints only the client with --client, without a cluster", async () => {
    const run = await cli(["version", "--client"], { kubeconfig: "/nonexistent" });
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
  });
});
