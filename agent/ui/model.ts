// What the web UI shows, as plain data: pure functions from Applications and live objects to the
// view models the JSON API sends. The browser imports these types; nothing here does I/O.
import { primarySource } from "../api/sources.ts";
import type { Application, Manifest, ObjectRef } from "../api/types.ts";
import { HOOK_ANNOTATIONS, SYNC_WAVE_ANNOTATIONS } from "../api/types.ts";
import { refKey, refOf, resourceRef } from "../apply/inventory.ts";
import { resourceHealth } from "../health/index.ts";
import type { AppDetail, AppSummary, TreeNode } from "./view.ts";

export type { AppDetail, AppFilter, AppSummary, HistoryView, ObjectDiffView, EventView, TreeNode } from "./view.ts";
export { matches } from "./view.ts";

/** Kinds listed to find what managed objects create, and the kinds that create them. */
export const CHILD_KINDS: readonly { readonly apiVersion: string; readonly kind: string; readonly plural: string }[] = [
  { apiVersion: "apps/v1", kind: "ReplicaSet", plural: "replicasets" },
  { apiVersion: "v1", kind: "Pod", plural: "pods" },
  { apiVersion: "batch/v1", kind: "Job", plural: "jobs" },
  { apiVersion: "v1", kind: "Endpoints", plural: "endpoints" },
  { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", plural: "endpointslices" },
];

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Only the fields that have a value: optional fields stay absent rather than `undefined`. */
function defined<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== "")) as Partial<T>;
}

export function summarize(app: Application): AppSummary {
  const { status, metadata } = app;
  const path = primarySource(app)?.path;
  return {
    name: metadata?.name ?? "",
    project: app.spec.project ?? "default",
    labels: metadata?.labels ?? {},
    sync: status?.sync?.status ?? "Unknown",
    health: status?.health?.status ?? "Unknown",
    ...sourceFields(app),
    deleting: metadata?.deletionTimestamp !== undefined,
    ...defined({
      healthMessage: status?.health?.message, revision: status?.sync?.revision, path,
      lastSync: status?.operationState?.finishedAt ?? status?.history?.at(-1)?.deployedAt, operationPhase: status?.operationState?.phase,
    }),
  };
}

function sourceFields(app: Application): Pick<AppSummary, "targetRevision" | "repoURL" | "destination" | "automated"> {
  return {
    targetRevision: primarySource(app)?.targetRevision ?? "HEAD",
    repoURL: primarySource(app)?.repoURL ?? "",
    destination: { ...app.spec.destination },
    automated: app.spec.syncPolicy?.automated !== undefined,
  };
}

export function detail(app: Application, finalizer: string): AppDetail {
  const status = app.status;
  const op = status?.operationState;
  return {
    ...summarize(app),
    conditions: (status?.conditions ?? []).map((c) => ({ type: c.type, message: c.message, lastTransitionTime: c.lastTransitionTime })),
    ...(op ? {
      operationState: {
        phase: op.phase, ...(op.message ? { message: op.message } : {}),
        ...(op.startedAt ? { startedAt: op.startedAt } : {}), ...(op.finishedAt ? { finishedAt: op.finishedAt } : {}),
      },
    } : {}),
    operationRequested: app.operation?.sync !== undefined,
    history: [...(status?.history ?? [])].map((h) => ({ id: h.id, revision: h.revision, deployedAt: h.deployedAt })).reverse(),
    cascadeDelete: (app.metadata?.finalizers ?? []).includes(finalizer),
    selfHeal: app.spec.syncPolicy?.automated?.selfHeal === true,
    prune: app.spec.syncPolicy?.automated?.prune === true,
  };
}

function annotation(obj: Manifest | undefined, names: readonly string[]): string | undefined {
  const annotations = obj?.metadata.annotations ?? {};
  return names.map((n) => annotations[n]).find((v) => v !== undefined);
}

interface TreeInput {
  readonly app: Application;
  /** Live copies of the managed objects, by key; a missing key is an object that does not exist. */
  readonly live: ReadonlyMap<string, Manifest>;
  /** Objects of CHILD_KINDS in the namespaces the managed objects live in. */
  readonly candidates: readonly Manifest[];
}

