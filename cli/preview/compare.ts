// What changes between two renders of the tree: Applications added, removed and changed, and for
// each the objects added, removed and changed, as unified diffs with Secret values and every value SOPS
// decrypted (whatever the kind) masked. Pure.
import type { Manifest } from "../../agent/api/types.ts";
import { decryptedIn, unifiedDiff } from "../../agent/diff/index.ts";
import type { AppSnapshot } from "./tree.ts";

export type Change = "added" | "removed" | "changed";

export interface ObjectChange {
  /** `Kind/namespace/name` (namespace omitted when the manifest has none). */
  readonly object: string;
  readonly change: Change;
  /** Unified diff from base (`-`) to head (`+`), Secret values and decrypted values masked. */
  readonly diff: string;
}

export interface AppChange {
  readonly name: string;
  readonly change: Change;
  readonly objects: readonly ObjectChange[];
  /** Render errors at either side, as the agent would report them. */
  readonly errors: readonly string[];
}

export interface Preview {
  readonly base: string;
  readonly head: string;
  readonly apps: readonly AppChange[];
  /** Applications present at both sides that render the same. */
  readonly unchanged: number;
  /** With a kubeconfig: head against the live clusters. */
  readonly live?: LiveComparison;
}

/** One Application whose head differs from what runs in its destination cluster. */
export interface LiveAppChange {
  readonly name: string;
  /** The destination cluster's name (`in-cluster` or a cluster Secret's). */
  readonly destination: string;
  /** Whether the Application exists in the cluster yet. */
  readonly exists: boolean;
  /** `added`: head has it, the cluster not; `removed`: the app applied it, head dropped it (a sync with prune deletes it). */
  readonly objects: readonly ObjectChange[];
  /** Why it could not be compared (an unknown or unreachable destination cluster). */
  readonly errors: readonly string[];
}

export interface LiveComparison {
  /** The kubeconfig context of the agent's cluster. */
  readonly context: string;
  readonly apps: readonly LiveAppChange[];
  /** Applications whose head equals what runs. */
  readonly unchanged: number;
}

/** Whether the preview has anything to show: exit code 1. */
export function previewChanges(p: Preview): boolean {
  return p.apps.length > 0 || (p.live?.apps.length ?? 0) > 0;
}

const objectName = (m: Manifest) => `${m.kind}/${m.metadata.namespace ? `${m.metadata.namespace}/` : ""}${m.metadata.name ?? ""}`;
const objectKey = (m: Manifest) => `${m.apiVersion.split("/").length > 1 ? m.apiVersion.split("/")[0] : ""}/${objectName(m)}`;

/** The changes from `base` to `head`, apps in the order head lists them (removed ones last). */
export function comparePreviews(base: readonly AppSnapshot[], head: readonly AppSnapshot[], revs: { base: string; head: string }): Preview {
  const before = new Map(base.map((a) => [a.name, a]));
  const after = new Map(head.map((a) => [a.name, a]));
  const apps: AppChange[] = [];
  let unchanged = 0;
  for (const h of head) {
    const change = compareApp(before.get(h.name), h);
    if (change) apps.push(change);
    else unchanged++;
  }
  for (const b of base) if (!after.has(b.name)) apps.push(compareApp(b, undefined)!);
  return { base: revs.base, head: revs.head, apps, unchanged };
}

function compareApp(base: AppSnapshot | undefined, head: AppSnapshot | undefined): AppChange | undefined {
  const name = (head ?? base)!.name;
  const failed = Boolean(base?.error || head?.error);
  // A side that could not be rendered has unknown objects, not none: only its error is shown.
  const decrypted = decryptedIn([...base?.rendered ?? [], ...head?.rendered ?? []]);
  const objects = failed ? [] : compareObjects(base?.objects ?? [], head?.objects ?? [], decrypted);
  if (base && head && objects.length === 0 && !failureChanged(base, head)) return undefined;
  return { name, change: !base ? "added" : !head ? "removed" : "changed", objects, errors: errorsOf(base, head) };
}

/** An app that fails to render changed when its error or its source files did. */
function failureChanged(base: AppSnapshot, head: AppSnapshot): boolean {
  return (base.error ?? "") !== (head.error ?? "") || base.sourceHash !== head.sourceHash;
}

function errorsOf(base: AppSnapshot | undefined, head: AppSnapshot | undefined): string[] {
  return [base?.error && `at base: ${base.error}`, head?.error && `at head: ${head.error}`].filter((e): e is string => !!e);
}

/** `decrypted`: whether an object came out of SOPS at either side; all its values are then masked. */
function compareObjects(base: readonly Manifest[], head: readonly Manifest[], decrypted: (m: Manifest) => boolean): ObjectChange[] {
  const before = new Map(base.map((m) => [objectKey(m), m]));
  const after = new Map(head.map((m) => [objectKey(m), m]));
  const out: ObjectChange[] = [];
  for (const [key, m] of after) {
    const diff = relabel(unifiedDiff(m, before.get(key), objectName(m), { decrypted: decrypted(m) }));
    if (diff) out.push({ object: objectName(m), change: before.has(key) ? "changed" : "added", diff });
  }
  for (const [key, m] of before) {
    if (!after.has(key)) out.push({ object: objectName(m), change: "removed", diff: relabel(unifiedDiff(undefined, m, objectName(m), { decrypted: decrypted(m) })) });
  }
  return out;
}

/** unifiedDiff speaks of live and desired; a preview compares two commits. */
function relabel(diff: string): string {
  return diff.replace(/^--- live\//, "--- base/").replace(/\n\+\+\+ desired\//, "\n+++ head/");
}
