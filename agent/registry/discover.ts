// From a registry to the tag an image should move to: list the tags, filter them, read what the strategy
// needs (build dates for newest-build, the digest for digest), choose. The only I/O around select.ts.
import type { RegistryClient, TagInfo } from "./client.ts";
import type { ImageRef } from "./reference.ts";
import { needsBuildDate, rankTags, selectTag, tagAllowed, validateRule, type Selection, type SelectionRule, type TagCandidate } from "./select.ts";

/** What {@link discoverTags} found: the registry's tags, and the eligible ones best first. */
export interface Discovery {
  /** How many tags the registry listed. */
  readonly listed: number;
  /** The tags the rule allows, best first, each with its digest (and build date when the strategy reads it). */
  readonly ranked: readonly TagCandidate[];
  readonly selection: Selection;
}

/** Options for {@link discoverTags}. */
export interface DiscoverOptions {
  /** Read digests (one manifest request each) for at most this many of the best tags. Default 1. */
  readonly limit?: number;
}

/** Lists `image`'s tags and chooses by `rule`; throws the client's `RegistryFailed` errors. */
export async function discoverTags(client: RegistryClient, image: ImageRef, rule: SelectionRule, options: DiscoverOptions = {}): Promise<Discovery> {
  validateRule(rule);
  const names = await client.listTags(image);
  let candidates: TagCandidate[] = names.filter((name) => tagAllowed(name, rule)).map((name) => ({ name }));
  if (needsBuildDate(rule.strategy)) {
    // Only tags that pass the filters cost a manifest and a config request, as in Image Updater.
    candidates = await Promise.all(candidates.map(async (c) => withInfo(c, await client.tagInfo(image, c.name))));
  }
  const selection = selectTag(names.length === 0 ? [] : candidates.length === 0 ? names.map((name) => ({ name })) : candidates, rule);
  const best = rankTags(candidates, rule).slice(0, Math.max(1, options.limit ?? 1));
  const ranked = await Promise.all(best.map(async (c) => c.digest !== undefined ? c : { ...c, digest: await client.digest(image, c.name) }));
  const chosen = selection.kind === "selected" ? ranked.find((c) => c.name === selection.tag.name) : undefined;
  return { listed: names.length, ranked, selection: chosen === undefined ? selection : { kind: "selected", tag: chosen } };
}

function withInfo(candidate: TagCandidate, info: TagInfo): TagCandidate {
  return { ...candidate, digest: info.digest, ...(info.created === undefined ? {} : { created: info.created }) };
}
