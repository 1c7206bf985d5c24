import { describe, expect, it } from "vitest";
import { assignShards, shardOf } from "./assign.ts";

describe("shardOf", () => {
  it("gives an app the same shard every time, whichever replica asks", () => {
    expect(shardOf("guestbook", 3)).toBe(shardOf("guestbook", 3));
    expect(shardOf("guestbook", 1)).toBe(0);
  });

  it("spreads many apps over every shard, none with more than twice its share", () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[shardOf(`app-${i}`, 3)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(500);
    for (const c of counts) expect(c).toBeLessThan(2000);
  });
});

describe("assignShards", () => {
  it.each([
    { what: "nobody holds anything", members: ["b", "a", "c"], holders: [], shards: 3, expected: ["a", "b", "c"] },
    { what: "two replicas, three shards", members: ["a", "b"], holders: [], shards: 3, expected: ["a", "b", "a"] },
    { what: "one replica holds everything", members: ["a"], holders: [], shards: 2, expected: ["a", "a"] },
    { what: "more replicas than shards", members: ["a", "b", "c", "d"], holders: [], shards: 2, expected: ["a", "b"] },
    { what: "no live replica", members: [], holders: [], shards: 2, expected: [] },
    { what: "a replica joins one that held all", members: ["a", "b", "c"], holders: ["a", "a", "a"], shards: 3, expected: ["a", "b", "c"] },
    { what: "holders kept where balanced", members: ["a", "b", "c"], holders: ["c", "a", "b"], shards: 3, expected: ["c", "a", "b"] },
    { what: "a dead holder's shard", members: ["a", "c"], holders: ["a", "b", "c"], shards: 3, expected: ["a", "a", "c"] },
    { what: "a newcomer when shards do not divide", members: ["a", "b", "c"], holders: ["a", "a", "b", "b"], shards: 4, expected: ["a", "a", "b", "c"] },
  ])("$what", ({ members, holders, shards, expected }) => {
    expect(assignShards(members, holders, shards)).toEqual(expected);
  });

  it("moves only the dead replica's shards when one of three goes", () => {
    const before = assignShards(["a", "b", "c"], [], 6);
    const after = assignShards(["a", "c"], before, 6);
    expect(before.filter((m, i) => m !== "b" && after[i] !== m)).toEqual([]);
    expect(after.filter((m) => m === "a").length).toBe(3);
  });
});
