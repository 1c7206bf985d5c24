// The Image Updater loop's pure decisions: which chosen tags still need a write, and what the
// Application's ImageUpdate conditions become after a pass. The loop (updater.ts) does the I/O.
import type { Condition } from "../api/types.ts";
import { tagWithDigest, type ImageChange } from "./edit.ts";

/** The condition types the image updater owns on an Application (the reconcile carries them over). */
export const IMAGE_UPDATE_ERROR = "ImageUpdateError";
export const IMAGE_UPDATE_WARNING = "ImageUpdateWarning";

/** A tag written (or found already in place) for one image of one app, and when. */
export interface WrittenTag {
  readonly tag: string;
  readonly at: number;
}

/**
 * How long a tag known to be in place saves a clone. After that the write is tried again (an unchanged
 * tree pushes nothing), so a tag someone changed in Git by hand is put back, as Image Updater does.
 */
export const RECHECK_MS = 10 * 60_000;

/** The changes still to write: those whose tag is not the one last written, or last written too long ago. */
export function pendingChanges(
  chosen: readonly ImageChange[], written: (alias: string) => WrittenTag | undefined, now: number,
): ImageChange[] {
  return chosen.filter((c) => {
    const last = written(c.image.alias);
    return last === undefined || last.tag !== tagWithDigest(c) || now - last.at >= RECHECK_MS;
  });
}

/** What one pass over an app found: the problems (one per image or one for the app) and warnings. */
export interface PassOutcome {
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

/**
 * The Application's conditions after a pass: the other conditions as they are, then one ImageUpdateError
 * and one ImageUpdateWarning holding the pass's messages (none when there are none), each keeping its
 * transition time while its message is the same.
 */
export function imageConditions(before: readonly Condition[], outcome: PassOutcome, now: string): Condition[] {
  const own = (type: string, messages: readonly string[]): Condition[] => {
    if (messages.length === 0) return [];
    const message = messages.join("; ");
    const same = before.find((c) => c.type === type && c.message === message);
    return [{ type, message, lastTransitionTime: same?.lastTransitionTime ?? now }];
  };
  return [
    ...before.filter((c) => c.type !== IMAGE_UPDATE_ERROR && c.type !== IMAGE_UPDATE_WARNING),
    ...own(IMAGE_UPDATE_ERROR, outcome.problems), ...own(IMAGE_UPDATE_WARNING, outcome.warnings),
  ];
}

/** Which apps a pass looks at: every annotated one (the poll), or those following a pushed repository. */
export type PassScope = "all" | ReadonlySet<string>;

/** Two requested passes as one: a full pass covers any pushed repository. */
export function mergeScopes(a: PassScope | undefined, b: PassScope): PassScope {
  if (a === undefined) return b;
  if (a === "all" || b === "all") return "all";
  return new Set([...a, ...b]);
}

/**
 * Whether a pass of `scope` looks at an app following `images`. A registry's notification names the
 * repository without a trustworthy host (the registry's own address may differ from the one in the
 * annotation), so the repository path alone is matched.
 */
export function inScope(images: readonly { readonly image: { readonly repository: string } }[], scope: PassScope): boolean {
  return scope === "all" || images.some((i) => scope.has(i.image.repository));
}
