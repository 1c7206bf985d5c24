import { stringify } from "yaml";
import type { Manifest } from "../api/types.ts";
import { diffLines, hunks } from "./lines.ts";
import { normalize } from "./normalize.ts";
import { maskForView } from "./secret.ts";

export interface DiffOptions {
  /** The desired object came out of SOPS decryption (any kind): every value is masked on both sides. */
  readonly decrypted?: boolean;
}

/** Unchanged lines shown around each change, as `diff -u` and `git diff` do. */
const CONTEXT_LINES = 3;

/**
 * A unified diff from live (`-`) to desired (`+`) of the normalized objects as YAML with sorted
 * keys, Secret values and decrypted values (by `opts.decrypted` or either side's decryption mark) masked; `""` when they do not differ. `undefined` on one side is an object
 * to create or to prune. For a diff without server defaults as noise, pass `compare()`'s `target`
 * and `live`.
 */
export function unifiedDiff(desired: Manifest | undefined, live: Manifest | undefined, name: string, opts: DiffOptions = {}): string {
  // Normalize before masking: normalize turns Secret stringData into data, which must be masked too.
  const normalized = [desired && normalize(desired), live && normalize(live)];
  const [desiredText, liveText] = maskForView(normalized, opts).map(toLines);
  const script = diffLines(liveText ?? [], desiredText ?? []);
  if (script.every((edit) => edit.op === " ")) return "";
  return [`--- live/${name}`, `+++ desired/${name}`, ...hunks(script, CONTEXT_LINES), ""].join("\n");
}

function toLines(obj: Manifest | undefined): string[] {
  if (obj === undefined) return [];
  // Sorted keys so the same object always prints the same; no folding so one field stays one line.
  return stringify(obj, { sortMapEntries: true, lineWidth: 0 }).trimEnd().split("\n");
}
