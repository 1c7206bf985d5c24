import { describe, expect, it } from "vitest";
import type { Manifest } from "../api/types.ts";
import { childDeletion } from "./deletion.ts";

const ID = "tether-system/root:tether.dev/Application:tether-system/child";
const child = (annotations: Record<string, string>): Manifest =>
  ({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "child", namespace: "tether-system", annotations } });

describe("what a parent's cascade does to a child Application", () => {
  it.each([
    { what: "a tracked child is deleted", live: child({ "tether.dev/tracking-id": ID }), options: [], expected: "delete" },
    { what: "Delete=false keeps it", live: child({ "tether.dev/tracking-id": ID, "tether.dev/sync-options": "Delete=false" }), options: [], expected: "Delete=false" },
    { what: "Argo CD's spelling keeps it", live: child({ "tether.dev/tracking-id": ID, "argocd.argoproj.io/sync-options": "Prune=false,Delete=false" }),
      options: [], expected: "Delete=false" },
    { what: "the parent's syncOptions keep it", live: child({ "tether.dev/tracking-id": ID }), options: ["Delete=false"], expected: "Delete=false" },
    { what: "a child another app tracks now is left alone", live: child({ "tether.dev/tracking-id": "tether-system/other:x" }), options: [],
      expected: "tracked by another owner" },
    { what: "a child already gone", live: undefined, options: [], expected: "gone" },
  ])("$what", ({ live, options, expected }) => {
    expect(childDeletion(live, ID, options)).toBe(expected);
  });
});
