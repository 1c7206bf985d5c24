// What an ApplicationSet changes, decided without I/O: the generated Applications as they will be
// written (owner reference, finalizers, preserved fields), and which to create, update and delete
// given the Applications that exist, the set's `applicationsSync` policy and who owns each name.
import { isDeepStrictEqual } from "node:util";
import {
  API_VERSION, POST_DELETE_FINALIZER, REFRESH_ANNOTATION, ROLLBACK_ANNOTATION, SUSPEND_ANNOTATION,
  type Application, type ApplicationSet,
} from "../api/types.ts";
import type { GeneratedApplication } from "./generate/index.ts";

/** Argo CD's `syncPolicy.applicationsSync`; `sync` (the default) creates, updates and deletes. */
export type ApplicationsSync = "create-only" | "create-update" | "create-delete" | "sync";

export function policyOf(set: ApplicationSet): { readonly allowUpdate: boolean; readonly allowDelete: boolean } {
  const policy: ApplicationsSync = set.spec.syncPolicy?.applicationsSync ?? "sync";
  return { allowUpdate: policy === "create-update" || policy === "sync", allowDelete: policy === "create-delete" || policy === "sync" };
}

/** Finalizers the Application controller puts on and removes itself: a set's update never takes them away. */
const KEPT_FINALIZERS = [POST_DELETE_FINALIZER, "pre-delete-finalizer.tether.dev"];
/**
 * Annotations other writers own (a refresh request, `tether app suspend`, a rollback), kept as they
 * are live, as Argo CD keeps `argocd.argoproj.io/refresh` and notification state.
 */
const KEPT_ANNOTATIONS = [REFRESH_ANNOTATION, SUSPEND_ANNOTATION, ROLLBACK_ANNOTATION, "argocd.argoproj.io/refresh",
  "notified.notifications.argoproj.io"];

/** The owner reference that makes `set` the controller of an Application. */
export function ownerReference(set: ApplicationSet) {
  return {
    apiVersion: API_VERSION, kind: "ApplicationSet", name: set.metadata?.name ?? "", uid: set.metadata?.uid ?? "",
    controller: true, blockOwnerDeletion: true,
  };
}

