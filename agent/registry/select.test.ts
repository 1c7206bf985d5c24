import { describe, expect, it } from "vitest";
import { parseAllowTags, parseIgnoreTags, parseStrategy, rankTags, selectTag, tagVersion, type SelectionRule, type TagCandidate } from "./select.ts";

const tags = (...names: string[]): TagCandidate[] => names.map((name) => ({ name }));
const dated = (entries: Record<string, string>): TagCandidate[] =>
  Object.entries(entries).map(([name, created]) => ({ name, created: new Date(created) }));

describe("selectTag", () => {
  it.each<[string, TagCandidate[], SelectionRule, string | undefined]>([
    ["semver takes the highest version inside the constraint", tags("1.0.0", "1.2.3", "1.2.9", "1.3.0", "2.0.0"), { strategy: "semver", constraint: "~1.2" }, "1.2.9"],
    ["semver with ^ stays in the major", tags("1.0.0", "1.9.1", "2.0.0"), { strategy: "semver", constraint: "^1.0" }, "1.9.1"],
    ["semver accepts Masterminds' comma AND", tags("1.0.0", "1.5.0", "2.0.0"), { strategy: "semver", constraint: ">=1.0, <2.0" }, "1.5.0"],
    ["semver without a constraint takes the highest release", tags("1.0.0", "3.1.0", "latest", "4.0.0-rc.1"), { strategy: "semver" }, "3.1.0"],
    ["semver reads a v prefix and short versions", tags("v1.2", "v1.10.0", "v1.9.9"), { strategy: "semver", constraint: "1.x" }, "v1.10.0"],
    ["semver leaves pre-releases out unless asked", tags("1.2.0", "1.3.0-rc.1"), { strategy: "semver", constraint: ">=1.2" }, "1.2.0"],
    ["semver never takes a tag outside the constraint", tags("2.0.0", "3.0.0"), { strategy: "semver", constraint: "~1.2" }, undefined],
    ["semver ignores tags that are no versions", tags("latest", "main", "1.0.0"), { strategy: "semver" }, "1.0.0"],
    ["alphabetical takes the last by name", tags("2024-01-05", "2024-03-01", "2023-12-31"), { strategy: "alphabetical" }, "2024-03-01"],
    ["newest-build takes the newest config date", dated({ a: "2024-01-01T00:00:00Z", b: "2024-03-01T00:00:00Z", c: "2024-02-01T00:00:00Z" }), { strategy: "newest-build" }, "b"],
    ["newest-build breaks a tie by name", dated({ x: "2024-01-01T00:00:00Z", y: "2024-01-01T00:00:00Z" }), { strategy: "newest-build" }, "y"],
    ["digest follows the named tag", tags("latest", "stable"), { strategy: "digest", constraint: "latest" }, "latest"],
    ["allow-tags filters before choosing", tags("v1.0.0", "v2.0.0", "dev-3"), { strategy: "alphabetical", allow: /^v/ }, "v2.0.0"],
    ["ignore-tags globs are never chosen", tags("1.0.0", "1.1.0", "1.2.0"), { strategy: "semver", ignore: ["1.2.*"] }, "1.1.0"],
    ["ignore-tags matches whole tags", tags("latest", "1.0.0"), { strategy: "alphabetical", ignore: ["lat*"] }, "1.0.0"],
  ])("%s", (_title, candidates, rule, expected) => {
    const result = selectTag(candidates, rule);
    expect(result.kind === "selected" ? result.tag.name : undefined).toBe(expected);
  });

  it.each<[string, TagCandidate[], SelectionRule, RegExp]>([
    ["an empty repository", [], { strategy: "semver" }, /lists no tags/],
    ["a constraint nothing matches names the constraint and the highest version", tags("2.0.0", "3.1.0"), { strategy: "semver", constraint: "~1.2" }, /constraint '~1.2'.*3\.1\.0/],
    ["filters that refuse everything", tags("a", "b"), { strategy: "alphabetical", allow: /^v/ }, /allow-tags\/ignore-tags/],
    ["a digest tag that disappeared", tags("stable"), { strategy: "digest", constraint: "latest" }, /tag 'latest' is not in the registry/],
  ])("says why nothing was chosen: %s", (_title, candidates, rule, reason) => {
    const result = selectTag(candidates, rule);
    expect(result.kind).toBe("none");
    expect(result.kind === "none" ? result.reason : "").toMatch(reason);
  });

  it("refuses a constraint that is not semver, naming it", () => {
    expect(() => selectTag(tags("1.0.0"), { strategy: "semver", constraint: "one-point-two" })).toThrow(/'one-point-two' is not a semver constraint/);
  });
});

describe("rankTags", () => {
  it("lists the eligible tags best first, for a discovery limit", () => {
    expect(rankTags(tags("1.0.0", "1.2.0", "2.0.0", "1.1.0", "x"), { strategy: "semver", constraint: "^1" }).map((t) => t.name)).toEqual(["1.2.0", "1.1.0", "1.0.0"]);
  });
});

describe("annotation values", () => {
  it.each([["", "semver"], ["semver", "semver"], ["newest-build", "newest-build"], ["latest", "newest-build"],
    ["alphabetical", "alphabetical"], ["name", "alphabetical"], ["digest", "digest"], ["Digest", "digest"]])(
    "update-strategy %j is %s", (text, strategy) => expect(parseStrategy(text)).toBe(strategy));

  it("an unknown update-strategy is an error that lists the strategies (Image Updater falls back to semver)", () => {
    expect(() => parseStrategy("newest")).toThrow(/unknown update strategy 'newest': use semver, newest-build, alphabetical or digest/);
  });

  it.each([["", undefined], ["any", undefined], ["regexp:^v1\\.", "^v1\\."]])("allow-tags %j", (text, source) => {
    expect(parseAllowTags(text)?.source).toBe(source);
  });

  it.each([["glob:v*", /write regexp:<expression>/], ["regexp:([", /not a valid regular expression/]])("allow-tags %j is refused", (text, message) => {
    expect(() => parseAllowTags(text)).toThrow(message);
  });

  it("ignore-tags is a comma-separated list of globs", () => {
    expect(parseIgnoreTags(" latest, *-rc*,")).toEqual(["latest", "*-rc*"]);
    expect(() => parseIgnoreTags("[abc")).toThrow(/ignore-tags pattern '\[abc'/);
  });

  it.each([["1.2.3", "1.2.3"], ["v1.2", "1.2.0"], ["1", "1.0.0"], ["1.2.3-rc.1", "1.2.3-rc.1"], ["latest", undefined], ["1.2.3.4", undefined]])(
    "tag %j as a version is %j", (tag, version) => expect(tagVersion(tag)).toBe(version));
});
