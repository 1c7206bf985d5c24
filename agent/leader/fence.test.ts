import { describe, expect, it } from "vitest";
import type { Manifest, ObjectRef } from "../api/types.ts";
import type { Cluster } from "../apply/cluster.ts";
import { fencedCluster, NotOwnerError } from "./fence.ts";

/** A cluster that records what reached it. */
function recording(): Cluster & { sent: string[] } {
  const sent: string[] = [];
  const obj: Manifest = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } };
  return {
    sent, writes: { apply: 0, dryRun: 0, delete: 0, create: 0 },
    isNamespaced: () => Promise.resolve(true), plural: () => Promise.resolve("configmaps"),
    get: () => { sent.push("get"); return Promise.resolve(obj); },
    apply: (_o, opts) => { sent.push(opts?.dryRun ? "dry-run" : "apply"); return Promise.resolve(obj); },
    delete: () => { sent.push("delete"); return Promise.resolve(); },
    create: () => { sent.push("create"); return Promise.resolve(obj); },
  };
}

const cm: Manifest = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "web" } };
const ref: ObjectRef = { group: "", version: "v1", kind: "ConfigMap", namespace: "web", name: "a" };

describe("a fenced cluster", () => {
  it("sends reads and dry-runs always, and writes only while the replica owns the app", async () => {
    let owns = true;
    const inner = recording();
    const cluster = fencedCluster(inner, "web", () => owns);
    await cluster.apply(cm);
    owns = false;
    await cluster.get(ref);
    await cluster.apply(cm, { dryRun: true });
    await expect(cluster.apply(cm)).rejects.toBeInstanceOf(NotOwnerError);
    await expect(cluster.create(cm)).rejects.toThrow(/web: this agent no longer holds the app's Lease/);
    await expect(cluster.delete(ref)).rejects.toBeInstanceOf(NotOwnerError);
    expect(inner.sent).toEqual(["apply", "get", "dry-run"]);
  });
});
