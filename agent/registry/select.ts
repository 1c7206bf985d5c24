// Which tag an image should move to: pure, over the tags a registry listed. Image Updater's rules:
// allow-tags and ignore-tags filter first; then `semver` takes the highest version inside the
// constraint, `newest-build` the most recently built (image config `created`, ties by name),
// `alphabetical` the last by name, `digest` the one tag the constraint names (its digest is what moves).
import semver from "semver";
import { GlobSyntaxError, globToRegExp } from "../render/glob.ts";

/** Image Updater's update strategies, under their current names. */
export type UpdateStrategy = "semver" | "newest-build" | "alphabetical" | "digest";

/** Image Updater's old names, still honoured: `latest` was `newest-build`, `name` was `alphabetical`. */
const STRATEGY_ALIASES: Record<string, UpdateStrategy> = {
  "semver": "semver", "newest-build": "newest-build", "latest": "newest-build",
  "alphabetical": "alphabetical", "name": "alphabetical", "lexical": "alphabetical", "digest": "digest",
};

/** A value that cannot be used: the message says what is wrong and what is accepted. */
export class SelectionSyntaxError extends Error {}

/** Parses `<alias>.update-strategy`; empty is `semver`, the default. */
export function parseStrategy(text: string | undefined): UpdateStrategy {
  const value = (text ?? "").trim().toLowerCase();
  if (value === "") return "semver";
  const strategy = STRATEGY_ALIASES[value];
  if (strategy === undefined) {
    throw new SelectionSyntaxError(`unknown update strategy '${text}': use semver, newest-build, alphabetical or digest`);
  }
  return strategy;
}

/** What allow-tags and ignore-tags let through. */
export interface TagFilter {
  /** `allow-tags: regexp:<re>`; undefined (or `any`) allows every tag. */
  readonly allow?: RegExp;
  /** `ignore-tags`: globs (`*`, `?`, `[a-z]`) of tags never chosen. */
  readonly ignore?: readonly string[];
}

