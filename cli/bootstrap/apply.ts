// The edge of `tether bootstrap`: server-side apply in order, CRDs awaited before the objects of their
// kinds, and each object reported as created, configured or unchanged.
import type { Manifest } from "../../agent/api/types.ts";
import type { Cluster } from "../../agent/apply/cluster.ts";
import { displayRef, refOf } from "../../agent/apply/inventory.ts";
import { TimeoutError } from "../errors.ts";

export type Outcome = "created" | "configured" | "unchanged";

/** Compares the resourceVersion before and after: the API server bumps it only when something changed. */
export function outcomeOf(before: Manifest | undefined, after: Manifest): Outcome {
  if (!before) return "created";
  return before.metadata.resourceVersion === after.metadata.resourceVersion ? "unchanged" : "configured";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitEstablished(cluster: Cluster, crd: Manifest, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const live = await cluster.get(refOf(crd));
    const conditions = (live?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
    if (conditions.some((c) => c.type === "Established" && c.status === "True")) return;
    await sleep(200);
  }
  throw new TimeoutError(`CRD ${crd.metadata.name} was not Established within ${timeoutMs / 1000}s; check the API server's log`);
}

/** Applies `objects` in the order given; returns what happened to each. */
export async function applyAll(cluster: Cluster, objects: readonly Manifest[], log: (line: string) => void): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const obj of objects) {
    const before = await cluster.get(refOf(obj));
    const after = await cluster.apply(obj);
    if (obj.kind === "CustomResourceDefinition") await waitEstablished(cluster, obj, 30_000);
    const outcome = outcomeOf(before, after);
    outcomes.push(outcome);
    log(`${displayRef(refOf(obj))} ${outcome}`);
  }
  return outcomes;
}

interface DeploymentStatus {
  readonly observedGeneration?: number;
  readonly replicas?: number;
  readonly availableReplicas?: number;
  readonly updatedReplicas?: number;
}

/** Whether a Deployment has rolled out: its controller saw this generation and every replica is updated and available. */
export function rolledOut(live: Manifest | undefined, replicas: number): boolean {
  const status = (live?.status ?? {}) as DeploymentStatus;
  const generation = Number(live?.metadata.generation ?? 0);
  return (status.observedGeneration ?? 0) >= generation && (status.updatedReplicas ?? 0) >= replicas
    && (status.availableReplicas ?? 0) >= replicas;
}

/** Waits until the agent Deployment has rolled out, or says where to look. */
export async function waitRolledOut(cluster: Cluster, deployment: Manifest, timeoutMs: number): Promise<void> {
  const replicas = (deployment.spec as { replicas: number }).replicas;
  const deadline = Date.now() + timeoutMs;
  let live: Manifest | undefined;
  while (Date.now() < deadline) {
    live = await cluster.get(refOf(deployment));
    if (rolledOut(live, replicas)) return;
    await sleep(500);
  }
  const available = ((live?.status ?? {}) as DeploymentStatus).availableReplicas ?? 0;
  const ns = deployment.metadata.namespace ?? "";
  throw new TimeoutError(`${displayRef(refOf(deployment))} has ${available} of ${replicas} replicas available after ${timeoutMs / 1000}s; `
    + `see why with \`kubectl -n ${ns} describe pods -l app.kubernetes.io/name=tether\` (can the nodes pull its image?), `
    + "or run again with --no-wait");
}
