// Rendering on the agent for `tether app diff` and `tether preview`: the agent has the tools (helm,
// kustomize, sops and its keys), the repository credentials and the destination's Helm capabilities, so
// what it renders is what it applies. Asked through its API (`--agent-url` or $TETHER_AGENT_URL) with a
// bearer token the agent accepts (`--auth-token`, $TETHER_AUTH_TOKEN, or the kubeconfig user's token);
// answers come back masked. An agent that cannot be reached is not an error: the caller renders here.
import http from "node:http";
import https from "node:https";
import type { Manifest } from "../../agent/api/types.ts";
import type { AppSummary, ObjectDiffView } from "../../agent/ui/view.ts";
import type { RenderOverrides } from "../../agent/ui/render.ts";

export interface AgentFlags {
  readonly agentUrl?: string;
  readonly authToken?: string;
}

export interface AgentEndpoint {
  readonly url: string;
  readonly token: string;
}

/** How to point a command at the agent, for notes and help texts. */
export const AGENT_HINT = "--agent-url URL --auth-token TOKEN (or $TETHER_AGENT_URL and $TETHER_AUTH_TOKEN)";

/** The agent to render on, or why there is none (the note the fallback prints). */
export function agentEndpoint(flags: AgentFlags, kubeToken?: string, env: NodeJS.ProcessEnv = process.env): AgentEndpoint | { readonly none: string } {
  const url = flags.agentUrl ?? env.TETHER_AGENT_URL;
  if (!url) return { none: `no agent given (${AGENT_HINT})` };
  const token = flags.authToken ?? env.TETHER_AUTH_TOKEN ?? kubeToken;
  if (!token) return { none: `no token for the agent at ${url}: pass --auth-token or set $TETHER_AUTH_TOKEN (a ServiceAccount token, or a project role's)` };
  return { url: url.replace(/\/+$/, ""), token };
}

/** The agent could not be reached at all (refused, timed out, TLS): the caller falls back to rendering here. */
export class AgentUnreachable extends Error {}

/** The agent answered with an error (a render failure, a refusal): its message, with the HTTP status. */
export class AgentRefused extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const TIMEOUT_MS = 120_000;

/** GET `/api/v1/<path>` on the agent as JSON. */
export async function agentGet<T>(ep: AgentEndpoint, path: string): Promise<T> {
  const target = new URL(`${ep.url}/api/v1/${path}`);
  const lib = target.protocol === "https:" ? https : http;
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = lib.request(target, { method: "GET", headers: { authorization: `Bearer ${ep.token}`, accept: "application/json" }, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer in ${TIMEOUT_MS / 1000}s`)));
    req.on("error", (err) => reject(new AgentUnreachable(`the agent at ${ep.url} cannot be reached (${err.message})`)));
    req.end();
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new AgentUnreachable(`${ep.url} did not answer as a Tether agent (HTTP ${status}, not JSON); is --agent-url the agent's address?`);
  }
  if (status >= 400) throw new AgentRefused(status, `the agent at ${ep.url} answered HTTP ${status}: ${(parsed as { message?: string }).message ?? body}`);
  return parsed as T;
}

function query(overrides: RenderOverrides): string {
  const q = new URLSearchParams();
  if (overrides.revision) q.set("revision", overrides.revision);
  if (overrides.source) q.set("source", JSON.stringify(overrides.source));
  const text = q.toString();
  return text ? `?${text}` : "";
}

/** The app's diff as the agent computes it (its render, the live objects read as the app's writer). */
export async function agentDiff(ep: AgentEndpoint, name: string, overrides: RenderOverrides = {}): Promise<ObjectDiffView[]> {
  return (await agentGet<{ items: ObjectDiffView[] }>(ep, `applications/${encodeURIComponent(name)}/diff${query(overrides)}`)).items;
}

/** The app's manifests as the agent renders them, masked: as it would apply them (`items`) and as rendered. */
export async function agentManifests(ep: AgentEndpoint, name: string, overrides: RenderOverrides = {}): Promise<{ items: Manifest[]; rendered: Manifest[] }> {
  return await agentGet<{ items: Manifest[]; rendered: Manifest[] }>(ep, `applications/${encodeURIComponent(name)}/manifests${query(overrides)}`);
}

/** The Application as the agent's API summarizes it, or undefined when it has none of that name. */
export async function agentApplication(ep: AgentEndpoint, name: string): Promise<AppSummary | undefined> {
  try {
    return await agentGet<AppSummary>(ep, `applications/${encodeURIComponent(name)}`);
  } catch (err) {
    if (err instanceof AgentRefused && err.status === 404) return undefined;
    throw err;
  }
}

/**
 * A render error of a tool this machine lacks, said as the fix: where to get it, or how to render on
 * the agent instead. Other errors are returned as they are.
 */
export function missingToolHint(err: unknown): unknown {
  const message = err instanceof Error ? err.message : String(err);
  const tool = /\b(helm|kustomize|sops|git)\b is not installed/.exec(message)?.[1];
  if (tool === undefined) return err;
  const where: Record<string, string> = {
    helm: "https://helm.sh/docs/intro/install/", kustomize: "https://kubectl.docs.kubernetes.io/installation/kustomize/",
    sops: "https://github.com/getsops/sops/releases", git: "https://git-scm.com/downloads",
  };
  return new Error(`${tool} was not found on PATH, and this app needs it to render here: install it (${where[tool] ?? ""}), `
    + `run \`npm run tools\` in a Tether checkout, or let the agent render: ${AGENT_HINT}`, { cause: err });
}
