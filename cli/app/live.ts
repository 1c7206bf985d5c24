// The cluster side of `tether app diff` and `tether preview --kubeconfig`: which cluster an app deploys
// to (the agent's own or one of its cluster Secrets, as the agent resolves it) and how its objects
// there differ from what Git renders. Secret values are masked by unifiedDiff.
import type { KubeConfig } from "@kubernetes/client-node";
import type { TetherClient } from "../../agent/api/client.ts";
import type { Application, ResourceIgnoreDifferences } from "../../agent/api/types.ts";
import { KubeCluster, type Cluster } from "../../agent/apply/cluster.ts";
import { CLUSTER_SECRET_LABELS, Destinations } from "../../agent/apply/destinations.ts";
import { displayRef, inventoryOf, staleEntries } from "../../agent/apply/inventory.ts";
import type { PlannedObject } from "../../agent/apply/plan.ts";
import type { RenderedObject } from "../../agent/render/types.ts";
import { compare, decryptedIn, unifiedDiff } from "../../agent/diff/index.ts";

/** One object that differs between Git and the cluster. */
export interface LiveChange {
  /** `Kind/namespace/name`. */
  readonly object: string;
  /** `added`: Git has it, the cluster not; `removed`: the app applied it, Git dropped it (the next sync with prune deletes it). */
  readonly change: "added" | "removed" | "changed";
  /** Unified diff from the cluster (`---`) to Git (`+++`), Secret values masked. */
  readonly diff: string;
}

/**
 * The destinations as the agent resolves them: the kubeconfig's cluster is the agent's own
 * (`https://kubernetes.default.svc`, `in-cluster`), any other comes from the cluster Secrets of the
 * agent namespace, read with the caller's credentials.
 */
export function cliDestinations(kc: KubeConfig, client: TetherClient): Destinations {
  return new Destinations({
    local: { kc, cluster: new KubeCluster(kc) },
    listSecrets: async () => (await Promise.all(CLUSTER_SECRET_LABELS.map((l) => client.listSecrets(l)))).flat(),
  });
}

/**
 * How `cluster` differs from the pipeline's `planned` objects for `app` (the inventory in its status names what it
 * applied before); `rendered` marks what was decrypted, masked whatever its kind.
 */
export async function liveChanges(app: Application, desired: {
  planned: readonly PlannedObject[]; rendered: readonly RenderedObject[];
  /** The pipeline's rules (the app's and tether-cm's); the app's own when absent. */
  ignoreDifferences?: readonly ResourceIgnoreDifferences[];
}, cluster: Cluster): Promise<LiveChange[]> {
  const { planned } = desired;
  const ignoreDifferences = desired.ignoreDifferences ?? app.spec.ignoreDifferences ?? [];
  const decrypted = decryptedIn(desired.rendered);
  const out: LiveChange[] = [];
  for (const obj of planned) {
    const live = await cluster.get(obj.ref);
    if (live && compare({ desired: obj.manifest, live, ignoreDifferences }).status === "Synced") continue;
    // What the server would store (defaults filled in) is what should be compared with what it stores.
    const predicted = live ? await cluster.apply(obj.manifest, { dryRun: true }) : undefined;
    const result = compare({ desired: obj.manifest, live, ignoreDifferences, ...(predicted ? { predicted } : {}) });
    if (result.status === "OutOfSync") {
      out.push({ object: displayRef(obj.ref), change: live ? "changed" : "added", diff: unifiedDiff(result.target, result.live, displayRef(obj.ref), { decrypted: decrypted(obj.manifest) }) });
    }
  }
  for (const ref of staleEntries(inventoryOf(app.status), planned.map((o) => o.ref))) {
    const live = await cluster.get(ref);
    if (live) out.push({ object: displayRef(ref), change: "removed", diff: unifiedDiff(undefined, live, `${displayRef(ref)} (left Git; pruned by the next sync with prune)`) });
  }
  return out;
}
