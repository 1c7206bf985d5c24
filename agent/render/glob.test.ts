import { describe, expect, it } from "vitest";
import { globMatch, matchesList } from "./glob.ts";

describe("globMatch (Argo CD's gobwas semantics)", () => {
  it.each([
    ["*.yaml", "sub/a.yaml", {}, true],
    ["*.yaml", "sub/a.yaml", { separator: "/" as const }, false],
    ["https://github.com/org/*", "https://github.com/org/repo", { separator: "/" as const }, true],
    ["https://github.com/org/*", "https://github.com/org/sub/repo", { separator: "/" as const }, false],
    ["https://github.com/org/**", "https://github.com/org/sub/repo", { separator: "/" as const }, true],
    ["team-?", "team-a", {}, true],
    ["team-?", "team-ab", {}, false],
    ["team-[ab]", "team-b", {}, true],
    ["team-[!ab]", "team-b", {}, false],
    ["{dev,prod}-*", "prod-eu", {}, true],
    ["{dev,prod}-*", "test-eu", {}, false],
    ["{a,{b,c}}", "c", {}, true],
    ["a\\*", "a*", {}, true],
    ["a\\*", "ab", {}, false],
    ["*", "anything/at/all", { separator: "/" as const }, true],
    ["[unclosed", "[unclosed", {}, false],
  ])("%s against %s (%o) is %s", (pattern, value, options, expected) => {
    expect(globMatch(pattern, value, options)).toBe(expected);
  });
});

describe("matchesList (deny patterns)", () => {
  it.each([
    [["team-*"], "team-a", true],
    [["team-*", "!team-secret"], "team-secret", false],
    [["!team-secret"], "team-a", false],
    [["*", "!kube-*"], "kube-system", false],
    [["*", "!kube-*"], "default", true],
  ])("%o permits %s: %s", (patterns, value, expected) => {
    expect(matchesList(patterns, value)).toBe(expected);
  });
});
