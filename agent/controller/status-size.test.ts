// How big the Application status of a large app is, in bytes of JSON (what etcd stores, under its
// 1.5 MiB request limit): a 5,000-object app's first sync, with the inventory in the first spelling
// (group/version/kind/namespace/name) and in Flux's (namespace_name_group_kind_version).
import { describe, expect, it } from "vitest";
import type { Application, Manifest } from "../api/types.ts";
import type { Change } from "../apply/changeset.ts";
import { displayRef, inventoryEntry, refKey } from "../apply/inventory.ts";
import { plan } from "../apply/plan.ts";
import { buildStatus } from "./status.ts";

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
    const status = (inventory: string[]) => buildStatus({
      app, revision: "0123456789abcdef0123456789abcdef01234567", renderKey: "k", pairs: planned.map((p) => ({ planned: p, live: p.manifest, inSync: false })),
      stale: [], after: new Map(), changes, inventory, synced: true, now: "2026-12-06T06:00:00Z",
      operation: { phase: "Succeeded", message: "", startedAt: "2026-12-06T06:00:00Z", hooks: [] },
    });
    const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));
    const first = status(planned.map((p) => refKey(p.ref)));
    // Before: the first inventory spelling, and an operation message that named all 5,000 objects.
    const before = { ...first, operationState: { ...first.operationState!, message: planned.map((p) => `created ${displayRef(p.ref)}`).join(", ") } };
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
  });
});
