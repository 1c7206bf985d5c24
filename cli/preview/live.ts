// `tether preview --kubeconfig`: the head of the tree against what runs. Every Application rendered at
// head is compared with its destination cluster, resolved as the agent resolves it (the kubeconfig's
// cluster for `in-cluster`, a cluster Secret of the agent namespace for any other), so an app for
// another cluster is compared with that cluster. Loaded only when a kubeconfig is given.
import { errorMessage } from "../../agent/errors.ts";
import { inheritSource } from "../../agent/controller/reconcile.ts";
import { cliDestinations, liveChanges } from "../app/live.ts";
import { tetherClient, withCluster, loadKubeConfig, type KubeFlags } from "../kube.ts";
import type { LiveAppChange, LiveComparison } from "./compare.ts";
import type { AppSnapshot } from "./tree.ts";

/** Compares each head snapshot that rendered with its live cluster; apps that did not render are skipped (the preview shows their error). */
export async function compareWithCluster(head: readonly AppSnapshot[], flags: KubeFlags & { namespace: string }): Promise<LiveComparison> {
  const kc = loadKubeConfig(flags);
  const client = tetherClient(flags);
  const destinations = cliDestinations(kc, client);
  const apps: LiveAppChange[] = [];
  let unchanged = 0;
  for (const snapshot of head) {
    if (snapshot.objects === undefined) continue;
    const live = await client.getApplication(snapshot.name);
    // Planned as the agent plans it: the inventory of the live app (what to prune), children inheriting
    // the live parent's source (the root in a preview has no URL of its own).
    const app = { ...snapshot.app, ...(live?.status ? { status: live.status } : {}) };
    const planned = (snapshot.planned ?? []).map((p) => {
      const [inherited] = inheritSource([{ manifest: p.manifest, file: "", decrypted: false }], live ?? snapshot.app);
      return inherited ? { ...p, manifest: inherited.manifest } : p;
    });
    const where = snapshot.app.spec.destination.name ?? snapshot.app.spec.destination.server ?? "in-cluster";
    try {
      const destination = await destinations.resolve(snapshot.app.spec.destination);
      const changes = await withCluster(destination.kc, () => liveChanges(app, { planned, rendered: snapshot.rendered ?? [] }, destination.cluster));
      if (changes.length === 0 && live) {
        unchanged++;
        continue;
      }
      apps.push({
        name: snapshot.name, destination: destination.name, exists: live !== undefined,
        objects: changes.map((c) => ({ ...c, diff: c.diff.replace(/\n\+\+\+ desired\//, "\n+++ head/") })), errors: [],
      });
    } catch (err) {
      apps.push({ name: snapshot.name, destination: where, exists: live !== undefined, objects: [], errors: [`not compared with the cluster: ${errorMessage(err)}`] });
    }
  }
  return { context: kc.getCurrentContext(), apps, unchanged };
}