/** The name of the ApplicationSet that controls `app`, if any (its controller owner reference). */
export function controllerOf(app: Application): string | undefined {
  const ref = (app.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  return ref?.kind === "ApplicationSet" ? ref.name : ref === undefined ? undefined : `${ref.kind}/${ref.name}`;
}

/** Whether `app` is controlled by `set` (by name and, when both are known, uid: a re-created set is another set). */
export function ownedBy(app: Application, set: ApplicationSet): boolean {
  return (app.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.kind === "ApplicationSet"
    && r.name === set.metadata?.name && (!r.uid || !set.metadata?.uid || r.uid === set.metadata.uid));
}

/**
 * A generated Application as the set writes it: the agent's namespace, the set as controller owner,
 * `spec.project` as the API server defaults it (so an unchanged app is not rewritten). Its finalizers
 * are the generator's (agent/appset/generate: Tether's resources finalizer unless the template names
 * some or `preserveResourcesOnDeletion` is set).
 */
export function desiredApplication(set: ApplicationSet, generated: GeneratedApplication, namespace: string): Application {
  const { labels, annotations, finalizers } = generated.metadata;
  return {
    apiVersion: API_VERSION, kind: "Application",
    metadata: {
      name: generated.metadata.name, namespace,
      ...(labels && Object.keys(labels).length > 0 ? { labels: { ...labels } } : {}),
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
      ...(finalizers && finalizers.length > 0 ? { finalizers: [...finalizers] } : {}),
      ownerReferences: [ownerReference(set)],
    },
    spec: { project: "default", ...generated.spec } as Application["spec"],
  };
}

/** What an update writes: the desired app with the fields others own kept as they are live. */
export function merged(desired: Application, live: Application, set: ApplicationSet): Application {
  const { labels, annotations, finalizers } = keptFields(desired, live, set);
  const meta = { ...desired.metadata };
  delete meta.annotations;
  delete meta.labels;
  delete meta.finalizers;
  const operation = desired.operation ?? live.operation;
  return {
    ...desired,
    metadata: {
      ...meta,
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ...(finalizers.length > 0 ? { finalizers } : {}),
      // The live object's other owners (none usually) stay; the set is the controller.
      ownerReferences: [...(live.metadata?.ownerReferences ?? []).filter((r) => r.controller !== true), ...desired.metadata?.ownerReferences ?? []],
    },
    // A requested sync (a user's, or the app controller's running one) is not the set's to drop.
    ...(operation ? { operation } : {}),
  };
}

/** Labels, annotations and finalizers: the desired ones plus those others own, as they are live. */
function keptFields(desired: Application, live: Application, set: ApplicationSet) {
  const keepAnnotations = [...KEPT_ANNOTATIONS, ...(set.spec.preservedFields?.annotations ?? [])];
  const keepLabels = set.spec.preservedFields?.labels ?? [];
  const pick = (from: Record<string, string> | undefined, keys: readonly string[]) =>
    Object.fromEntries(keys.filter((k) => from?.[k] !== undefined).map((k) => [k, from?.[k] ?? ""]));
  return {
    annotations: { ...desired.metadata?.annotations, ...pick(live.metadata?.annotations, keepAnnotations) },
    labels: { ...desired.metadata?.labels, ...pick(live.metadata?.labels, keepLabels) },
    finalizers: [...new Set([...desired.metadata?.finalizers ?? [],
      ...(live.metadata?.finalizers ?? []).filter((f) => KEPT_FINALIZERS.some((k) => f.startsWith(k)))])],
  };
}

/** Whether writing `next` over `live` would change what the set controls. */
export function differs(next: Application, live: Application): boolean {
  const m = (a: Application) => ({
    labels: a.metadata?.labels ?? {}, annotations: a.metadata?.annotations ?? {}, finalizers: a.metadata?.finalizers ?? [],
    owners: (a.metadata?.ownerReferences ?? []).map((r) => `${r.kind}/${r.name}/${r.uid}/${r.controller}`),
  });
  return !isDeepStrictEqual(next.spec, live.spec) || !isDeepStrictEqual(m(next), m(live)) || (next.operation !== undefined && !isDeepStrictEqual(next.operation, live.operation));
}

export interface Conflict {
  readonly name: string;
  /** Who has the name: `ApplicationSet/other`, or `nobody` for an Application no set controls. */
  readonly owner: string;
}

export interface AppSetChanges {
  readonly create: readonly Application[];
  readonly update: readonly Application[];
  /** Names of Applications this set owns that it no longer generates. */
  readonly delete: readonly string[];
  readonly unchanged: readonly string[];
  /** Generated names another owner holds: never written (the first owner wins). */
  readonly conflicts: readonly Conflict[];
  /** Owned apps the policy keeps as they are (create-only, create-delete) or keeps although gone (create-only, create-update). */
  readonly held: readonly string[];
}

/**
 * Create, update and delete from desired vs live, under the set's policy. An Application that exists
 * and is not controlled by this set is never written or deleted: it is a conflict, named on the set.
 * `alsoGenerated` names apps generated but refused (a project rule): not written, and not deleted either.
 * Pure.
 */
export function planChanges(set: ApplicationSet, desired: readonly Application[], live: readonly Application[],
  alsoGenerated: readonly string[] = []): AppSetChanges {
  const policy = policyOf(set);
  const byName = new Map(live.map((a) => [a.metadata?.name ?? "", a]));
  const create: Application[] = [];
  const update: Application[] = [];
  const unchanged: string[] = [];
  const conflicts: Conflict[] = [];
  const held: string[] = [];
  for (const want of desired) {
    const name = want.metadata?.name ?? "";
    const have = byName.get(name);
    if (have === undefined) {
      create.push(want);
    } else if (!ownedBy(have, set)) {
      conflicts.push({ name, owner: controllerOf(have) ?? "nobody" });
    } else if (have.metadata?.deletionTimestamp) {
      held.push(name); // being deleted: written again once it is gone
    } else {
      const next = merged(want, have, set);
      if (!differs(next, have)) unchanged.push(name);
      else if (policy.allowUpdate) update.push({ ...next, metadata: { ...next.metadata, resourceVersion: have.metadata?.resourceVersion } });
      else held.push(name);
    }
  }
  const wanted = new Set([...desired.map((a) => a.metadata?.name ?? ""), ...alsoGenerated]);
  const gone = live.filter((a) => ownedBy(a, set) && !wanted.has(a.metadata?.name ?? "") && !a.metadata?.deletionTimestamp).map((a) => a.metadata?.name ?? "");
  if (!policy.allowDelete) held.push(...gone);
  return { create, update, delete: policy.allowDelete ? gone : [], unchanged, conflicts, held };
}

/** Generated names that repeat: Argo CD refuses the set (ApplicationValidationError) rather than pick one. */
export function duplicateNames(generated: readonly GeneratedApplication[]): string[] {
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const g of generated) {
    if (seen.has(g.metadata.name)) dups.add(g.metadata.name);
    seen.add(g.metadata.name);
  }
  return [...dups];
}
