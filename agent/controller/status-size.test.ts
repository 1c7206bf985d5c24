// How big the Application status of a large app is, in bytes of JSON (what etcd stores, under its
// 1.5 MiB request limit): a 5,000-object app's first sync, with the inventory in the first spelling
// (group/version/kind/namespace/name) and in Flux's (namespace_name_group_kind_version).
import { describe, expect, it } from "vitest";
import type { Application, Manifest } from "../api/types.ts";
import type { Change } from "../apply/changeset.ts";
import { displayRef, inventoryEntry, refKey } from "../apply/inventory.ts";
import { plan } from "../apply/plan.ts";
import { buildStatus, PLAIN_RESULTS_LISTED } from "./status.ts";

const OBJECTS = 5000;
const ETCD_LIMIT = 1.5 * 1024 * 1024;

describe("the status of a 5,000-object app", () => {
  it("fits under etcd's limit (it did not while the operation's message named every object), and says where its bytes go", () => {
    const app: Application = {
      apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "big", namespace: "tether-system" },
      spec: { source: { repoURL: "https://git.example.com/platform.git", path: "big" }, destination: { namespace: "big-apps" } },
    };
    const manifests: Manifest[] = Array.from({ length: OBJECTS }, (_, i) =>
      ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `settings-${String(i).padStart(4, "0")}` }, data: { k: "v" } }));
    const planned = plan({ app: { name: "big", namespace: "tether-system" }, manifests, defaultNamespace: "big-apps", isNamespaced: () => true });
    const changes: Change[] = planned.map((p) => ({ ref: p.ref, action: "created" }));
    const status = (inventory: string[]) => statusOf(app, planned, changes, inventory);
    const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));
    const first = status(planned.map((p) => refKey(p.ref)));
    // Before: the first inventory spelling, an operation message that named all 5,000 objects, and a
    // result listed for each of them.
    const before = { ...first, operationState: { ...first.operationState!, message: planned.map((p) => `created ${displayRef(p.ref)}`).join(", "),
      syncResult: { ...first.operationState!.syncResult!, resources: planned.map((p) => ({ ...p.ref, status: "Synced" as const, message: "created" })) } } };
    const after = status(planned.map((p) => inventoryEntry(p.ref)));
    const figures = {
      objects: OBJECTS,
      statusBefore: bytes(before), statusAfter: bytes(after), message: bytes(after.operationState?.message),
      inventoryBefore: bytes(before.inventory), inventoryAfter: bytes(after.inventory),
      resources: bytes(after.resources), syncResult: bytes(after.operationState?.syncResult),
    };
    console.log(`status size of a ${OBJECTS}-object app (bytes of JSON): ${JSON.stringify(figures)}`);
    expect(figures.inventoryAfter).toBeLessThanOrEqual(figures.inventoryBefore);
    expect(figures.statusBefore).toBeGreaterThan(ETCD_LIMIT);
    expect(figures.statusAfter).toBeLessThan(ETCD_LIMIT);
    // The 5,000 plain "created" results are counted by the message, not listed.
    expect(after.operationState?.syncResult?.resources).toEqual([]);
    expect(after.operationState?.message).toMatch(/and 4980 more \(4980 created\)$/);
  });

  it.each([
    { objects: PLAIN_RESULTS_LISTED, listed: PLAIN_RESULTS_LISTED + 1 },
    { objects: PLAIN_RESULTS_LISTED + 1, listed: 1 },
  ])("a finished operation over $objects objects, one of them failed, lists $listed results", ({ objects, listed }) => {
    const app: Application = {
      apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "mid", namespace: "tether-system" },
      spec: { source: { repoURL: "https://git.example.com/platform.git", path: "mid" }, destination: { namespace: "mid" } },
    };
    const manifests: Manifest[] = Array.from({ length: objects + 1 }, (_, i) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `c-${i}` } }));
    const planned = plan({ app: { name: "mid", namespace: "tether-system" }, manifests, defaultNamespace: "mid", isNamespaced: () => true });
    const changes: Change[] = planned.map((p, i) => (i === objects ? { ref: p.ref, action: "failed", message: "refused" } : { ref: p.ref, action: "created" }));
    const results = statusOf(app, planned, changes, []).operationState?.syncResult?.resources ?? [];
    expect(results).toHaveLength(listed);
    expect(results.find((r) => r.status === "SyncFailed")).toMatchObject({ name: `c-${objects}`, message: "refused" });
  });
});

function statusOf(app: Application, planned: ReturnType<typeof plan>, changes: Change[], inventory: string[]) {
  return buildStatus({
    app, revision: "0123456789abcdef0123456789abcdef01234567", renderKey: "k", pairs: planned.map((p) => ({ planned: p, live: p.manifest, inSync: false })),
    stale: [], after: new Map(), changes, inventory, synced: true, now: "2026-12-06T06:00:00Z",
    operation: { phase: "Succeeded", message: "", startedAt: "2026-12-06T06:00:00Z", hooks: [] },
  });
}
