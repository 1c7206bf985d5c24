import { describe, expect, it } from "vitest";
import type { Application } from "../api/types.ts";
import { AgentMetrics } from "./metrics.ts";

const metrics = () => new AgentMetrics({
  queueDepth: () => 0,
  writes: () => ({ cluster: { apply: 0, dryRun: 0, delete: 0, create: 0 }, client: { status: 0, patch: 0, event: 0 } }),
  live: () => ({ objects: 0, reads: { cache: 0, get: 0, list: 0, skipped: 0 } }),
});
const app = (name: string, health: string): Application => ({
  apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name, namespace: "tether-system" },
  spec: { project: "default", source: { repoURL: "https://example.com/r.git", path: "." }, destination: { namespace: "default" } },
  status: { sync: { status: "Synced" }, health: { status: health } },
} as Application);
const infoLines = async (m: AgentMetrics) => (await m.text()).split("\n").filter((l) => l.startsWith("tether_app_info{"));

describe("tether_app_info", () => {
  it("keeps one series per app: the same again leaves it, a new health replaces it, a deleted app drops it", async () => {
    const m = metrics();
    m.reconciled(app("a", "Progressing"), "success", 0.1, []);
    m.reconciled(app("a", "Progressing"), "success", 0.1, []);
    m.reconciled(app("b", "Healthy"), "success", 0.1, []);
    expect(await infoLines(m)).toHaveLength(2);
    m.reconciled(app("a", "Healthy"), "success", 0.1, []);
    const lines = await infoLines(m);
    expect(lines).toHaveLength(2);
    expect(lines.find((l) => l.includes('name="a"'))).toContain('health_status="Healthy"');
    m.forget("a");
    expect((await infoLines(m)).map((l) => /name="(\w+)"/.exec(l)?.[1])).toEqual(["b"]);
    expect(m.reconciles).toBe(4);
  });
});
