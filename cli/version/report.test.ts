import { describe, expect, it } from "vitest";
import type { VersionInfo } from "../../agent/version/version.ts";
import { parseAgentVersion, versionText } from "./report.ts";

const client: VersionInfo = { version: "0.1.0", commit: "abc123", node: "v20.20.2", platform: "linux/x64" };

describe("tether version", () => {
  it("prints the client and the agent with where the agent answered", () => {
    const text = versionText(client, { kind: "found", info: { ...client, commit: "def456" }, via: "Service tether-system/tether-agent" });
    expect(text).toBe("client: tether 0.1.0 (commit abc123, node v20.20.2, linux/x64)\n"
      + "agent:  tether 0.1.0 (commit def456, node v20.20.2, linux/x64) via Service tether-system/tether-agent\n");
  });

  it("warns when the agent runs another version than the client", () => {
    const text = versionText(client, { kind: "found", info: { ...client, version: "0.2.0" }, via: "http://127.0.0.1:8080" });
    expect(text).toMatch(/warning: the client \(0\.1\.0\) and the agent \(0\.2\.0\) differ/);
  });

  it("says why the agent's version is unknown", () => {
    expect(versionText(client, { kind: "unreachable", reason: "Service tether-system/tether-agent does not exist" }))
      .toContain("agent:  unknown: Service tether-system/tether-agent does not exist");
  });

  it("prints only the client with --client", () => {
    expect(versionText(client, { kind: "skipped" }).trim().split("\n")).toHaveLength(1);
  });

  it("refuses an answer that is not a Tether agent's, naming where it came from", () => {
    expect(() => parseAgentVersion("<html>", "http://x/version")).toThrow(/http:\/\/x\/version did not answer with JSON/);
    expect(() => parseAgentVersion("{}", "http://x/version")).toThrow(/without a version field/);
  });
});
