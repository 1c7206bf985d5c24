import { describe, expect, it } from "vitest";
import { isSelected, parseResource } from "./selection.ts";

const svc = { group: "", kind: "Service", name: "web", namespace: "shop" };
const deploy = { group: "apps", kind: "Deployment", name: "web", namespace: "shop" };

describe("selective sync (--resource, Argo CD's format)", () => {
  it.each([
    [":Service:web", { group: "", kind: "Service", name: "web" }],
    ["apps:Deployment:shop/web", { group: "apps", kind: "Deployment", name: "web", namespace: "shop" }],
    ["!*:ConfigMap:*", { group: "*", kind: "ConfigMap", name: "*", exclude: true }],
  ])("parses %s", (text, want) => {
    expect(parseResource(text)).toEqual(want);
  });

  it.each(["Service:web", "::web", "apps:Deployment:a/b/c", "apps:Deployment:"])("refuses %s and says the format", (text) => {
    expect(() => parseResource(text)).toThrow(/GROUP:KIND:NAME/);
  });

  it("takes what an include rule matches, minus what an exclude rule matches; no rules take everything", () => {
    expect(isSelected(svc, undefined)).toBe(true);
    expect(isSelected(svc, [parseResource(":Service:web")])).toBe(true);
    expect(isSelected(deploy, [parseResource(":Service:web")])).toBe(false);
    expect(isSelected(deploy, [parseResource("apps:Deployment:other/web")])).toBe(false);
    expect(isSelected(deploy, [parseResource("*:*:web"), parseResource("!apps:Deployment:*")])).toBe(false);
    expect(isSelected(svc, [parseResource("!apps:Deployment:*")])).toBe(true);
  });
});
