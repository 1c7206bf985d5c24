// Turns rendered manifests into the objects to apply: namespaced kinds get the destination namespace,
// every object gets the tracking label and annotation, and the order (phase, wave) is fixed here so
// the applier only walks a list.
import { isDeepStrictEqual } from "node:util";
import {
  SYNC_WAVE_ANNOTATIONS, TRACKING_ANNOTATION, TRACKING_LABEL,
  type Manifest, type ObjectRef,
} from "../api/types.ts";
import { splitApiVersion } from "../api/gvk.ts";
import { TetherError } from "../errors.ts";
import { helmWeight, roleOf, type DeletePolicy, type HookType } from "./hooks.ts";
import { displayRef, identity, refOf } from "./inventory.ts";
import { optionsOf, type ObjectOptions } from "./options.ts";

export { optionsOf, syncOptionsOf, type ObjectOptions } from "./options.ts";

/** Whether a kind is namespaced, from discovery; undefined when the API server does not know it (yet). */
export type ScopeLookup = (apiVersion: string, kind: string) => boolean | undefined;

/** A hook (hooks.ts): run by the phases it names, never compared, inventoried or pruned. */
export interface HookSpec {
  readonly types: readonly HookType[];
  readonly deletePolicies: readonly DeletePolicy[];
  /** Set when the hook has no name of its own: each operation names it (hooks.ts generatedName). */
  readonly generateName?: string;
}

export interface PlannedObject {
  readonly manifest: Manifest;
  /** For a hook with only `generateName`, the ref carries that prefix as its name until an operation names it. */
  readonly ref: ObjectRef;
  /** 0: CRDs and Namespaces, which everything else may need; 1: the rest. */
  readonly phase: 0 | 1;
  readonly wave: number;
  readonly options: ObjectOptions;
  readonly hook?: HookSpec;
}

export interface PlanInput {
  readonly app: { readonly name: string; readonly namespace: string };
  readonly manifests: readonly Manifest[];
  readonly defaultNamespace: string;
  readonly isNamespaced: ScopeLookup;
  /** `spec.syncPolicy.syncOptions`: defaults for every object's own sync-options annotation. */
  readonly appSyncOptions?: readonly string[];
  /** Told of an object rendered more than once identically (Argo CD's `RepeatedResourceWarning`). */
  readonly onRepeated?: (message: string) => void;
}

/** The tracking id written on every managed object: only the app it names may prune it. */
export function trackingId(app: PlanInput["app"], ref: ObjectRef): string {
  return `${app.namespace}/${app.name}:${ref.group}/${ref.kind}:${ref.namespace ?? ""}/${ref.name}`;
}

export function annotation(obj: Manifest, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = obj.metadata.annotations?.[name];
    if (value !== undefined) return value;
  }
  return undefined;
}

