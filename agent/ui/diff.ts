// The diff view: the objects Git wants against the live ones, one unified diff per object that
// differs, Secret values masked. The objects come from the one pipeline (controller/pipeline.ts):
// the project's rules, local-repository refusal and render limits hold here as in the reconcile, and
// the live side is read on the app's destination cluster as the identity the app writes with.
import type { Application, Manifest } from "../api/types.ts";
import { displayRef, inventoryOf, refKey, staleEntries } from "../apply/inventory.ts";
import { RenderCache } from "../controller/memo.ts";
import { desiredState, type PipelineDeps } from "../controller/pipeline.ts";
import { compare, decryptedIn, maskForView, unifiedDiff } from "../diff/index.ts";
import type { ObjectDiffView } from "./view.ts";

export interface DiffDeps {
  /** The pipeline as the agent runs it, with the destinations apps deploy to. */
  readonly pipeline: PipelineDeps;
}

export function newRenderCache(): RenderCache {
  return new RenderCache();
}

/** Every object that differs between Git and the cluster; `[]` when the cluster equals Git. */
export async function objectDiffs(app: Application, deps: DiffDeps): Promise<ObjectDiffView[]> {
  const state = await desiredState({ app }, deps.pipeline);
  // Reads and dry-runs as the app's writer: an impersonating project's ServiceAccount sees what it may touch, no more.
  const cluster = state.writer;
  if (!cluster) throw new Error("internal: the UI's pipeline has no destinations");
  const { ignoreDifferences } = state;
  const decrypted = decryptedIn(state.desired.rendered);
  const out: ObjectDiffView[] = [];
  for (const obj of state.planned) {
    const live = await cluster.get(obj.ref);
    if (live && compare({ desired: obj.manifest, live, ignoreDifferences }).status === "Synced") continue;
    // What the server would store (defaults filled in) is what should be compared with what it stores.
    const predicted = live ? await cluster.apply(obj.manifest, { dryRun: true }) : undefined;
    const result = compare({ desired: obj.manifest, live, ignoreDifferences, ...(predicted ? { predicted } : {}) });
    if (result.status !== "OutOfSync") continue;
    const name = displayRef(obj.ref);
    out.push({ key: refKey(obj.ref), name, diff: unifiedDiff(result.target, result.live, name, { decrypted: decrypted(obj.manifest) }), change: live ? "update" : "create" });
  }
  for (const ref of staleEntries(inventoryOf(app.status), state.planned.map((o) => o.ref))) {
    const live = await cluster.get(ref);
    if (live) out.push({ key: refKey(ref), name: displayRef(ref), diff: unifiedDiff(undefined, live, displayRef(ref)), change: "prune" });
  }
  return out;
}

/**
 * What the pipeline renders for the app, masked as every view masks them: `items` as it would apply them
 * (placed, tracked, hooks included), `rendered` as the renderers made them (what `tether preview` compares).
 */
export async function renderedManifests(app: Application, deps: DiffDeps): Promise<{ revisions: readonly string[]; items: Manifest[]; rendered: Manifest[] }> {
  const state = await desiredState({ app }, deps.pipeline);
  const decrypted = decryptedIn(state.desired.rendered);
  const masked = (m: Manifest) => maskForView([m], { decrypted: decrypted(m) })[0] ?? m;
  return { revisions: state.desired.revisions, items: state.planned.map((o) => masked(o.manifest)), rendered: state.desired.rendered.map((r) => masked(r.manifest)) };
}
