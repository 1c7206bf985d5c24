// `tether app diff`: the agent's one pipeline (fetch, render, guard, plan: controller/pipeline.ts)
// run here with the caller's credentials, then a unified diff per object that differs. Secret values are masked.
import os from "node:os";
import path from "node:path";
import type { TetherClient } from "../../agent/api/client.ts";
import type { Application } from "../../agent/api/types.ts";
import { clientPipelineDeps } from "../../agent/controller/build.ts";
import { RenderCache } from "../../agent/controller/memo.ts";
import { desiredState } from "../../agent/controller/pipeline.ts";
import { GitSource } from "../../agent/source/index.ts";
import { loadKubeConfig, type KubeFlags } from "../kube.ts";
import { cliDestinations, liveChanges } from "./live.ts";

export interface DiffOptions {
  readonly client: TetherClient;
  readonly flags: KubeFlags;
  readonly cacheDir?: string;
  /** `--allow-local-repos`: file:// and plain-path repoURLs are refused without it, as the agent refuses them. */
  readonly allowLocalRepos?: boolean;
}

/** The diff text; empty when the cluster equals Git. The app's destination cluster is resolved as the agent resolves it. */
export async function diffApplication(app: Application, opts: DiffOptions): Promise<string> {
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