/** Objects in apply order. Throws RenderFailed for duplicates and unknown kinds. */
export function plan(input: PlanInput): PlannedObject[] {
  const crdScopes = scopesFromCrds(input.manifests);
  const lookup: ScopeLookup = (apiVersion, kind) => input.isNamespaced(apiVersion, kind) ?? crdScopes.get(`${splitApiVersion(apiVersion).group}/${kind}`);
  // Objects are told apart once their namespace is placed (explicit or the destination's, none for a
  // cluster-scoped kind), as Argo CD normalises them before comparing.
  const seen = new Map<string, { manifest: Manifest; times: number }>();
  const planned: PlannedObject[] = [];
  for (const source of input.manifests) {
    const role = roleOf(source);
    if (role.kind === "ignored") continue;
    const manifest = placed(source, lookup, input.defaultNamespace);
    const generateName = role.kind === "hook" && !manifest.metadata.name ? (manifest.metadata as { generateName?: string }).generateName : undefined;
    const ref = generateName ? { ...refOf(manifest), name: generateName } : refOf(manifest);
    const id = identity(ref);
    const before = seen.get(id);
    if (before) {
      // The same object twice (two sources, or once with its namespace and once without) is one object;
      // two different definitions of one object are refused, as neither can be chosen safely.
      if (!isDeepStrictEqual(before.manifest, manifest)) {
        throw new TetherError("RenderFailed", `${displayRef(ref)} is rendered twice with different content; each object may appear once in an application`, { object: displayRef(ref) });
      }
      before.times++;
      continue;
    }
    seen.set(id, { manifest, times: 1 });
    planned.push({
      manifest: tracked(manifest, trackingId(input.app, ref), input.app.name),
      ref,
      phase: ref.kind === "CustomResourceDefinition" || ref.kind === "Namespace" ? 0 : 1,
      wave: waveOf(manifest),
      options: optionsOf(manifest, input.appSyncOptions),
      ...(role.kind === "hook" ? { hook: { types: role.types, deletePolicies: role.deletePolicies, ...(generateName ? { generateName } : {}) } } : {}),
    });
  }
  for (const [, { manifest, times }] of seen) {
    if (times > 1) input.onRepeated?.(`Resource ${displayRef(refOf(manifest))} appeared ${times} times among application resources.`);
  }
  return planned.sort((a, b) => a.phase - b.phase || a.wave - b.wave);
}

/** Groups planned objects into the batches applied one after another; each batch may go in parallel. */
export function batches(objects: readonly PlannedObject[]): PlannedObject[][] {
  const out: PlannedObject[][] = [];
  let key = "";
  for (const obj of objects) {
    const k = `${obj.phase}:${obj.wave}`;
    if (k !== key) out.push([]);
    key = k;
    out[out.length - 1]!.push(obj);
  }
  return out;
}

function placed(obj: Manifest, isNamespaced: ScopeLookup, defaultNamespace: string): Manifest {
  const namespaced = isNamespaced(obj.apiVersion, obj.kind);
  const where = `${obj.kind}/${obj.metadata.name ?? (obj.metadata as { generateName?: string }).generateName ?? "?"}`;
  if (namespaced === undefined) {
    throw new TetherError("RenderFailed",
      `${where}: the API server does not serve kind ${obj.kind} in ${obj.apiVersion}; install its CRD first (or in the same application) or fix apiVersion`,
      { object: where, retryable: true });
  }
  const metadata = { ...obj.metadata };
  if (namespaced) metadata.namespace = obj.metadata.namespace ?? defaultNamespace;
  else delete metadata.namespace;
  return { ...obj, metadata };
}

function tracked(obj: Manifest, id: string, appName: string): Manifest {
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      labels: { ...obj.metadata.labels, [TRACKING_LABEL]: appName },
      annotations: { ...obj.metadata.annotations, [TRACKING_ANNOTATION]: id },
    },
  };
}

/** The sync-wave annotation, else Helm's hook-weight (as Argo CD reads it), else 0. */
export function waveOf(obj: Manifest): number {
  const raw = annotation(obj, SYNC_WAVE_ANNOTATIONS);
  if (raw === undefined) return helmWeight(obj) ?? 0;
  const wave = Number.parseInt(raw, 10);
  if (!Number.isFinite(wave)) {
    throw new TetherError("RenderFailed", `${displayRef(refOf(obj))}: sync-wave "${raw}" is not an integer`, { object: displayRef(refOf(obj)) });
  }
  return wave;
}

function scopesFromCrds(manifests: readonly Manifest[]): Map<string, boolean> {
  const scopes = new Map<string, boolean>();
  for (const m of manifests) {
    if (m.kind !== "CustomResourceDefinition") continue;
    const spec = m.spec as { group?: string; scope?: string; names?: { kind?: string } } | undefined;
    if (spec?.group && spec.names?.kind) scopes.set(`${spec.group}/${spec.names.kind}`, spec.scope !== "Cluster");
  }
  return scopes;
}
