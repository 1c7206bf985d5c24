import { describe, expect, it } from "vitest";
import { apiBase, splitApiVersion } from "./gvk.ts";

describe("apiVersion", () => {
  it.each([
    ["v1", "", "v1", "/api/v1"],
    ["apps/v1", "apps", "v1", "/apis/apps/v1"],
    ["tether.dev/v1alpha1", "tether.dev", "v1alpha1", "/apis/tether.dev/v1alpha1"],
  ])("%s is group %j version %j under %s", (apiVersion, group, version, base) => {
    expect(splitApiVersion(apiVersion)).toEqual({ group, version });
    expect(apiBase(apiVersion)).toBe(base);
  });
});