/**
 * The application's tree: every managed object from the status, then every candidate that a tree
 * object owns (owner references, followed until nothing new joins; a Service's Endpoints by name).
 */
export function buildTree(input: TreeInput): TreeNode[] {
  const nodes = new Map<string, TreeNode>();
  const byUid = new Map<string, string>();
  for (const res of input.app.status?.resources ?? []) {
    const ref = resourceRef(res);
    const key = refKey(ref);
    const live = input.live.get(key);
    nodes.set(key, managedNode(ref, res, live));
    const uid = str(live?.metadata.uid);
    if (uid) byUid.set(uid, key);
  }
  let pending = [...input.candidates];
  for (let grew = true; grew;) {
    grew = false;
    const rest: Manifest[] = [];
    for (const obj of pending) {
      const parents = parentsOf(obj, byUid, nodes);
      if (parents.length === 0) {
        rest.push(obj);
        continue;
      }
      const node = childNode(obj, parents);
      nodes.set(node.key, node);
      const uid = str(obj.metadata.uid);
      if (uid) byUid.set(uid, node.key);
      grew = true;
    }
    pending = rest;
  }
  return [...nodes.values()];
}

function managedNode(ref: ObjectRef, res: { status?: string; health?: { status: string; message?: string } }, live: Manifest | undefined): TreeNode {
  const hook = annotation(live, HOOK_ANNOTATIONS);
  const wave = Number(annotation(live, SYNC_WAVE_ANNOTATIONS) ?? (res as { syncWave?: unknown }).syncWave ?? NaN);
  // A kind without a health check (a ConfigMap) shows none, as in Argo CD and as the status lists it.
  const health = res.health ?? (live ? resourceHealth(live) : undefined);
  const createdAt = str(live?.metadata.creationTimestamp);
  return {
    key: refKey(ref), ref, parents: [], managed: true, exists: live !== undefined,
    ...(res.status ? { sync: res.status } : {}),
    ...(health ? { health: health.status, ...(health.message ? { healthMessage: health.message } : {}) } : {}),
    ...(hook ? { hook } : {}),
    ...(Number.isFinite(wave) ? { wave } : {}),
    ...(ref.group === "tether.dev" && ref.kind === "Application" ? { application: ref.name } : {}),
    ...(createdAt ? { createdAt } : {}),
  };
}

function childNode(obj: Manifest, parents: readonly string[]): TreeNode {
  const ref = refOf(obj);
  const health = resourceHealth(obj);
  const createdAt = str(obj.metadata.creationTimestamp);
  return {
    key: refKey(ref), ref, parents, managed: false, exists: true,
    ...(health ? { health: health.status, ...(health.message ? { healthMessage: health.message } : {}) } : {}),
    ...(createdAt ? { createdAt } : {}),
  };
}

function parentsOf(obj: Manifest, byUid: ReadonlyMap<string, string>, nodes: ReadonlyMap<string, TreeNode>): string[] {
  const owners = (obj.metadata.ownerReferences as { uid?: string }[] | undefined) ?? [];
  const parents = owners.map((o) => (o.uid ? byUid.get(o.uid) : undefined)).filter((k): k is string => k !== undefined);
  if (obj.kind === "Endpoints" && obj.apiVersion === "v1") {
    const service = refKey({ group: "", version: "v1", kind: "Service", name: obj.metadata.name ?? "", namespace: obj.metadata.namespace ?? "" });
    if (nodes.has(service)) parents.push(service);
  }
  return parents;
}

/** Namespaces where managed objects live: where CHILD_KINDS are listed. */
export function treeNamespaces(app: Application): string[] {
  return [...new Set((app.status?.resources ?? []).map((r) => r.namespace).filter((ns): ns is string => !!ns))].sort();
}

/** Whether `key` names an object of the tree: the API serves manifests, events and logs only for those. */
export function inTree(nodes: readonly TreeNode[], key: string): TreeNode | undefined {
  return nodes.find((n) => n.key === key);
}
