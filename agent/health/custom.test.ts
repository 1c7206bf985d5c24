import { describe, expect, it } from "vitest";
import type { HealthStatusCode, Manifest } from "../api/types.ts";
import { parseSettings } from "../settings/index.ts";
import { assessHealth, explainHealth, healthRules, type HealthRule } from "./index.ts";

const cond = (type: string, status: string, extra: Record<string, string> = {}) => ({ type, status, ...extra });
function obj(apiVersion: string, kind: string, status?: unknown, more: Partial<Manifest> = {}): Manifest {
  return { apiVersion, kind, metadata: { name: "x", namespace: "apps", generation: 1 }, ...(status === undefined ? {} : { status }), ...more };
}
const rulesOf = (data: Record<string, string>) => healthRules(parseSettings(data).settings).rules;

describe("built-in checks for the custom resources platform teams run", () => {
  it.each<[string, Manifest, HealthStatusCode, string | undefined]>([
    ["a Certificate being issued", obj("cert-manager.io/v1", "Certificate", { conditions: [cond("Ready", "False"), cond("Issuing", "True", { message: "Issuing certificate as Secret does not exist" })] }), "Progressing", "Issuing certificate as Secret does not exist"],
    ["a new Certificate", obj("cert-manager.io/v1", "Certificate"), "Progressing", "Waiting for certificate"],
    ["an issued Certificate", obj("cert-manager.io/v1", "Certificate", { conditions: [cond("Ready", "True", { message: "Certificate is up to date and has not expired" })] }), "Healthy", "Certificate is up to date and has not expired"],
    ["a Certificate that failed", obj("cert-manager.io/v1", "Certificate", { conditions: [cond("Ready", "False", { message: "Issuer letsencrypt not found" })] }), "Degraded", "Issuer letsencrypt not found"],
    ["a pending CertificateRequest", obj("cert-manager.io/v1", "CertificateRequest", { conditions: [cond("Ready", "False", { reason: "Pending", message: "Waiting on certificate issuance" })] }), "Progressing", "Waiting on certificate issuance"],
    ["a denied CertificateRequest", obj("cert-manager.io/v1", "CertificateRequest", { conditions: [cond("Denied", "True", { message: "denied by policy" })] }), "Degraded", "denied by policy"],
    ["a ClusterIssuer not registered", obj("cert-manager.io/v1", "ClusterIssuer", { conditions: [cond("Ready", "False", { message: "Failed to register ACME account" })] }), "Degraded", "Failed to register ACME account"],
    ["a paused Rollout", obj("argoproj.io/v1alpha1", "Rollout", { phase: "Paused", message: "CanaryPauseStep", observedGeneration: 1 }), "Suspended", "CanaryPauseStep"],
    ["a Rollout mid-canary (old controller)", obj("argoproj.io/v1alpha1", "Rollout", { replicas: 5, updatedReplicas: 2, availableReplicas: 5 }, { spec: { replicas: 5 } }), "Progressing", "Waiting for rollout to finish: 2 out of 5 new replicas have been updated..."],
    ["an aborted Rollout", obj("argoproj.io/v1alpha1", "Rollout", { abort: true, message: "metric error-rate assessed Failed" }), "Degraded", "metric error-rate assessed Failed"],
    ["a failed AnalysisRun", obj("argoproj.io/v1alpha1", "AnalysisRun", { phase: "Failed", message: "metric failed" }), "Degraded", "metric failed"],
    ["a suspended Flux Kustomization", obj("kustomize.toolkit.fluxcd.io/v1", "Kustomization", {}, { spec: { suspend: true } }), "Suspended", "Kustomization is suspended"],
    ["a Flux GitRepository retrying a failed fetch", obj("source.toolkit.fluxcd.io/v1", "GitRepository", { conditions: [cond("Reconciling", "True", { reason: "ProgressingWithRetry" }), cond("Ready", "False", { reason: "GitOperationFailed", message: "authentication required" })] }), "Degraded", "authentication required"],
    ["a HelmRelease being installed", obj("helm.toolkit.fluxcd.io/v2", "HelmRelease", { conditions: [cond("Reconciling", "True", { message: "Running 'install' action" }), cond("Ready", "Unknown")] }), "Progressing", "Running 'install' action"],
    ["a Crossplane claim not synced", obj("database.example.org/v1alpha1", "PostgreSQLInstance", { conditions: [cond("Synced", "False", { message: "cannot compose resources" })] }, { spec: { compositionRef: { name: "pg" } } }), "Degraded", "cannot compose resources"],
    ["a Crossplane claim being created", obj("database.example.org/v1alpha1", "PostgreSQLInstance", { conditions: [cond("Synced", "True"), cond("Ready", "False", { reason: "Creating" })] }, { spec: { resourceRef: { name: "pg-x" } } }), "Progressing", "Creating"],
    ["an ExternalSecret that cannot sync", obj("external-secrets.io/v1", "ExternalSecret", { conditions: [cond("Ready", "False", { reason: "SecretSyncedError", message: "could not get secret data from provider" })] }), "Degraded", "could not get secret data from provider"],
    ["a ClusterSecretStore before validation", obj("external-secrets.io/v1", "ClusterSecretStore", {}), "Progressing", "Waiting for the store to be validated"],
    ["a paused ScaledObject", obj("keda.sh/v1alpha1", "ScaledObject", { conditions: [cond("Paused", "True", { message: "ScaledObject is paused" })] }), "Suspended", "ScaledObject is paused"],
    ["a ScaledJob ready", obj("keda.sh/v1alpha1", "ScaledJob", { conditions: [cond("Ready", "True", { message: "ScaledJob is defined correctly and is ready to scaling" })] }), "Healthy", "ScaledJob is defined correctly and is ready to scaling"],
  ])("%s", (...[, live, status, message]) => {
    expect(explainHealth(live, { rules: rulesOf({}) })).toEqual({ result: message === undefined ? { status } : { status, message }, rule: expect.stringMatching(/built-in|crossplane/) as unknown });
  });
});

