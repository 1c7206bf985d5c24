// `tether app diff`: rendered where the agent renders when an agent is reachable (its API: its tools, keys,
// repository credentials and the destination's Helm capabilities), else here: the agent's one pipeline
// (fetch, render, guard, plan: controller/pipeline.ts) with the caller's credentials, then a unified diff
// per object that differs. Secret values and what SOPS decrypted are masked either way.
import os from "node:os";
import path from "node:path";
import type { TetherClient } from "../../agent/api/client.ts";
import type { Application } from "../../agent/api/types.ts";
import { clientPipelineDeps } from "../../agent/controller/build.ts";
import { RenderCache } from "../../agent/controller/memo.ts";
import { desiredState } from "../../agent/controller/pipeline.ts";
import { GitSource } from "../../agent/source/index.ts";
import { withOverrides, type RenderOverrides } from "../../agent/ui/render.ts";
import { loadKubeConfig, type KubeFlags } from "../kube.ts";
import { cliDestinations, liveChanges } from "./live.ts";
import { agentDiff, agentEndpoint, AgentUnreachable, missingToolHint, type AgentFlags } from "./remote.ts";

export interface DiffOptions {
  readonly client: TetherClient;
  readonly flags: KubeFlags & AgentFlags;
  readonly cacheDir?: string;
  /** `--allow-local-repos`: file:// and plain-path repoURLs are refused without it, as the agent refuses them. */
  readonly allowLocalRepos?: boolean;
  /** `--revision`: render the app at another branch, tag or commit (Argo CD's `argocd app diff --revision`). */
  readonly overrides?: RenderOverrides;
  /** Where the note goes that says where it rendered (stderr: stdout is the diff). */
  readonly note?: (line: string) => void;
  /** Render here even when an agent is given (`--local`). */
  readonly local?: boolean;
}

/** The diff text; empty when the cluster equals Git. The app's destination cluster is resolved as the agent resolves it. */
export async function diffApplication(app: Application, opts: DiffOptions): Promise<string> {
  const note = opts.note ?? (() => undefined);
  const name = app.metadata?.name ?? "";
  const ep = opts.local ? { none: "--local" } : agentEndpoint(opts.flags, loadKubeConfig(opts.flags).getCurrentUser()?.token);
  if ("url" in ep) {
    try {
      const items = await agentDiff(ep, name, opts.overrides);
      note(`rendered by the agent at ${ep.url}`);
      return items.map((i) => i.diff).join("");
    } catch (err) {
      if (!(err instanceof AgentUnreachable)) throw err;
      note(`${err.message}; rendering on this machine`);
    }
  } else note(`rendering on this machine: ${ep.none}`);
  return await localDiff(withOverrides(app, opts.overrides ?? {}), opts).catch((err: unknown) => {
    throw missingToolHint(err);
  });
}

async function localDiff(app: Application, opts: DiffOptions): Promise<string> {
  const cacheDir = opts.cacheDir ?? path.join(os.homedir(), ".cache", "tether", "repos");
  const allowLocalRepos = opts.allowLocalRepos ?? false;
  const source = new GitSource({ cacheDir, allowLocal: allowLocalRepos, credentials: (url) => opts.client.repoCredentials(url) });
  const state = await desiredState({ app }, {
    ...clientPipelineDeps({ client: opts.client, source, renderCache: new RenderCache(), cacheDir, allowLocalRepos }),
    destinations: cliDestinations(loadKubeConfig(opts.flags), opts.client),
  });
  // Read as the caller (their own RBAC decides what they see), not as the project's ServiceAccount they may not impersonate.
  return (await liveChanges(app, { planned: state.planned, rendered: state.desired.rendered, ignoreDifferences: state.ignoreDifferences }, state.destination!.cluster)).map((c) => c.diff).join("");
}
