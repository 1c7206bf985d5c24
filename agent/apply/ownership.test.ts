import { describe, expect, it } from "vitest";
import { TRACKING_ANNOTATION, type Manifest } from "../api/types.ts";
import { sharedMessage, trackedElsewhere } from "./ownership.ts";

const cm = (tracking?: string): Manifest => ({
  apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "web", ...(tracking ? { annotations: { [TRACKING_ANNOTATION]: tracking } } : {}) },
});
const mine = "tether-system/web:/ConfigMap:web/settings";

describe("trackedElsewhere", () => {
  it.each([
    ["not live", undefined, undefined],
    ["live without a tracking id (made by another tool: adopted)", cm(), undefined],
    ["tracked by this application", cm(mine), undefined],
    ["tracked by another application", cm("tether-system/other:/ConfigMap:web/settings"), "tether-system/other"],
    ["tracked by this application's namesake in another namespace", cm("team-a/web:/ConfigMap:web/settings"), "team-a/web"],
  ])("an object %s", (_, live, owner) => {
    expect(trackedElsewhere(cm(mine), live)).toBe(owner);
  });

  it("names the object and its owner in the SharedResource line", () => {
    expect(sharedMessage({ group: "", version: "v1", kind: "ConfigMap", namespace: "web", name: "settings" }, "tether-system/other"))
      .toBe("ConfigMap/web/settings is already managed by tether-system/other; not taken over");
  });
});
