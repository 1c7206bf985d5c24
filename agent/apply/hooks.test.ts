import { describe, expect, it } from "vitest";
import type { Manifest } from "../api/types.ts";
import { deletePoliciesOf, generatedName, hookProgress, roleOf } from "./hooks.ts";

const obj = (annotations: Record<string, string>, kind = "Job"): Manifest => ({ apiVersion: "batch/v1", kind, metadata: { name: "x", annotations } });

describe("roleOf", () => {
  it.each([
    [{}, "resource"],
    [{ "argocd.argoproj.io/hook": "PreSync" }, "hook PreSync"],
    [{ "tether.dev/hook": "PreSync,PostSync" }, "hook PreSync,PostSync"],
    [{ "argocd.argoproj.io/hook": "Skip" }, "ignored"],
    [{ "argocd.argoproj.io/hook": "Skip,PostSync" }, "hook PostSync"],
    [{ "argocd.argoproj.io/hook": "PostDelete" }, "hook PostDelete"],
    [{ "helm.sh/hook": "pre-install,pre-upgrade" }, "hook PreSync"],
    [{ "helm.sh/hook": "post-install" }, "hook PostSync"],
    [{ "helm.sh/hook": "test" }, "ignored"],
    [{ "argocd.argoproj.io/hook": "PreDelete" }, "hook PreDelete"],
    [{ "helm.sh/hook": "pre-delete" }, "hook PreDelete"],
    [{ "helm.sh/hook": "pre-rollback" }, "ignored"],
    [{ "helm.sh/hook": "crd-install" }, "resource"],
    // An own hook annotation wins over Helm's.
    [{ "helm.sh/hook": "pre-install", "argocd.argoproj.io/hook": "Sync" }, "hook Sync"],
  ])("%j is %s", (annotations, expected) => {
    const role = roleOf(obj(annotations));
    expect(role.kind === "hook" ? `hook ${role.types.join(",")}` : role.kind).toBe(expected);
  });
});

describe("roleOf: an unknown hook type", () => {
  it.each([
    [{ "argocd.argoproj.io/hook": "PreSnyc" }, 'Job/x: argocd.argoproj.io/hook: "PreSnyc" is not a hook type; use PreSync, Sync, PostSync, SyncFail, PreDelete, PostDelete, Skip'],
    [{ "tether.dev/hook": "PreSync,Nonsense" }, 'Job/x: tether.dev/hook: "Nonsense" is not a hook type; use PreSync, Sync, PostSync, SyncFail, PreDelete, PostDelete, Skip'],
  ])("%j is refused as InvalidSpecError naming the object", (annotations, message) => {
    expect(() => roleOf(obj(annotations))).toThrow(expect.objectContaining({ reason: "InvalidSpecError", message }) as Error);
  });
});

describe("deletePoliciesOf", () => {
  it("defaults to BeforeHookCreation and maps Helm's spellings", () => {
    expect(deletePoliciesOf(obj({}))).toEqual(["BeforeHookCreation"]);
    expect(deletePoliciesOf(obj({ "argocd.argoproj.io/hook-delete-policy": "HookSucceeded,HookFailed" }))).toEqual(["HookSucceeded", "HookFailed"]);
    expect(deletePoliciesOf(obj({ "helm.sh/hook-delete-policy": "hook-succeeded,before-hook-creation" }))).toEqual(["HookSucceeded", "BeforeHookCreation"]);
  });
});

describe("hookProgress", () => {
  const job = (conditions: object[]): Manifest => ({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" }, status: { conditions } });
  it("reads a Job's conditions, a Pod's phase, and takes any other kind as done once it exists", () => {
    expect(hookProgress(job([{ type: "Complete", status: "True" }])).phase).toBe("Succeeded");
    expect(hookProgress(job([{ type: "Failed", status: "True", message: "BackoffLimitExceeded" }]))).toEqual({ phase: "Failed", message: "BackoffLimitExceeded" });
    expect(hookProgress(job([])).phase).toBe("Running");
    const pod = (phase: string): Manifest => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { restartPolicy: "Never" }, status: { phase } });
    expect(hookProgress(pod("Succeeded")).phase).toBe("Succeeded");
    expect(hookProgress(pod("Failed")).phase).toBe("Failed");
    expect(hookProgress(pod("Running")).phase).toBe("Running");
    expect(hookProgress({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }).phase).toBe("Succeeded");
    expect(hookProgress(undefined).phase).toBe("Running");
  });
});

describe("generatedName", () => {
  it("is the prefix, the revision's first 7 characters, the phase and the start in seconds, in lower case", () => {
    expect(generatedName("upgrade-", "ABCDEF0123", "PreSync", "2026-12-01T10:00:00Z")).toBe("upgrade-abcdef0-presync-1796119200");
  });
});
