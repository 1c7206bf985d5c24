// `tether version`: the client's version and, through the API server's service proxy (or --agent-url),
// the version the agent in the cluster reports on `GET /version`.
import { Command, Option } from "commander";
import { CoreV1Api } from "@kubernetes/client-node";
import { AGENT_NAME } from "../../agent/api/install.ts";
import { DEFAULT_NAMESPACE } from "../../agent/api/types.ts";
import { errorMessage } from "../../agent/errors.ts";
import { versionInfo, type VersionInfo } from "../../agent/version/version.ts";
import { EXIT } from "../errors.ts";
import { explainKubeError, kubeOptions, loadKubeConfig, type KubeFlags } from "../kube.ts";
import { serialize } from "../output.ts";
import { parseAgentVersion, versionJson, versionText, type AgentVersion } from "./report.ts";

interface Flags extends KubeFlags {
  readonly client?: boolean;
  readonly agentUrl?: string;
  readonly output: string;
}

async function fromUrl(url: string): Promise<VersionInfo> {
  const target = new URL("version", url.endsWith("/") ? url : `${url}/`);
  const res = await fetch(target, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`${target.href} answered HTTP ${res.status}`);
  return parseAgentVersion(await res.text(), target.href);
}

/** Through `services/https:tether-agent:https/proxy/version`, so it works wherever kubectl does. */
async function fromService(flags: KubeFlags): Promise<{ info: VersionInfo; via: string }> {
  const kc = loadKubeConfig(flags);
  const namespace = flags.namespace ?? DEFAULT_NAMESPACE;
  const via = `Service ${namespace}/${AGENT_NAME}`;
  const core = kc.makeApiClient(CoreV1Api);
  const hint = "an agent started with `tether agent` outside the cluster answers on its --listen address: "
    + "tether version --agent-url http://127.0.0.1:8080";
  // The proxy answers 503 both for a missing Service and for one without a ready pod: ask first which.
  const service = await core.readNamespacedService({ name: AGENT_NAME, namespace }).catch((err: unknown) => {
    if ((err as { code?: unknown }).code === 404) return undefined;
    throw explainKubeError(err, kc);
  });
  if (!service) throw new Error(`${via} does not exist; ${hint}`);
  try {
    const body = await core.connectGetNamespacedServiceProxyWithPath({ name: `https:${AGENT_NAME}:https`, namespace, path: "version" });
    return { info: parseAgentVersion(body, via), via };
  } catch (err) {
    const status = (err as { code?: unknown }).code;
    if (status === 503) throw new Error(`${via} has no ready agent behind it (HTTP 503); ${hint}`, { cause: err });
    throw explainKubeError(err, kc);
  }
}

async function agentVersion(flags: Flags): Promise<AgentVersion> {
  if (flags.client) return { kind: "skipped" };
  try {
    if (flags.agentUrl) return { kind: "found", info: await fromUrl(flags.agentUrl), via: flags.agentUrl };
    return { kind: "found", ...await fromService(flags) };
  } catch (err) {
    return { kind: "unreachable", reason: errorMessage(err) };
  }
}

export function versionCommand(): Command {
  return kubeOptions(new Command("version")
    .description("Print the version of this client and, with a kubeconfig, of the agent in the cluster"), "agent namespace")
    .option("--client", "only the client's version; do not contact the cluster")
    .option("--agent-url <url>", "ask this agent directly (its --listen address) instead of the Service in the cluster")
    .addOption(new Option("-o, --output <format>", "text or json").choices(["text", "json"]).default("text"))
    .addHelpText("after", "\nExamples:\n  tether version\n  tether version --client\n  tether version --agent-url http://127.0.0.1:8080 -o json")
    .action(async (flags: Flags) => {
      const client = versionInfo();
      const agent = await agentVersion(flags);
      if (flags.output === "json") process.stdout.write(serialize(versionJson(client, agent), "json"));
      else process.stdout.write(versionText(client, agent));
      if (agent.kind === "unreachable") process.exitCode = EXIT.failed;
    });
}
