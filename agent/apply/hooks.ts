// Resource hooks, Argo CD's model: what an object's hook annotations (Tether's, Argo CD's, or Helm's
// mapped as Argo CD maps them) make of it, the hook's phase and wave, its delete policies, and how
// far a live hook has got. Pure: the operation runner (operation.ts) does the I/O.
import {
  HELM_HOOK_ANNOTATION, HELM_HOOK_DELETE_POLICY_ANNOTATION, HELM_HOOK_WEIGHT_ANNOTATION, HOOK_ANNOTATIONS,
  HOOK_DELETE_POLICY_ANNOTATIONS, type Manifest,
} from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { assessHealth } from "../health/index.ts";

export const HOOK_TYPES = ["PreSync", "Sync", "PostSync", "SyncFail", "PreDelete", "PostDelete", "Skip"] as const;
export type HookType = (typeof HOOK_TYPES)[number];
/** The phases of a sync operation, in the order they run; SyncFail only when an earlier one failed. */
export type SyncPhase = "PreSync" | "Sync" | "PostSync" | "SyncFail";
export const DELETE_POLICIES = ["HookSucceeded", "HookFailed", "BeforeHookCreation"] as const;
export type DeletePolicy = (typeof DELETE_POLICIES)[number];
/** The hooks an Application's deletion runs: PreDelete before anything is deleted, PostDelete after. */
export type DeleteHookType = "PreDelete" | "PostDelete";

/** What an object is to a sync, from its annotations. */
export type Role =
  | { readonly kind: "resource" }
  /** Applied by the phases it names, never compared, never in the inventory, never pruned. */
  | { readonly kind: "hook"; readonly types: readonly HookType[]; readonly deletePolicies: readonly DeletePolicy[] }
  /** Left out of the sync altogether, and why (a `Skip` hook, a Helm hook Argo CD does not run). */
  | { readonly kind: "ignored"; readonly why: string };

const HELM_TYPES: Readonly<Record<string, HookType>> = {
  "pre-install": "PreSync", "pre-upgrade": "PreSync", "post-install": "PostSync", "post-upgrade": "PostSync", "pre-delete": "PreDelete", "post-delete": "PostDelete",
};
const HELM_POLICIES: Readonly<Record<string, DeletePolicy>> = {
  "before-hook-creation": "BeforeHookCreation", "hook-succeeded": "HookSucceeded", "hook-failed": "HookFailed",
};

const csv = (value: string | undefined) => (value ?? "").split(",").map((v) => v.trim()).filter(Boolean);

