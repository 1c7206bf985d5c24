// Resource actions built into Tether, as Argo CD ships them for the kinds people run most: `restart`
// (Deployment, StatefulSet, DaemonSet: the pod template's `kubectl.kubernetes.io/restartedAt`, as
// `kubectl rollout restart` and Argo CD write it), `scale` (Deployment, StatefulSet: `replicas`), and
// `suspend`/`resume` (CronJob). Pure: the live object in, the object as the action leaves it out.
import type { Manifest } from "../api/types.ts";
import { groupOf } from "../diff/json.ts";

/** A parameter an action takes (Argo CD's `params`): `scale`'s `replicas`. */
export interface ActionParam {
  readonly name: string;
  readonly default?: string;
}

/** One action as `tether app actions list` and the UI show it (Argo CD's ResourceAction). */
export interface ResourceAction {
  readonly name: string;
  /** Shown but refused (resume on a CronJob that runs): Argo CD's `disabled`. */
  readonly disabled: boolean;
  readonly params?: readonly ActionParam[];
  /** A Lua action's icon (Font Awesome classes, as Argo CD's UI takes them). */
  readonly iconClass?: string;
  /** A Lua action's label in the UI, when not its name. */
  readonly displayName?: string;
}

/** An action that cannot run as asked: the message says why and what to pass. */
export class ActionError extends Error {}

export const RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";

type Run = (obj: Manifest, params: Readonly<Record<string, string>>, now: Date) => Manifest;

interface Builtin {
  readonly kinds: readonly string[];
  readonly available: (obj: Manifest) => ResourceAction;
  readonly run: Run;
}

const WORKLOADS = ["apps/Deployment", "apps/StatefulSet", "apps/DaemonSet"];

const BUILTINS: Readonly<Record<string, Builtin>> = {
  restart: {
    kinds: WORKLOADS,
    available: () => ({ name: "restart", disabled: false }),
    run: (obj, _params, now) => {
      const copy = structuredClone(obj);
      const spec = (copy.spec ??= {}) as { template?: { metadata?: { annotations?: Record<string, string> } } };
      const meta = ((spec.template ??= {}).metadata ??= {});
      meta.annotations = { ...meta.annotations, [RESTARTED_AT]: now.toISOString().replace(/\.\d{3}Z$/, "Z") };
      return copy;
    },
  },
  scale: {
    kinds: ["apps/Deployment", "apps/StatefulSet"],
    available: (obj) => ({ name: "scale", disabled: false, params: [{ name: "replicas", default: String((obj.spec as { replicas?: number } | undefined)?.replicas ?? 1) }] }),
    run: (obj, params) => {
      const raw = params.replicas;
      if (raw === undefined || !/^\d+$/.test(raw)) throw new ActionError(`scale needs a replica count: pass --param replicas=N (a whole number), got ${raw === undefined ? "none" : `"${raw}"`}`);
      const copy = structuredClone(obj);
      copy.spec = { ...specOf(copy), replicas: Number(raw) };
      return copy;
    },
  },
  suspend: {
    kinds: ["batch/CronJob"],
    available: (obj) => ({ name: "suspend", disabled: suspended(obj) }),
    run: (obj) => ({ ...structuredClone(obj), spec: { ...specOf(obj), suspend: true } }),
  },
  resume: {
    kinds: ["batch/CronJob"],
    available: (obj) => ({ name: "resume", disabled: !suspended(obj) }),
    run: (obj) => ({ ...structuredClone(obj), spec: { ...specOf(obj), suspend: false } }),
  },
};

function specOf(obj: Manifest): Record<string, unknown> {
  return (obj.spec ?? {}) as Record<string, unknown>;
}

function suspended(obj: Manifest): boolean {
  return (obj.spec as { suspend?: boolean } | undefined)?.suspend === true;
}

/** `apps/Deployment`, `Pod` for the core group: the key actions are listed by. */
export function groupKindOf(obj: Pick<Manifest, "apiVersion" | "kind">): string {
  const group = groupOf(obj.apiVersion);
  return group ? `${group}/${obj.kind}` : obj.kind;
}

/** The built-in actions of the object's kind, each disabled where it would change nothing. */
export function builtinActions(obj: Manifest): ResourceAction[] {
  const key = groupKindOf(obj);
  return Object.values(BUILTINS).filter((b) => b.kinds.includes(key)).map((b) => b.available(obj));
}

/** The object as the built-in action `name` leaves it; undefined when the kind has no such action. */
export function runBuiltin(name: string, obj: Manifest, params: Readonly<Record<string, string>>, now: Date): Manifest | undefined {
  const builtin = Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined;
  if (builtin === undefined || !builtin.kinds.includes(groupKindOf(obj))) return undefined;
  return builtin.run(obj, params, now);
}

/**
 * The JSON merge patch (RFC 7386) that turns `from` into `to`: what an action sends, so fields other
 * managers own stay theirs and only what the action changed is written.
 */
export function mergePatch(from: unknown, to: unknown): unknown {
  if (!isObject(from) || !isObject(to)) return to;
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(to)) {
    if (!Object.hasOwn(from, key)) patch[key] = value;
    else if (JSON.stringify(from[key]) !== JSON.stringify(value)) patch[key] = isObject(from[key]) && isObject(value) ? mergePatch(from[key], value) : value;
  }
  for (const key of Object.keys(from)) if (!Object.hasOwn(to, key)) patch[key] = null;
  return patch;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