describe("the generic rule for kinds nobody described (kstatus)", () => {
  it.each<[string, unknown, HealthStatusCode, string | undefined, Partial<Manifest>?]>([
    ["no status at all", undefined, "Healthy", undefined],
    ["Ready True", { conditions: [cond("Ready", "True")] }, "Healthy", undefined],
    ["Ready False (still in progress in kstatus)", { conditions: [cond("Ready", "False", { message: "waiting for pods" })] }, "Progressing", "waiting for pods"],
    ["Available Unknown", { conditions: [cond("Available", "Unknown", { reason: "Starting" })] }, "Progressing", "Starting"],
    ["Stalled", { conditions: [cond("Stalled", "True", { message: "invalid spec" }), cond("Ready", "False")] }, "Degraded", "invalid spec"],
    ["Reconciling", { conditions: [cond("Reconciling", "True", { message: "applying" })] }, "Progressing", "applying"],
    ["a spec not yet observed", { observedGeneration: 1, conditions: [cond("Ready", "True")] }, "Progressing", "Waiting for the controller to observe generation 2 (observed 1)", { metadata: { name: "x", generation: 2 } }],
  ])("%s", (...[, status, expected, message, more]) => {
    const live = obj("example.com/v1", "Widget", status, more ?? {});
    expect(explainHealth(live, { rules: rulesOf({}) })).toEqual({ result: message === undefined ? { status: expected } : { status: expected, message }, rule: "generic" });
  });
});

