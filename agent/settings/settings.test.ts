import { describe, expect, it } from "vitest";
import { matchesPattern, overrideFor, parseSettings, patternOf } from "./settings.ts";

describe("parseSettings", () => {
  it("reads split keys in Argo CD's spelling, group_kind and kind alone", () => {
    const { settings, problems } = parseSettings({
      "resource.customizations.health.cert-manager.io_Certificate": "return {status='Healthy'}",
      "resource.customizations.useOpenLibs.cert-manager.io_Certificate": "true",
      "resource.customizations.health.ConfigMap": "return {}",
      "resource.customizations.ignoreDifferences.all": "jsonPointers: [/spec/replicas]",
      "url": "https://tether.example.com",
    });
    expect(problems).toEqual([]);
    expect(settings.overrides.get("cert-manager.io/Certificate")).toEqual({ healthLua: "return {status='Healthy'}", useOpenLibs: true });
    expect(settings.overrides.get("ConfigMap")).toEqual({ healthLua: "return {}" });
    expect(settings.overrides.get("*/*")).toEqual({ ignoreDifferences: "jsonPointers: [/spec/replicas]" });
    expect(settings.data.url).toBe("https://tether.example.com");
  });

  it("reads the legacy resource.customizations block, and a split key wins over it", () => {
    const { settings, problems } = parseSettings({
      "resource.customizations": [
        "argoproj.io/Rollout:",
        "  health.lua: |",
        "    return {status='Suspended'}",
        "  health.lua.useOpenLibs: true",
        "  actions: 'discovery.lua: return {}'",
      ].join("\n"),
      "resource.customizations.health.argoproj.io_Rollout": "return {status='Healthy'}",
    });
    expect(problems).toEqual([]);
    expect(settings.overrides.get("argoproj.io/Rollout")).toEqual({
      healthLua: "return {status='Healthy'}", useOpenLibs: true, actions: "discovery.lua: return {}",
    });
  });

  it("reads a CEL health check under resource.customizations.healthCEL.<group>_<kind>", () => {
    const { settings } = parseSettings({ "resource.customizations.healthCEL.example.com_Widget": "current: status.ready == true" });
    expect(settings.overrides.get("example.com/Widget")?.healthCEL).toBe("current: status.ready == true");
  });

  it("keeps wildcard patterns as Argo CD 2.x allows them", () => {
    const { settings } = parseSettings({ "resource.customizations.health.*.crossplane.io_*": "return {}" });
    expect([...settings.overrides.keys()]).toEqual(["*.crossplane.io/*"]);
  });

  it.each([
    ["resource.customizations.heath.apps_Deployment", "unknown customization type \"heath\""],
    ["resource.customizations.health.a_b_c", "expected resource.customizations.health.<group>_<kind>"],
    ["resource.customizations.health", "expected resource.customizations.health.<group>_<kind>"],
    ["resource.customizations.useOpenLibs.apps_Deployment", "expected \"true\" or \"false\", got \"yes please\""],
  ])("reports %s and keeps the other keys", (key, message) => {
    const { settings, problems } = parseSettings({ [key]: "yes please", "resource.customizations.health.Pod": "return {}" });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.key).toBe(key);
    expect(problems[0]?.message).toContain(message);
    expect(settings.overrides.get("Pod")).toEqual({ healthLua: "return {}" });
  });

  it("reports a legacy block that is not YAML, with the key", () => {
    const { problems } = parseSettings({ "resource.customizations": "a: [" });
    expect(problems[0]?.key).toBe("resource.customizations");
    expect(problems[0]?.message).toContain("not valid YAML");
  });

  it("reads an absent ConfigMap as no settings", () => {
    expect(parseSettings(undefined).settings.overrides.size).toBe(0);
  });
});

describe("patterns", () => {
  it.each<[string, string | undefined]>([
    ["cert-manager.io_Certificate", "cert-manager.io/Certificate"],
    ["Pod", "Pod"],
    ["all", "*/*"],
    ["_Pod", undefined],
    ["", undefined],
  ])("patternOf(%s) is %s", (input, expected) => expect(patternOf(input)).toBe(expected));

  it.each<[string, string, boolean]>([
    ["*.crossplane.io/*", "pkg.crossplane.io/Provider", true],
    ["*.crossplane.io/*", "crossplane.io/Provider", false],
    ["*/*", "Pod", false],
    ["*/*", "apps/Deployment", true],
    ["*", "Pod", true],
    ["apps/Deployment", "apps/Deployment", true],
    ["apps/Deploy*", "apps/Deployment", true],
    ["a.b/C", "axb/C", false],
  ])("%s matches %s: %s", (pattern, key, expected) => expect(matchesPattern(pattern, key)).toBe(expected));

  it("prefers the exact key, then the first wildcard in sorted order that has the field", () => {
    const { settings } = parseSettings({
      "resource.customizations.health.*.io_*": "b",
      "resource.customizations.health.*.example.io_*": "a",
      "resource.customizations.ignoreDifferences.x.example.io_Thing": "jsonPointers: []",
    });
    const pick = (key: string) => overrideFor(settings, key, (o) => o.healthLua !== undefined)?.pattern;
    expect(pick("x.example.io/Thing")).toBe("*.example.io/*");
    expect(pick("y.other.io/Thing")).toBe("*.io/*");
    expect(pick("Pod")).toBeUndefined();
  });
});
