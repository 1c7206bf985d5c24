// The diff view: the objects Git wants against the live ones, one unified diff per object that
// differs, Secret values masked. The same source, render and plan stages as `tether app diff`.
import type { TetherClient } from "../api/client.ts";
import type { Application } from "../api/types.ts";
import type { Cluster } from "../apply/cluster.ts";
import { displayRef, refKey, staleEntries } from "../apply/inventory.ts";
import { clientBuildDeps } from "../controller/build.ts";
import { RenderCache } from "../controller/memo.ts";
import { fetchAndRender, planDesired, type SourceStage } from "../controller/reconcile.ts";
import { compare, decryptedIn, unifiedDiff } from "../diff/index.ts";
import { renderApplication } from "../render/application.ts";
import type { ObjectDiffView } from "./view.ts";

export interface DiffDeps {
  readonly client: TetherClient;
  readonly cluster: Cluster;
  readonly source: SourceStage;
  readonly renderCache: RenderCache;
  /** Where fetched charts are kept (the agent's cache directory). */
  readonly cacheDir: string;
}

export function newRenderCache(): RenderCache {
  return new RenderCache();
}

/** Every object that differs between Git and the cluster; `[]` when the cluster equals Git. */
export async function objectDiffs(app: Application, deps: DiffDeps): Promise<ObjectDiffView[]> {
  const desired = await fetchAndRender({ app }, clientBuildDeps({
    client: deps.client, source: deps.source, render: renderApplication, renderCache: deps.renderCache, cacheDir: deps.cacheDir,
  }));
  const planned = await planDesired(app, desired, deps.cluster);
  const ignoreDifferences = app.spec.ignoreDifferences ?? [];
  const decrypted = decryptedIn(desired.rendered);
  const out: ObjectDiffView[] = [];
  for (const obj of planned) {
    const live = await deps.cluster.get(obj.ref);
    if (live && compare({ desired: obj.manifest, live, ignoreDifferences }).status === "Synced") continue;
    // What the server would store (defaults filled in) is what should be compared with what it stores.
    const predicted = live ? await deps.cluster.apply(obj.manifest, { dryRun: true }) : undefined;
    const result = compare({ desired: obj.manifest, live, ignoreDifferences, ...(predicted ? { predicted } : {}) });
    if (result.status !== "OutOfSync") continue;
    const name = displayRef(obj.ref);
    out.push({ key: refKey(obj.ref), name, diff: unifiedDiff(result.target, result.live, name, { decrypted: decrypted(obj.manifest) }), change: live ? "update" : "create" });
  }
  for (const ref of staleEntries(app.status?.inventory ?? [], planned.map((o) => o.ref))) {
    const live = await deps.cluster.get(ref);
    if (live) out.push({ key: refKey(ref), name: displayRef(ref), diff: unifiedDiff(undefined, live, displayRef(ref)), change: "prune" });
  }
  return out;
}