describe("tether-cm customizations", () => {
  const issuing = obj("cert-manager.io/v1", "Certificate", { conditions: [cond("Issuing", "True", { message: "Issuing" })] });
  const lua = 'return { status = "Degraded", message = "from Lua: " .. obj.status.conditions[1].message }';

  it.each<[string, Record<string, string>, HealthRule, HealthStatusCode, string]>([
    ["a Lua check replaces the built-in one", { "resource.customizations.health.cert-manager.io_Certificate": lua }, "lua", "Degraded", "from Lua: Issuing"],
    ["a wildcard Lua check applies when no exact key does", { "resource.customizations.health.*.io_*": lua }, "lua", "Degraded", "from Lua: Issuing"],
    ["the legacy block's health.lua counts too", { "resource.customizations": `cert-manager.io/Certificate:\n  health.lua: |\n    return { status = "Suspended", message = "legacy" }\n` }, "lua", "Suspended", "legacy"],
    ["a CEL check replaces the built-in one", { "resource.customizations.healthCEL.cert-manager.io_Certificate": "current: status.conditions.exists(c, c.type == 'Issuing')" }, "cel", "Healthy", ""],
    ["Lua wins over CEL for the same kind", {
      "resource.customizations.health.cert-manager.io_Certificate": lua,
      "resource.customizations.healthCEL.cert-manager.io_Certificate": "current: true",
    }, "lua", "Degraded", "from Lua: Issuing"],
  ])("%s", (...[, data, rule, status, message]) => {
    const got = explainHealth(issuing, { rules: rulesOf(data) });
    expect(got.rule).toBe(rule);
    expect(got.result).toEqual(message ? { status, message } : { status });
  });

  it.each<[string, string, string]>([
    ["a script error", "return obj.spec.missing.field", "health.lua:1: attempt to index a nil value (field 'spec')"],
    ["a status Argo CD does not know", "return { status = 'Fine' }", "Lua returned an invalid health status"],
    ["a result that is not a table", "return 'Healthy'", "expect table output from Lua script, not string"],
    ["a script that never ends", "while true do end", "script ran longer than 1000ms"],
  ])("gives Unknown with the message on %s, as Argo CD does", (_title, script, message) => {
    const rules = rulesOf({ "resource.customizations.health.cert-manager.io_Certificate": script });
    expect(assessHealth(issuing, { rules })).toEqual({ status: "Unknown", message });
  });

  it.each<[string, string, unknown, HealthStatusCode, string | undefined]>([
    ["failed before current", "current: status.phase == 'Ready'\nfailed: status.phase == 'Error'", { phase: "Error" }, "Degraded", "failed: status.phase == 'Error'"],
    ["inProgress first", "current: true\ninProgress: status.phase == 'Pending'", { phase: "Pending" }, "Progressing", "inProgress: status.phase == 'Pending'"],
    ["none true is Progressing", "current: status.phase == 'Ready'", { phase: "Pending" }, "Progressing", "Waiting for current to hold"],
    ["a field not written yet is Progressing", "current: status.phase == 'Ready'", {}, "Progressing", "Waiting for a field that current reads: No such key: phase"],
    ["integers compare as ints", "current: status.readyReplicas + 1 > 2 && status.ratio < 1.0", { readyReplicas: 2, ratio: 0.5 }, "Healthy", undefined],
    ["optional fields with .?", "current: status.?conditions.orValue([]).exists(c, c.type == 'Ready' && c.status == 'True')", { conditions: [cond("Ready", "True", { message: "up" })] }, "Healthy", "up"],
  ])("CEL: %s", (...[, body, status, expected, message]) => {
    const rules = rulesOf({ "resource.customizations.healthCEL.example.com_Widget": body });
    expect(assessHealth(obj("example.com/v1", "Widget", status), { rules })).toEqual(message === undefined ? { status: expected } : { status: expected, message });
  });

  it("reports a CEL body that does not compile, and judges the kind Unknown with the key to fix", () => {
    const { rules, problems } = healthRules(parseSettings({ "resource.customizations.healthCEL.example.com_Widget": "current: status.phase ==" }).settings);
    expect(problems[0]?.key).toBe("resource.customizations.healthCEL.example.com_Widget");
    const got = assessHealth(obj("example.com/v1", "Widget", {}), { rules });
    expect(got.status).toBe("Unknown");
    expect(got.message).toContain("resource.customizations.healthCEL.example.com_Widget in tether-cm: current:");
  });

  it("still says Pending deletion first, as Argo CD's controller does", () => {
    const deleting = { ...issuing, metadata: { ...issuing.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } };
    expect(assessHealth(deleting, { rules: rulesOf({ "resource.customizations.health.cert-manager.io_Certificate": lua }) }).status).toBe("Progressing");
  });
});
