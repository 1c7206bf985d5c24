// Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time and the most
// inclusive time (time with them on the stack, counted once per sample however deep they recur).
//   npx tsx test/bench/cpuprofile.ts FILE.cpuprofile [TOP]
import { readFileSync } from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const label = (n: ProfileNode) => {
  const { functionName, url, lineNumber } = n.callFrame;
  return `${functionName || "(anonymous)"} ${url ? `${path.basename(url)}:${lineNumber + 1}` : ""}`.trim();
};

export function summarise(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  /** Inclusive time of the program's own (bundled) functions, without node's and the generic frames. */
  const own = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [i, id] of profile.samples.entries()) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(id)!;
    total += dt;
    if (node.callFrame.functionName === "(idle)") {
      idle += dt;
      continue;
    }
    self.set(label(node), (self.get(label(node)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const l = label(byId.get(at)!);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
      if (/\/dist\//.test(byId.get(at)!.callFrame.url) && byId.get(at)!.callFrame.functionName) own.set(l, (own.get(l) ?? 0) + dt);
    }
  }
  const rows = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([l, ms]) => `  ${ms.toFixed(0).padStart(7)} ms ${(ms / (total - idle) * 100).toFixed(1).padStart(5)}%  ${l}`).join("\n");
  return `busy ${((total - idle) / 1000).toFixed(2)} s of ${(total / 1000).toFixed(2)} s sampled\nself time:\n${rows(self)}\ninclusive time:\n${rows(inclusive)}\ninclusive time, the program's own functions:\n${rows(own)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(summarise(process.argv[2]!, Number(process.argv[3] ?? 40)));