function first(obj: Manifest, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = obj.metadata.annotations?.[name];
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
 * The object's role. An own hook annotation (`tether.dev/hook` or `argocd.argoproj.io/hook`) wins
 * over Helm's; `Skip` alone leaves the object out; a Helm hook other than pre/post-install/upgrade
 * (test, pre-rollback...) is not run, and `crd-install` is an ordinary object, as in Argo CD.
 */
export function roleOf(obj: Manifest): Role {
  const own = ownHookAnnotation(obj);
  const helm = obj.metadata.annotations?.[HELM_HOOK_ANNOTATION];
  if (own === undefined && (helm === undefined || helm === "crd-install")) return { kind: "resource" };
  const types = own !== undefined ? ownHookTypes(obj, own) : csv(helm).flatMap((t) => HELM_TYPES[t] ? [HELM_TYPES[t]] : []);
  if (types.length === 1 && types[0] === "Skip") return { kind: "ignored", why: "hook Skip" };
  const run = types.filter((t) => t !== "Skip");
  if (run.length === 0) return { kind: "ignored", why: own !== undefined ? `hook "${own.value}" names no hook type` : `Helm hook "${helm}" is not run by a sync` };
  return { kind: "hook", types: [...new Set(run)], deletePolicies: deletePoliciesOf(obj) };
}

function ownHookAnnotation(obj: Manifest): { key: string; value: string } | undefined {
  for (const key of HOOK_ANNOTATIONS) {
    const value = obj.metadata.annotations?.[key];
    if (value !== undefined) return { key, value };
  }
  return undefined;
}

/**
 * The hook types an own annotation names. A misspelt one (`PreSnyc`) is refused, naming the object:
 * silently dropping it would apply a migration Job as an ordinary object, or prune one applied before.
 */
function ownHookTypes(obj: Manifest, own: { key: string; value: string }): HookType[] {
  const names = csv(own.value);
  const unknown = names.filter((t) => !(HOOK_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0) {
    const ns = obj.metadata.namespace ? `${obj.metadata.namespace}/` : "";
    const object = `${obj.kind}/${ns}${obj.metadata.name ?? (obj.metadata as { generateName?: string }).generateName ?? ""}`;
    throw new TetherError("InvalidSpecError",
      `${object}: ${own.key}: ${unknown.map((t) => `"${t}"`).join(", ")} is not a hook type; use ${HOOK_TYPES.join(", ")}`, { object });
  }
  return names as HookType[];
}

/** Own and Helm delete policies together; none given means BeforeHookCreation, as in Argo CD. */
export function deletePoliciesOf(obj: Manifest): DeletePolicy[] {
  const own = csv(first(obj, HOOK_DELETE_POLICY_ANNOTATIONS)).filter((p): p is DeletePolicy => (DELETE_POLICIES as readonly string[]).includes(p));
  const helm = csv(obj.metadata.annotations?.[HELM_HOOK_DELETE_POLICY_ANNOTATION]).flatMap((p) => HELM_POLICIES[p] ? [HELM_POLICIES[p]] : []);
  const all = [...new Set([...own, ...helm])];
  return all.length > 0 ? all : ["BeforeHookCreation"];
}

/** Helm's `hook-weight`, the wave of an object without a sync-wave annotation (Argo CD reads it on any object). */
export function helmWeight(obj: Manifest): number | undefined {
  const raw = obj.metadata.annotations?.[HELM_HOOK_WEIGHT_ANNOTATION];
  if (raw === undefined) return undefined;
  const n = Number.parseInt(raw, 10);
  return Number.isFinite(n) ? n : undefined;
}

/** The sync phases a hook runs in (PreDelete and PostDelete run on deletion, not in a sync). */
export function syncPhasesOf(types: readonly HookType[]): SyncPhase[] {
  return types.filter((t): t is SyncPhase => t === "PreSync" || t === "Sync" || t === "PostSync" || t === "SyncFail");
}

export type HookPhase = "Running" | "Succeeded" | "Failed";

/**
 * How far a live hook has got, as Argo CD reads it: a Job or Pod by its health (complete or
 * succeeded is Succeeded, failed is Failed, anything else still Running); any other kind is done
 * once it exists.
 */
export function hookProgress(live: Manifest | undefined): { phase: HookPhase; message?: string } {
  if (!live) return { phase: "Running", message: "waiting for the hook to exist" };
  const h = assessHealth(live);
  const message = h.message;
  if (live.kind !== "Job" && live.kind !== "Pod" && live.kind !== "Workflow") {
    return { phase: "Succeeded", ...(message ? { message } : {}) };
  }
  if (h.status === "Healthy") return { phase: "Succeeded", ...(message ? { message } : {}) };
  if (h.status === "Degraded") return { phase: "Failed", message: message ?? `${live.kind} failed` };
  return { phase: "Running", ...(message ? { message } : {}) };
}

/**
 * The name a hook gets when it only has `metadata.generateName`, formed as Argo CD forms it:
 * the prefix, then the revision's first 7 characters, the phase and the operation's start time
 * (seconds), so every reconcile of one operation finds the same hook again.
 */
export function generatedName(generateName: string, revision: string, phase: SyncPhase | DeleteHookType, startedAt: string): string {
  const seconds = Math.floor(new Date(startedAt).getTime() / 1000);
  return `${generateName}${`${revision.slice(0, 7)}-${phase}-${seconds}`.toLowerCase()}`;
}
