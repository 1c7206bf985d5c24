import { describe, expect, it } from "vitest";
import { setsToRefresh } from "./controller.ts";

describe("setsToRefresh", () => {
  const read = new Map([
    ["apps", ["https://github.com/org/gitops.git"]],
    ["clusters", []],
    ["other", ["https://github.com/org/other"]],
  ]);
  it.each<[string, string[], string[]]>([
    ["the set whose git generator reads the pushed repository", ["https://github.com/org/gitops"], ["apps"]],
    ["whatever the spelling (case, .git, trailing slash)", ["https://GitHub.com/org/gitops/"], ["apps"]],
    ["through any URL the payload gives (clone, SSH, web)", ["git@github.com:org/x.git", "https://github.com/org/other.git"], ["other"]],
    ["none for a repository no generator reads", ["https://github.com/org/unrelated"], []],
  ])("%s", (_t, pushed, sets) => {
    expect(setsToRefresh(read, pushed)).toEqual(sets);
  });
});
