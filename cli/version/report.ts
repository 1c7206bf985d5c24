// What `tether version` prints: pure, from the client's and the agent's version info.
import type { VersionInfo } from "../../agent/version/version.ts";

/** The agent's answer, or why there is none. */
export type AgentVersion =
  | { readonly kind: "found"; readonly info: VersionInfo; readonly via: string }
  | { readonly kind: "unreachable"; readonly reason: string }
  | { readonly kind: "skipped" };

const line = (info: VersionInfo) =>
  `tether ${info.version} (commit ${info.commit}${info.builtAt ? `, built ${info.builtAt}` : ""}, node ${info.node}, ${info.platform})`;

/** Two lines, `client:` and `agent:`, and a warning when the two versions differ. */
export function versionText(client: VersionInfo, agent: AgentVersion): string {
  const lines = [`client: ${line(client)}`];
  if (agent.kind === "found") {
    lines.push(`agent:  ${line(agent.info)} via ${agent.via}`);
    if (agent.info.version !== client.version) {
      lines.push(`warning: the client (${client.version}) and the agent (${agent.info.version}) differ; `
        + "upgrade one of them so the CLI and the CRDs it expects match");
    }
  } else if (agent.kind === "unreachable") {
    lines.push(`agent:  unknown: ${agent.reason}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The `-o json` value. */
export function versionJson(client: VersionInfo, agent: AgentVersion): object {
  if (agent.kind === "found") return { client, agent: agent.info, agentVia: agent.via };
  if (agent.kind === "unreachable") return { client, agentError: agent.reason };
  return { client };
}

/** Accepts the body of an agent's `GET /version`, or says what was wrong with it. */
export function parseAgentVersion(body: string, from: string): VersionInfo {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Error(`${from} did not answer with JSON (is it a Tether agent?): ${body.slice(0, 80)}`);
  }
  const info = value as Partial<VersionInfo> | null;
  if (typeof info?.version !== "string") throw new Error(`${from} answered without a version field: ${body.slice(0, 80)}`);
  return { version: info.version, commit: String(info.commit ?? "unknown"), node: String(info.node ?? "unknown"),
    platform: String(info.platform ?? "unknown"), ...(typeof info.builtAt === "string" ? { builtAt: info.builtAt } : {}) };
}
