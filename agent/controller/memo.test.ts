// SyncMemo: an object found (or made) equal to Git needs no dry-run again until either side changes.
import { describe, expect, it } from "vitest";
import type { Application, Manifest } from "../api/types.ts";
import type { PlannedObject } from "../apply/plan.ts";
import { RenderCache, SyncMemo } from "./memo.ts";

const app: Application = { apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "web", uid: "u1" }, spec: { destination: {} } };
const manifest = (value: string): Manifest => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "web" }, data: { VALUE: value } });
const planned = (value: string): PlannedObject => ({
  manifest: manifest(value), ref: { group: "", version: "v1", kind: "ConfigMap", namespace: "web", name: "cm" }, phase: 1, wave: 0,
  options: { method: "server-side", validate: true, prune: true, delete: true, pruneLast: false, force: false },
});
const live = (resourceVersion: string): Manifest => ({ ...manifest("1"), metadata: { ...manifest("1").metadata, uid: "o1", resourceVersion } });

describe("SyncMemo", () => {
  it.each([
    ["the same manifest (a new copy) and the same live version", planned("1"), live("7"), true],
    ["a manifest Git changed", planned("2"), live("7"), false],
    ["a live object changed since", planned("1"), live("8"), false],
  ])("after an apply, %s: unchanged is %s", (_what, obj, now, unchanged) => {
    const memo = new SyncMemo();
    memo.applied(app, planned("1"), live("7"));
    expect(memo.unchangedSinceApply(app, obj, now)).toBe(unchanged);
    expect(memo.isOwnWrite(live("7"))).toBe(true);
  });

  it("forgets an app that was deleted", () => {
    const memo = new SyncMemo();
    memo.remember(app, planned("1"), live("7"));
    memo.forget(app);
    expect(memo.unchangedSinceApply(app, planned("1"), live("7"))).toBe(false);
  });
});

describe("RenderCache", () => {
  const render = { objects: [{ file: "web/cm.yaml", decrypted: false, manifest: manifest("1") }], warnings: ["w"] };
  const bytes = JSON.stringify(manifest("1")).length + "web/cm.yaml".length + 1;

  it("holds a render kept for a new revision under both keys, each counted at the render's size", () => {
    const cache = new RenderCache();
    cache.set("rev1", render);
    cache.set("rev2", render);
    expect(cache.get("rev1")).toBe(render);
    expect(cache.get("rev2")).toBe(render);
    expect(cache.size).toBe(2 * bytes);
  });

  it("keeps no render larger than the whole cache", () => {
    const cache = new RenderCache(bytes / 2 / 1024 / 1024);
    cache.set("rev1", render);
    expect(cache.get("rev1")).toBeUndefined();
  });
});