/** Parses `<alias>.allow-tags` (`regexp:<re>` or `any`); empty allows every tag. */
export function parseAllowTags(text: string | undefined): RegExp | undefined {
  const value = (text ?? "").trim();
  if (value === "" || value.toLowerCase() === "any") return undefined;
  const colon = value.indexOf(":");
  if (colon < 0 || value.slice(0, colon).toLowerCase() !== "regexp") {
    throw new SelectionSyntaxError(`allow-tags '${value}' is not understood: write regexp:<expression> (e.g. regexp:^v1\\.) or any`);
  }
  try {
    return new RegExp(value.slice(colon + 1));
  } catch (err) {
    throw new SelectionSyntaxError(`allow-tags '${value}' is not a valid regular expression: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Parses `<alias>.ignore-tags`: comma-separated globs. */
export function parseIgnoreTags(text: string | undefined): string[] {
  const globs = (text ?? "").split(",").map((g) => g.trim()).filter((g) => g !== "");
  for (const glob of globs) {
    try {
      globToRegExp(glob);
    } catch (err) {
      if (err instanceof GlobSyntaxError) throw new SelectionSyntaxError(`ignore-tags pattern '${glob}' ${err.message}`);
      throw err;
    }
  }
  return globs;
}

/** Whether the filters let `tag` through. */
export function tagAllowed(tag: string, filter: TagFilter): boolean {
  if (filter.allow !== undefined && !filter.allow.test(tag)) return false;
  return !(filter.ignore ?? []).some((glob) => globToRegExp(glob, { separator: "/" }).test(tag));
}

/** A tag as the registry showed it; `created` is needed by `newest-build` only. */
export interface TagCandidate {
  readonly name: string;
  /** The image config's `created` time. */
  readonly created?: Date;
  readonly digest?: string;
}

/** How to choose. */
export interface SelectionRule extends TagFilter {
  readonly strategy: UpdateStrategy;
  /** `semver`: a constraint (`~1.2`, `^1`, `>=1.0, <2`, `1.x`); `digest`: the tag to follow; others: unused. */
  readonly constraint?: string;
}

/** The tag chosen, or why none was. */
export type Selection =
  | { readonly kind: "selected"; readonly tag: TagCandidate }
  | { readonly kind: "none"; readonly reason: string };

/** Whether a strategy needs each candidate's build date (one manifest and config request per tag). */
export function needsBuildDate(strategy: UpdateStrategy): boolean {
  return strategy === "newest-build";
}

/** Checks a rule before any registry is asked: a bad constraint is the user's to fix. */
export function validateRule(rule: SelectionRule): void {
  if (rule.strategy === "semver" && rule.constraint !== undefined && rule.constraint.trim() !== "") {
    if (semverRange(rule.constraint) === undefined) {
      throw new SelectionSyntaxError(`'${rule.constraint}' is not a semver constraint (e.g. ~1.2, ^1.0, >=1.0 <2.0, 1.x)`);
    }
  }
  if (rule.strategy === "digest" && (rule.constraint ?? "").trim() === "") {
    throw new SelectionSyntaxError("the digest strategy follows one tag: write it in the image-list (e.g. nginx:latest)");
  }
}

/** Chooses among `tags` by `rule`; never a tag outside the filters or the constraint. */
export function selectTag(tags: readonly TagCandidate[], rule: SelectionRule): Selection {
  validateRule(rule);
  if (tags.length === 0) return { kind: "none", reason: "the registry lists no tags for it" };
  const allowed = tags.filter((t) => tagAllowed(t.name, rule));
  if (allowed.length === 0) return { kind: "none", reason: `none of its ${tags.length} tags passes allow-tags/ignore-tags` };
  const chosen = choose(allowed, rule);
  if (chosen !== undefined) return { kind: "selected", tag: chosen };
  return { kind: "none", reason: noneReason(allowed, rule) };
}

/**
 * Every tag the rule lets through, best first (the one {@link selectTag} chooses is the first): what a
 * discovery with a limit (Kargo's `discoveryLimit`) keeps the head of.
 */
export function rankTags(tags: readonly TagCandidate[], rule: SelectionRule): TagCandidate[] {
  validateRule(rule);
  return ranked(tags.filter((t) => tagAllowed(t.name, rule)), rule).reverse();
}

function choose(tags: readonly TagCandidate[], rule: SelectionRule): TagCandidate | undefined {
  return ranked(tags, rule).at(-1);
}

/** The eligible tags, worst first. */
function ranked(tags: readonly TagCandidate[], rule: SelectionRule): TagCandidate[] {
  switch (rule.strategy) {
    case "semver": {
      const range = semverRange(rule.constraint ?? "") ?? "*";
      const versions = tags.map((t) => ({ t, v: tagVersion(t.name) })).filter((x) => x.v !== undefined && semver.satisfies(x.v, range));
      versions.sort((a, b) => semver.compare(a.v!, b.v!) || byName(a.t, b.t));
      return versions.map((x) => x.t);
    }
    case "newest-build": {
      const dated = tags.filter((t) => t.created !== undefined);
      return dated.sort((a, b) => a.created!.getTime() - b.created!.getTime() || byName(a, b));
    }
    case "alphabetical":
      return [...tags].sort(byName);
    case "digest":
      return tags.filter((t) => t.name === (rule.constraint ?? "").trim());
  }
}

function noneReason(tags: readonly TagCandidate[], rule: SelectionRule): string {
  switch (rule.strategy) {
    case "semver": {
      const versions = tags.map((t) => tagVersion(t.name)).filter((v): v is string => v !== undefined);
      if (versions.length === 0) return `none of its ${tags.length} tags is a semantic version`;
      return `no tag matches the constraint '${rule.constraint}' (highest version: ${semver.rsort(versions)[0]})`;
    }
    case "newest-build":
      return "no tag has a build date (the image config has no 'created')";
    case "digest":
      return `the tag '${rule.constraint}' is not in the registry`;
    case "alphabetical":
      return "no tags";
  }
}

function byName(a: TagCandidate, b: TagCandidate): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

const VERSION = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/**
 * A tag as a semantic version, as Masterminds/semver (Image Updater's) reads it: a `v` prefix and missing
 * minor or patch are allowed (`v1.2` is 1.2.0); anything else is not a version.
 */
export function tagVersion(tag: string): string | undefined {
  const m = VERSION.exec(tag);
  if (m === null) return undefined;
  const text = `${Number(m[1])}.${Number(m[2] ?? 0)}.${Number(m[3] ?? 0)}${m[4] ?? ""}`;
  return semver.valid(text) ?? undefined;
}

/** A Masterminds constraint as a node-semver range: commas are AND, as spaces are. */
function semverRange(constraint: string): string | undefined {
  const text = constraint.trim();
  if (text === "" || text === "*") return "*";
  const range = text.split("||").map((part) => part.split(",").map((c) => c.trim()).join(" ")).join(" || ");
  return semver.validRange(range) ?? undefined;
}
