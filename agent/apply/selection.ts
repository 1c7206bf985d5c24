// Selective sync, as Argo CD's `--resource GROUP:KIND:NAME`: which objects a sync operation takes.
// Pure: the CLI parses the flag here, the reconcile's sync stage filters with the same rules.
import type { ObjectRef } from "../api/types.ts";
import type { SyncOperationResource } from "../api/schema.ts";

/**
 * Parses `GROUP:KIND:NAME` or `GROUP:KIND:NAMESPACE/NAME` (the core group is empty: `:Service:web`),
 * with a leading `!` to exclude; `*` in a field matches anything. Throws with the expected shape.
 */
export function parseResource(text: string): SyncOperationResource {
  const exclude = text.startsWith("!");
  const fields = (exclude ? text.slice(1) : text).split(":");
  if (fields.length !== 3 || !fields[1] || !fields[2]) {
    throw new Error(`--resource ${text}: expected GROUP:KIND:NAME or GROUP:KIND:NAMESPACE/NAME (the core group is empty, as in :ConfigMap:settings)`);
  }
  const [group = "", kind = "", last = ""] = fields;
  const slash = last.split("/");
  if (slash.length > 2 || slash.some((s) => s === "")) throw new Error(`--resource ${text}: the name part is NAME or NAMESPACE/NAME (GROUP:KIND:NAMESPACE/NAME)`);
  const [namespace, name] = slash.length === 2 ? slash : [undefined, slash[0]];
  return { group, kind, name: name ?? "", ...(namespace ? { namespace } : {}), ...(exclude ? { exclude: true } : {}) };
}

function matches(r: SyncOperationResource, ref: Pick<ObjectRef, "group" | "kind" | "name" | "namespace">): boolean {
  const is = (want: string | undefined, have: string) => want === "*" || want === have;
  return is(r.group ?? "", ref.group) && is(r.kind, ref.kind) && is(r.name, ref.name)
    && (r.namespace === undefined || r.namespace === "" || r.namespace === "*" || r.namespace === (ref.namespace ?? ""));
}

/**
 * Whether a sync limited to `resources` takes `ref`, as Argo CD decides: with include rules it must
 * match one of them; an exclude rule it matches wins; no rules at all take everything.
 */
export function isSelected(ref: Pick<ObjectRef, "group" | "kind" | "name" | "namespace">, resources: readonly SyncOperationResource[] | undefined): boolean {
  if (!resources || resources.length === 0) return true;
  const includes = resources.filter((r) => !r.exclude);
  if (includes.length > 0 && !includes.some((r) => matches(r, ref))) return false;
  return !resources.some((r) => r.exclude && matches(r, ref));
}
