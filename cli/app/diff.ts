// `tether app diff`: the same source, render and plan stages as the agent, run here with the
// caller's credentials, then a unified diff per object that differs. Secret values are masked.
import os from "node:os";
import path from "node:path";
import type { TetherClient } from "../../agent/api/client.ts";
import type { Application } from "../../agent/api/types.ts";
import { clientBuildDeps } from "../../agent/controller/build.ts";
import { RenderCache } from "../../agent/controller/memo.ts";
import { fetchAndRender } from "../../agent/controller/reconcile.ts";
import { renderApplication } from "../../agent/render/application.ts";
import { GitSource } from "../../agent/source/index.ts";
import { loadKubeConfig, type KubeFlags } from "../kube.ts";
import { cliDestinations, liveChanges } from "./live.ts";

export interface DiffOptions {
  readonly client: TetherClient;
  readonly flags: KubeFlags;
  readonly cacheDir?: string;
}

/** The diff text; empty when the cluster equals Git. The app's destination cluster is resolved as the agent resolves it. */
export async function diffApplication(app: Application, opts: DiffOptions): Promise<string> {
  const destination = await cliDestinations(loadKubeConfig(opts.flags), opts.client).resolve(app.spec.destination);
  const cacheDir = opts.cacheDir ?? path.join(os.homedir(), ".cache", "tether", "repos");
  const source = new GitSource({ cacheDir, credentials: (url) => opts.client.repoCredentials(url) });
  const desired = await fetchAndRender({ app }, clientBuildDeps({ client: opts.client, source, render: renderApplication, renderCache: new RenderCache(), cacheDir }));
  return (await liveChanges(app, desired, destination.cluster)).map((c) => c.diff).join("");
}
