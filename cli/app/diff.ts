// `tether app diff`: the same source, render and plan stages as the agent, run here with the
// caller's credentials, then a unified diff per object that differs. Secret values are masked.
import os from "node:os";
import path from "node:path";
import type { TetherClient } from "../../agent/api/client.ts";
import type { Application } from "../../agent/api/types.ts";
import { KubeCluster } from "../../agent/apply/cluster.ts";
import { displayRef, staleEntries } from "../../agent/apply/inventory.ts";
import { clientBuildDeps } from "../../agent/controller/build.ts";
import { RenderCache } from "../../agent/controller/memo.ts";
import { fetchAndRender, planDesired } from "../../agent/controller/reconcile.ts";
import { compare, unifiedDiff } from "../../agent/diff/index.ts";
import { renderApplication } from "../../agent/render/application.ts";
import { GitSource } from "../../agent/source/index.ts";
import { loadKubeConfig, type KubeFlags } from "../kube.ts";

export interface DiffOptions {
  readonly client: TetherClient;
  readonly flags: KubeFlags;
  readonly cacheDir?: string;
}

/** The diff text; empty when the cluster equals Git. */
export async function diffApplication(app: Application, opts: DiffOptions): Promise<string> {
  const cluster = new KubeCluster(loadKubeConfig(opts.flags));
  const cacheDir = opts.cacheDir ?? path.join(os.homedir(), ".cache", "tether", "repos");
  const source = new GitSource({ cacheDir, credentials: (url) => opts.client.repoCredentials(url) });
  const desired = await fetchAndRender({ app }, clientBuildDeps({ client: opts.client, source, render: renderApplication, renderCache: new RenderCache(), cacheDir }));
  const planned = await planDesired(app, desired, cluster);
  const ignoreDifferences = app.spec.ignoreDifferences ?? [];
  const parts: string[] = [];
  for (const obj of planned) {
    const live = await cluster.get(obj.ref);
    if (live && compare({ desired: obj.manifest, live, ignoreDifferences }).status === "Synced") continue;
    // What the server would store (defaults filled in) is what should be compared with what it stores.
    const predicted = live ? await cluster.apply(obj.manifest, { dryRun: true }) : undefined;
    const result = compare({ desired: obj.manifest, live, ignoreDifferences, ...(predicted ? { predicted } : {}) });
    if (result.status === "OutOfSync") parts.push(unifiedDiff(result.target, result.live, displayRef(obj.ref)));
  }
  for (const ref of staleEntries(app.status?.inventory ?? [], planned.map((o) => o.ref))) {
    const live = await cluster.get(ref);
    if (live) parts.push(unifiedDiff(undefined, live, `${displayRef(ref)} (left Git; pruned by the next sync with prune)`));
  }
  return parts.join("");
}
