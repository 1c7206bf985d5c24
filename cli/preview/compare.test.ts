import { describe, expect, it } from "vitest";
import type { Application, Manifest } from "../../agent/api/types.ts";
import { comparePreviews } from "./compare.ts";
import type { AppSnapshot } from "./tree.ts";

const configMap = (name: string, value: string): Manifest =>
  ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "shop" }, data: { password: value } });

function snapshot(objects: readonly Manifest[], decrypted: readonly string[]): AppSnapshot {
  return {
    name: "shop", app: { metadata: { name: "shop" }, spec: {} } as unknown as Application, objects,
    rendered: objects.map((manifest) => ({ manifest, file: "x.yaml", decrypted: decrypted.includes(manifest.metadata.name ?? "") })),
  };
}

describe("tether preview's diff", () => {
  it("masks every value SOPS decrypted, whatever the kind, at both commits", () => {
    const base = snapshot([configMap("db", "old-plaintext"), configMap("plain", "visible-before")], ["db"]);
    const head = snapshot([configMap("db", "new-plaintext"), configMap("plain", "visible-after")], ["db"]);
    const preview = comparePreviews([base], [head], { base: "a", head: "b" });
    const diffs = preview.apps[0]?.objects.map((o) => o.diff).join("\n") ?? "";
    expect(diffs).not.toMatch(/old-plaintext|new-plaintext/);
    expect(preview.apps[0]?.objects.map((o) => o.object)).toEqual(["ConfigMap/shop/db", "ConfigMap/shop/plain"]);
    // What was not decrypted is shown as it is: the masking is per object, not everything.
    expect(diffs).toMatch(/visible-before/);
    expect(diffs).toMatch(/visible-after/);
  });

  it("masks a decrypted object that head removes", () => {
    const base = snapshot([configMap("db", "gone-plaintext")], ["db"]);
    const preview = comparePreviews([base], [snapshot([], [])], { base: "a", head: "b" });
    expect(preview.apps[0]?.objects).toHaveLength(1);
    expect(preview.apps[0]?.objects[0]?.diff).not.toMatch(/gone-plaintext/);
  });
});
