// Cascading deletion: an Application carrying the resources finalizer takes what it manages with
// it, child Applications first (each cascades in turn); without the finalizer everything stays.
import type { TetherClient } from "../api/client.ts";
import { FINALIZER, GROUP, type Application } from "../api/types.ts";
import type { Cluster } from "../apply/cluster.ts";
import { displayRef, parseRefKey } from "../apply/inventory.ts";
import { trackingId } from "../apply/plan.ts";
import { pruneAll } from "../apply/sync.ts";
import { summarize } from "../apply/changeset.ts";

export interface DeletionDeps {
  /** The cluster the app deployed to. */
  readonly cluster: Cluster;
  /** The agent's own cluster, where child Applications live. */
  readonly local: Cluster;
  readonly client: TetherClient;
  readonly log: (line: string) => void;
}

/** One step of deleting `app`; true once its finalizer is removed, false to be called again later. */
export async function deleteCascade(app: Application, deps: DeletionDeps): Promise<boolean> {
  const name = app.metadata?.name ?? "";
  const finalizers = app.metadata?.finalizers ?? [];
  if (!finalizers.includes(FINALIZER)) return true;
  const refs = (app.status?.inventory ?? []).map(parseRefKey);
  const isChild = (r: { group: string; kind: string }) => r.group === GROUP && r.kind === "Application";
  const waiting: string[] = [];
  for (const child of refs.filter(isChild)) {
    const live = await deps.local.get(child);
    if (!live) continue;
    if (!live.metadata.deletionTimestamp) await deps.local.delete(child);
    waiting.push(displayRef(child));
  }
  if (waiting.length > 0) {
    deps.log(`${name}: deleting; waiting for child applications ${waiting.join(", ")}`);
    return false;
  }
  const appRef = { name, namespace: app.metadata?.namespace ?? "" };
  const { changes, waiting: terminating } = await pruneAll(refs.filter((r) => !isChild(r)).map((ref) => ({ ref })), { cluster: deps.cluster, trackingIdOf: (ref) => trackingId(appRef, ref) });
  if (terminating) {
    deps.log(`${name}: deleting; waiting for ${terminating}`);
    return false;
  }
  if (changes.some((c) => c.action === "failed")) {
    deps.log(`${name}: cascade deletion incomplete: ${summarize(changes)}`);
    return false;
  }
  deps.log(`${name}: deleted with its resources: ${summarize(changes)}`);
  await deps.client.patchApplication(name, [
    { op: "test", path: "/metadata/finalizers", value: finalizers },
    { op: "replace", path: "/metadata/finalizers", value: finalizers.filter((f) => f !== FINALIZER) },
  ]);
  return true;
}
