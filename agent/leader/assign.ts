// Which shard an Application belongs to and which replica should hold which shard: pure, so every
// replica computes the same answer from the same Leases.
import { createHash } from "node:crypto";

/**
 * The shard of an app: a stable hash of its name, so the answer never depends on which replica asks
 * or on the order apps were created. By app rather than by destination cluster: most installations
 * deploy to one cluster, and the work should still spread.
 */
export function shardOf(app: string, shards: number): number {
  return createHash("sha256").update(app).digest().readUInt32BE(0) % shards;
}

/**
 * The replica each shard should go to, given the live replicas and who holds each shard now
 * (`holders[i]`, undefined when nobody does). Each replica gets ⌊N/M⌋ or ⌈N/M⌉ shards; a shard stays
 * with its holder while that keeps the balance, so a replica joining or leaving moves as few shards
 * as it can. Free shards go to the replica holding the fewest (ties by name).
 */
export function assignShards(members: readonly string[], holders: readonly (string | undefined)[], shards: number): string[] {
  const live = [...new Set(members)].sort();
  if (live.length === 0) return [];
  const floor = Math.floor(shards / live.length);
  let ceilSlots = shards % live.length;
  const count = new Map(live.map((m) => [m, 0]));
  const result: (string | undefined)[] = Array.from({ length: shards }, () => undefined);
  const give = (i: number, m: string) => {
    result[i] = m;
    count.set(m, count.get(m)! + 1);
  };
  for (let i = 0; i < shards; i++) {
    const h = holders[i];
    if (h !== undefined && count.has(h) && count.get(h)! < floor) give(i, h);
  }
  for (let i = 0; i < shards; i++) {
    const h = holders[i];
    if (result[i] === undefined && h !== undefined && count.get(h) === floor && ceilSlots > 0) {
      give(i, h);
      ceilSlots--;
    }
  }
  for (let i = 0; i < shards; i++) {
    if (result[i] !== undefined) continue;
    give(i, live.reduce((best, m) => (count.get(m)! < count.get(best)! ? m : best)));
  }
  return result as string[];
}
