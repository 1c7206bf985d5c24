import { describe, expect, it } from "vitest";
import type { Manifest } from "../api/types.ts";
import { compare } from "./compare.ts";
import { ruleMatches } from "./ignore.ts";
import { compareOptionsOf, ignoresExtraneous } from "./options.ts";
import { diffSettingsOf, liveDiffSettings, type DiffOverride } from "./settings.ts";
import { onlyIgnoredFieldsChanged } from "./updates.ts";

const source = (overrides: Record<string, DiffOverride>, data: Record<string, string> = {}) => ({ overrides: new Map(Object.entries(overrides)), data });

const deployment = (replicas: number, extra: Record<string, unknown> = {}): Manifest => ({
  apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "shop", annotations: { a: "1" } },
  spec: { replicas, template: { metadata: { annotations: {} } } }, ...extra,
});

describe("tether-cm's global ignoreDifferences (Argo CD's system-level rules)", () => {
  it.each([
    ["all", "*/*", { group: "*", kind: "*" }],
    ["a group and kind", "apps/Deployment", { group: "apps", kind: "Deployment" }],
    ["a core kind", "Service", { group: "", kind: "Service" }],
    ["a wildcard group", "*.crossplane.io/*", { group: "*.crossplane.io", kind: "*" }],
  ])("reads the key of %s as a rule for %s", (_what, pattern, want) => {
    const { settings, problems } = diffSettingsOf(source({ [pattern]: { ignoreDifferences: "jsonPointers:\n- /spec/replicas\n" } }));
    expect(problems).toEqual([]);
    expect(settings.ignoreDifferences).toEqual([{ ...want, jsonPointers: ["/spec/replicas"] }]);
  });

  it("takes jqPathExpressions and managedFieldsManagers as an app's own rule does", () => {
    const yaml = "jqPathExpressions:\n- '.webhooks[]?.clientConfig.caBundle'\nmanagedFieldsManagers:\n- kube-controller-manager\n";
    const { settings } = diffSettingsOf(source({ "admissionregistration.k8s.io/MutatingWebhookConfiguration": { ignoreDifferences: yaml } }));
    expect(settings.ignoreDifferences[0]).toMatchObject({ jqPathExpressions: [".webhooks[]?.clientConfig.caBundle"], managedFieldsManagers: ["kube-controller-manager"] });
  });

  it.each([
    ["YAML that does not parse", "jsonPointers: [", /not valid YAML/],
    ["a list that is not of strings", "jsonPointers: 3", /jsonPointers: expected a list of strings/],
    ["jq Tether cannot evaluate", "jqPathExpressions:\n- 'map(.x)'\n", /jqPathExpressions: /],
  ])("reports %s with the key a user wrote, and keeps the other rules", (_what, yaml, message) => {
    const { settings, problems } = diffSettingsOf(source({ "apps/Deployment": { ignoreDifferences: yaml }, "*/*": { ignoreDifferences: "jsonPointers: [/x]" } }));
    expect(problems).toEqual([{ key: "resource.customizations.ignoreDifferences.apps_Deployment", message: expect.stringMatching(message) as string }]);
    expect(settings.ignoreDifferences).toEqual([{ group: "*", kind: "*", jsonPointers: ["/x"] }]);
  });

  it("makes an app Synced whose only difference a global rule ignores", () => {
    const { settings } = diffSettingsOf(source({ "*/*": { ignoreDifferences: "jsonPointers:\n- /spec/replicas\n" } }));
    expect(compare({ desired: deployment(1), live: deployment(5) }).status).toBe("OutOfSync");
    expect(compare({ desired: deployment(1), live: deployment(5), ignoreDifferences: settings.ignoreDifferences }).status).toBe("Synced");
  });

  it("matches groups and kinds by glob, as Argo CD does", () => {
    const claim: Manifest = { apiVersion: "database.example.crossplane.io/v1", kind: "PostgreSQLInstance", metadata: { name: "db" } };
    expect(ruleMatches({ group: "*.crossplane.io", kind: "*" }, claim)).toBe(true);
    expect(ruleMatches({ group: "*.crossplane.io", kind: "Postgre*" }, claim)).toBe(true);
    expect(ruleMatches({ group: "*.crossplane.io", kind: "MySQL*" }, claim)).toBe(false);
    expect(ruleMatches({ kind: "PostgreSQLInstance" }, claim)).toBe(false);
  });
});

describe("ignoreResourceUpdates", () => {
  const updates = "jsonPointers:\n- /metadata/annotations/a\n";
  it.each([
    ["the ignoreResourceUpdates rules and the ignoreDifferences ones, by default", {}, 2],
    ["none when resource.ignoreResourceUpdatesEnabled is false", { "resource.ignoreResourceUpdatesEnabled": "false" }, 0],
    ["only its own with ignoreDifferencesOnResourceUpdates: false", { "resource.compareoptions": "ignoreDifferencesOnResourceUpdates: false\n" }, 1],
  ])("holds %s", (_what, data, count) => {
    const { settings } = diffSettingsOf(source({ "apps/Deployment": { ignoreResourceUpdates: updates, ignoreDifferences: "jsonPointers: [/spec/replicas]" } }, data));
    expect(settings.ignoreResourceUpdates).toHaveLength(count);
  });

  const rules = diffSettingsOf(source({ "apps/Deployment": { ignoreResourceUpdates: updates } })).settings.ignoreResourceUpdates;
  const healthy = () => "Healthy";
  it.each([
    ["an ignored field and resourceVersion only", deployment(1, { metadata: { name: "web", namespace: "shop", resourceVersion: "9", annotations: { a: "2" } } }), true],
    ["a field no rule ignores", deployment(2), false],
  ])("a change of %s starts a reconcile: %s is ignored", (_what, after, ignored) => {
    expect(onlyIgnoredFieldsChanged(deployment(1), after, rules, healthy)).toBe(ignored);
  });

  it("reconciles when the health changed, even if only ignored fields did", () => {
    let n = 0;
    expect(onlyIgnoredFieldsChanged(deployment(1), deployment(1), rules, () => (n++ === 0 ? "Progressing" : "Healthy"))).toBe(false);
  });

  it("ignores nothing without a rule", () => {
    expect(onlyIgnoredFieldsChanged(deployment(1), deployment(1), [], healthy)).toBe(false);
  });
});

describe("liveDiffSettings", () => {
  it("parses each settings object once and logs its problems once", () => {
    const lines: string[] = [];
    let current = source({ "*/*": { ignoreDifferences: "nope: [" } });
    const read = liveDiffSettings(() => current, (l) => lines.push(l));
    read();
    read();
    expect(lines).toEqual([expect.stringMatching(/^tether-cm: resource.customizations.ignoreDifferences.all ignored: not valid YAML/) as string]);
    current = source({ "*/*": { ignoreDifferences: "jsonPointers: [/a]" } });
    expect(read().ignoreDifferences).toHaveLength(1);
  });
});

describe("compare options", () => {
  it("reads both spellings, comma-separated", () => {
    const obj = { metadata: { annotations: { "argocd.argoproj.io/compare-options": "IgnoreExtraneous, ServerSideDiff=true", "tether.dev/compare-options": "X" } } };
    expect([...compareOptionsOf(obj)].sort()).toEqual(["IgnoreExtraneous", "ServerSideDiff=true", "X"]);
    expect(ignoresExtraneous(obj)).toBe(true);
    expect(ignoresExtraneous({ metadata: {} })).toBe(false);
  });
});
