// How big the Application status of a large app is, in bytes of JSON (what etcd stores, under its
// 1.5 MiB request limit; issue 28 asks for under 512 KiB): a 5,000-object app's first sync.
import { describe, expect, it } from "vitest";
import type { Application, Manifest } from "../api/types.ts";
import type { Change } from "../apply/changeset.ts";
import { inventoryEntry, inventoryOf } from "../apply/inventory.ts";
import { plan } from "../apply/plan.ts";
import { buildStatus, PLAIN_RESULTS_LISTED } from "./status.ts";

const OBJECTS = 5000;
/** Issue 28's bound for the status of one 5,000-object app (etcd's limit per object is 1.5 MiB). */
const STATUS_TARGET = 512 * 1024;
const ETCD_LIMIT = 1.5 * 1024 * 1024;

describe("the status of a 5,000-object app", () => {
  it("is under 512 KiB: resources without health for kinds that have no check, the inventory folded into them", () => {
    const app: Application = {
      apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "big", namespace: "tether-system" },
      spec: { source: { repoURL: "https://git.example.com/platform.git", path: "big" }, destination: { namespace: "big-apps" } },
    };
    const manifests: Manifest[] = Array.from({ length: OBJECTS }, (_, i) =>
      ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `settings-${String(i).padStart(4, "0")}` }, data: { k: "v" } }));
    const planned = plan({ app: { name: "big", namespace: "tether-system" }, manifests, defaultNamespace: "big-apps", isNamespaced: () => true });
    const changes: Change[] = planned.map((p) => ({ ref: p.ref, action: "created" }));
    const bytes = (v: unknown) => (v === undefined ? 0 : Buffer.byteLength(JSON.stringify(v)));
    const inventory = planned.map((p) => inventoryEntry(p.ref));
    const after = statusOf(app, planned, changes, inventory);
    // Before: every entry with `group: ""` and `health: Healthy`, and the inventory spelled out beside the resources.
    const before = { ...after, inventoryFromResources: undefined, resources: after.resources?.map((r) => ({ group: "", ...r, health: { status: "Healthy" } })), inventory };
    const figures = {
      objects: OBJECTS, statusBefore: bytes(before), statusAfter: bytes(after), resources: bytes(after.resources),
      inventoryBefore: bytes(before.inventory), inventoryAfter: bytes(after.inventoryFromResources), syncResult: bytes(after.operationState?.syncResult),
    };
    console.log(`status size of a ${OBJECTS}-object app (bytes of JSON): ${JSON.stringify(figures)}`);
    expect(figures.statusBefore).toBeGreaterThan(STATUS_TARGET);
    expect(figures.statusAfter).toBeLessThan(STATUS_TARGET);
    // Still useful: every object listed with its sync status, the app Healthy, and prune's inventory whole.
    expect(after.resources).toHaveLength(OBJECTS);
    expect(after.health).toEqual({ status: "Healthy" });
    expect(inventoryOf(after)).toEqual([...inventory].sort());
    // The 5,000 plain "created" results are counted by the message, not listed.
    expect(after.operationState?.syncResult?.resources).toEqual([]);
    expect(after.operationState?.message).toMatch(/and 4980 more \(4980 created\)$/);
  });

  it.each<[string, { owned: number; fold: string; listed: number }]>([
    ["4,000 of the objects owned (the others not applied yet): the 1,000 others named", { owned: OBJECTS - 1000, fold: "except", listed: 1000 }],
    ["none owned (the first sync has not run): `only: []`", { owned: 0, fold: "only", listed: 0 }],
  ])("%s", (_title, { owned, fold, listed }) => {
    const app: Application = {
      apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "big", namespace: "tether-system" },
      spec: { source: { repoURL: "https://git.example.com/platform.git", path: "big" }, destination: { namespace: "big-apps" } },
    };
    const manifests: Manifest[] = Array.from({ length: OBJECTS }, (_, i) =>
      ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `settings-${String(i).padStart(4, "0")}` } }));
    const planned = plan({ app: { name: "big", namespace: "tether-system" }, manifests, defaultNamespace: "big-apps", isNamespaced: () => true });
    const inventory = planned.slice(0, owned).map((p) => inventoryEntry(p.ref));
    const status = buildStatus({
      app, revision: "0123456789abcdef0123456789abcdef01234567", renderKey: "k", stale: [], after: new Map(), changes: [], inventory, synced: false,
      pairs: planned.map((p, i) => ({ planned: p, live: i < owned ? p.manifest : undefined, inSync: i < owned })), now: "2026-12-06T06:00:00Z",
    });
    expect(Object.keys(status.inventoryFromResources ?? {})).toEqual([fold]);
    expect(Object.values(status.inventoryFromResources ?? {})[0]).toHaveLength(listed);
    expect(inventoryOf(status)).toEqual([...inventory].sort());
    expect(Buffer.byteLength(JSON.stringify(status))).toBeLessThan(ETCD_LIMIT);
  });

  it("is under 512 KiB before the first sync too, every object Missing: no per-object health for a kind without a health check", () => {
    const app: Application = {
      apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "big", namespace: "tether-system" },
      spec: { source: { repoURL: "https://git.example.com/platform.git", path: "big" }, destination: { namespace: "big-apps" } },
    };
    const manifests: Manifest[] = Array.from({ length: OBJECTS }, (_, i) =>
      ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `settings-${String(i).padStart(4, "0")}` }, data: { k: "v" } }));
    const planned = plan({ app: { name: "big", namespace: "tether-system" }, manifests, defaultNamespace: "big-apps", isNamespaced: () => true });
    const status = buildStatus({
      app, revision: "0123456789abcdef0123456789abcdef01234567", renderKey: "k", stale: [], after: new Map(), changes: [], inventory: [], synced: false,
      pairs: planned.map((p) => ({ planned: p, live: undefined, inSync: false })), now: "2026-12-06T06:00:00Z",
    });
    const bytes = Buffer.byteLength(JSON.stringify(status));
    console.log(`status size of a never-synced ${OBJECTS}-object app: ${bytes} bytes of JSON`);
    expect(bytes).toBeLessThan(STATUS_TARGET);
    expect(status.resources).toHaveLength(OBJECTS);
    expect(status.resources?.every((r) => r.status === "OutOfSync")).toBe(true);
    // The app still says what a user must know: nothing of it exists yet.
    expect(status.health).toEqual({ status: "Missing", message: "ConfigMap/big-apps/settings-0000: Missing" });
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
