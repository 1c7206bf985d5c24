import { describe, expect, it } from "vitest";
import type { Manifest } from "../api/types.ts";
import { appOptionsOf, invalidOptions, optionsOf } from "./options.ts";

const obj = (options?: string, extra: Record<string, string> = {}): Manifest => ({
  apiVersion: "v1", kind: "ConfigMap",
  metadata: { name: "a", annotations: { ...(options === undefined ? {} : { "tether.dev/sync-options": options }), ...extra } },
});

describe("optionsOf: an object's sync options over the Application's", () => {
  it.each([
    { name: "defaults", own: undefined, app: [], want: { prune: true, pruneLast: false, delete: true, method: "server-side", force: false, validate: true } },
    { name: "Replace=true", own: "Replace=true", app: [], want: { method: "replace" } },
    { name: "Replace wins over ServerSideApply=false", own: "ServerSideApply=false,Replace=true", app: [], want: { method: "replace" } },
    { name: "ServerSideApply=false is client-side apply", own: " ServerSideApply=false ", app: [], want: { method: "client-side" } },
    { name: "Force with Replace", own: "Force=true,Replace=true", app: [], want: { method: "replace", force: true } },
    { name: "Validate=false is applied client-side (server-side apply refuses unknown fields whatever fieldValidation says)", own: "Validate=false", app: [], want: { validate: false, method: "client-side" } },
    { name: "Validate=false with Replace stays a replace", own: "Validate=false,Replace=true", app: [], want: { validate: false, method: "replace" } },
    { name: "Delete=false", own: "Delete=false", app: [], want: { delete: false, prune: true } },
    { name: "Prune=false on the app", own: undefined, app: ["Prune=false"], want: { prune: false } },
    { name: "Prune=true on the object wins over the app's Prune=false", own: "Prune=true", app: ["Prune=false"], want: { prune: true } },
    { name: "Replace=true on the app", own: undefined, app: ["Replace=true"], want: { method: "replace" } },
    { name: "Replace=false on the object wins", own: "Replace=false", app: ["Replace=true"], want: { method: "server-side" } },
  ] as const)("$name", ({ own, app, want }) => {
    expect(optionsOf(obj(own), app)).toMatchObject(want);
  });

  it("reads the argocd.argoproj.io spelling, and Helm's resource-policy keep as Delete=false", () => {
    const argo: Manifest = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", annotations: { "argocd.argoproj.io/sync-options": "Prune=false" } } };
    expect(optionsOf(argo).prune).toBe(false);
    expect(optionsOf(obj(undefined, { "helm.sh/resource-policy": "keep" })).delete).toBe(false);
  });
});

describe("appOptionsOf", () => {
  it.each([
    { options: [], want: { propagation: "Background", createNamespace: false, respectIgnoreDifferences: false } },
    { options: ["PrunePropagationPolicy=foreground"], want: { propagation: "Foreground" } },
    { options: ["PrunePropagationPolicy=orphan", "CreateNamespace=true"], want: { propagation: "Orphan", createNamespace: true } },
    { options: ["ApplyOutOfSyncOnly=true", "RespectIgnoreDifferences=true"], want: { respectIgnoreDifferences: true } },
  ] as const)("$options", ({ options, want }) => {
    expect(appOptionsOf(options)).toMatchObject(want);
  });
});

describe("invalidOptions", () => {
  it("names an unknown option, a wrong value and an Argo CD option Tether does not implement", () => {
    expect(invalidOptions(["Prune=false", "CreateNamespace=true", "FailOnSharedResource=true"])).toEqual([]);
    const [unknown, value, confirm, skip] = invalidOptions(["Foo=bar", "PrunePropagationPolicy=sideways", "Prune=confirm", "SkipDryRunOnMissingResource=true"]);
    expect(unknown).toMatch(/^"Foo=bar" is not a sync option \(known: Prune, PruneLast, /);
    expect(value).toBe('"PrunePropagationPolicy=sideways": PrunePropagationPolicy takes foreground or background or orphan');
    expect(confirm).toMatch(/^"Prune=confirm" is not supported: pruning with confirmation is not implemented/);
    expect(skip).toMatch(/^"SkipDryRunOnMissingResource=true" is not supported/);
  });
});
