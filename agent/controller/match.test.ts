import { describe, expect, it } from "vitest";
import type { Manifest, ObjectRef } from "../api/types.ts";
import { trackedOrphans } from "./match.ts";

const idOf = (ref: ObjectRef) => `tether-system/web:${ref.group}/${ref.kind}:${ref.namespace ?? ""}/${ref.name}`;
const cm = (name: string, annotations: Record<string, string> = {}): Manifest => ({
  apiVersion: "v1", kind: "ConfigMap",
  metadata: { name, namespace: "web", labels: { "tether.dev/app": "web" }, annotations: { "tether.dev/tracking-id": idOf({ group: "", version: "v1", kind: "ConfigMap", namespace: "web", name }), ...annotations } },
});
const ref = (name: string): ObjectRef => ({ group: "", version: "v1", kind: "ConfigMap", namespace: "web", name });

describe("objects found by tracking id that neither Git nor the inventory names", () => {
  it.each([
    { what: "an orphan of a lost inventory write", live: [cm("lost")], known: [ref("kept")], expected: ["lost"] },
    { what: "an object Git still holds", live: [cm("kept")], known: [ref("kept")], expected: [] },
    { what: "an object the inventory already names (version aside)", live: [cm("old")], known: [{ ...ref("old"), version: "v2" }], expected: [] },
    { what: "a hook (hooks are never pruned)", live: [cm("job", { "tether.dev/hook": "PreSync" })], known: [], expected: [] },
    { what: "Argo CD's hook spelling", live: [cm("job", { "argocd.argoproj.io/hook": "PostSync" })], known: [], expected: [] },
    { what: "a copy whose tracking id names another object", live: [cm("copy", { "tether.dev/tracking-id": idOf(ref("original")) })], known: [], expected: [] },
  ])("$what", ({ live, known, expected }) => {
    expect(trackedOrphans(live, known, idOf).map((r) => r.name)).toEqual(expected);
  });
});
