import { describe, expect, it } from "vitest";
import type { Manifest } from "../api/types.ts";
import { lastApplied, threeWayPatch, withLastApplied } from "./client-side.ts";

const cm = (data: Record<string, string>, annotations?: Record<string, string>): Manifest =>
  ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", ...(annotations ? { annotations } : {}) }, data });

describe("client-side apply, as kubectl apply computes it", () => {
  it("records the object without its own annotation as the last applied configuration", () => {
    const applied = withLastApplied(cm({ K: "v" }, { team: "web" }));
    expect(lastApplied(applied)).toEqual({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", annotations: { team: "web" } }, data: { K: "v" } });
    expect(lastApplied(withLastApplied(applied))).toEqual(lastApplied(applied));
  });

  it("removes what the last apply set and Git dropped, sets what differs, and leaves fields others added", () => {
    const original = lastApplied(withLastApplied(cm({ K: "v", OLD: "x" })));
    const desired = withLastApplied(cm({ K: "w" }));
    const live = { ...cm({ K: "v", OLD: "x", THEIRS: "y" }), metadata: { name: "a", uid: "1", labels: { added: "by-hand" } } };
    const patch = threeWayPatch(original, desired, live);
    expect(patch).toEqual({ data: { K: "w", OLD: null }, metadata: { annotations: desired.metadata.annotations } });
  });

  it("is empty when live already is what Git holds", () => {
    const desired = withLastApplied(cm({ K: "v" }));
    const live = { ...desired, metadata: { ...desired.metadata, uid: "1", resourceVersion: "5" } };
    expect(threeWayPatch(lastApplied(live), desired, live)).toEqual({});
  });

  it("sets a list whole and leaves alone an object no one applied before", () => {
    const desired = { apiVersion: "v1", kind: "X", metadata: { name: "a" }, spec: { ports: [{ port: 80 }] } };
    const live = { apiVersion: "v1", kind: "X", metadata: { name: "a" }, spec: { ports: [{ port: 80, protocol: "TCP" }], other: 1 } };
    expect(threeWayPatch(undefined, desired, live)).toEqual({ spec: { ports: [{ port: 80 }] } });
  });
});
