// isSynced: compare()'s verdict, with a walk that copies nothing for the common answer (every field Git
// sets has that value live). It must never say Synced where compare() says OutOfSync.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Manifest, ResourceIgnoreDifferences } from "../api/types.ts";
import { compare, isSynced, walkSynced } from "./compare.ts";
import { ruleMatches } from "./ignore.ts";

const fixture = (name: string) => parse(readFileSync(new URL(`./testdata/${name}.yaml`, import.meta.url), "utf8")) as Manifest;
const desired = fixture("deployment-desired");
const live = fixture("deployment-live");

function edited(obj: Manifest, edit: (copy: any) => void): Manifest {
  const copy = structuredClone(obj);
  edit(copy);
  return copy;
}

/** A ConfigMap as Git has it (planned: namespace placed, tracked) and as the API server returns it after a server-side apply. */
const gitConfigMap: Manifest = {
  apiVersion: "v1", kind: "ConfigMap",
  metadata: { name: "cm-0", namespace: "a-0", labels: { "tether.dev/app": "app-0" }, annotations: { "tether.dev/tracking-id": "tether-system/app-0:/ConfigMap:a-0/cm-0" } },
  data: { VALUE: "1" },
};
const liveConfigMap: Manifest = {
  apiVersion: "v1", kind: "ConfigMap", data: { VALUE: "1" },
  metadata: {
    ...gitConfigMap.metadata, uid: "0b5c", resourceVersion: "1042", creationTimestamp: "2026-12-07T00:00:00Z",
    managedFields: [{ manager: "tether", operation: "Apply", apiVersion: "v1", time: "2026-12-07T00:00:00Z", fieldsType: "FieldsV1",
      fieldsV1: { "f:data": { "f:VALUE": {} }, "f:metadata": { "f:annotations": { "f:tether.dev/tracking-id": {} }, "f:labels": { "f:tether.dev/app": {} } } } }],
  },
};

describe("the walk that answers without copying", () => {
  it.each([
    ["a ConfigMap as the API server returns it after a server-side apply", gitConfigMap, liveConfigMap],
    ["a Deployment with server defaults, managedFields and status", desired, live],
    ["a number in Git the server stores as a string (cpu: 1)", edited(gitConfigMap, (d) => (d.data = { VALUE: 1 })), liveConfigMap],
    ["a null in Git (no opinion)", edited(gitConfigMap, (d) => (d.data.OTHER = null)), liveConfigMap],
    ["an empty map in Git where live has none", edited(gitConfigMap, (d) => (d.binaryData = {})), liveConfigMap],
    ["server metadata and status in Git", edited(gitConfigMap, (d) => {
      d.status = { x: 1 };
      d.metadata.uid = "other";
      d.metadata.resourceVersion = "1";
    }), liveConfigMap],
    ["the last-applied annotation in Git", edited(gitConfigMap, (d) => (d.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"] = "{}")), liveConfigMap],
    ["empty labels in Git", edited(gitConfigMap, (d) => (d.metadata.labels = {})), edited(liveConfigMap, (l) => delete l.metadata.labels)],
  ])("says Synced for %s", (_what, git, cluster) => {
    expect(walkSynced(git, cluster, [])).toBe(true);
    expect(compare({ desired: git, live: cluster }).status).toBe("Synced");
  });

  it.each([
    ["a changed value", edited(liveConfigMap, (l) => (l.data.VALUE = "2"))],
    ["a missing key", edited(liveConfigMap, (l) => delete l.data.VALUE)],
    ["a null live where Git sets a value", edited(liveConfigMap, (l) => (l.data.VALUE = null))],
    ["a label removed by hand", edited(liveConfigMap, (l) => delete l.metadata.labels["tether.dev/app"])],
    ["a list of another length", edited(liveConfigMap, (l) => (l.data.VALUE = ["1"]))],
  ])("leaves %s to compare()", (_what, cluster) => {
    expect(walkSynced(gitConfigMap, cluster, [])).toBe(false);
  });

  it("leaves an object an ignoreDifferences rule matches to compare(), which removes the fields it names", () => {
    const scaled = edited(live, (d) => (d.spec.replicas = 5));
    const rules: ResourceIgnoreDifferences[] = [{ group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas"] }];
    expect(walkSynced(desired, live, rules)).toBe(false);
    expect(isSynced({ desired, live: scaled, ignoreDifferences: rules })).toBe(true);
    expect(isSynced({ desired, live: scaled })).toBe(false);
  });

  it("leaves a Secret with stringData to compare(), which folds it into data", () => {
    const secret = fixture("secret-desired");
    expect(walkSynced(secret, fixture("secret-live"), [])).toBe(false);
    expect(isSynced({ desired: secret, live: fixture("secret-live") })).toBe(compare({ desired: secret, live: fixture("secret-live") }).status === "Synced");
  });

  it("compares exactly with a dry-run's result: a field added by hand live is drift then", () => {
    const extra = edited(liveConfigMap, (l) => (l.data.OTHER = "x"));
    expect(isSynced({ desired: gitConfigMap, live: extra })).toBe(true);
    expect(isSynced({ desired: gitConfigMap, live: extra, predicted: liveConfigMap })).toBe(false);
  });

  it("says OutOfSync for an object that is not live", () => {
    expect(isSynced({ desired: gitConfigMap, live: undefined })).toBe(false);
  });
});

describe("isSynced against compare() on generated objects", () => {
  const scalar = fc.oneof(fc.constantFrom("1", "a", "", "true"), fc.constantFrom(1, 0, true, false), fc.constant(null));
  const key = fc.constantFrom("a", "b", "c", "status", "metadata", "uid", "labels", "annotations", "kubectl.kubernetes.io/last-applied-configuration");
  const json = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("object"), tie("array")),
    object: fc.dictionary(key, tie("value"), { maxKeys: 4 }),
    array: fc.array(tie("value"), { maxLength: 3 }),
  }));
  const manifest = fc.record({ metadata: fc.dictionary(key, json.value, { maxKeys: 4 }), spec: json.value, status: json.value, a: json.value })
    .map((m): Manifest => ({ apiVersion: "v1", kind: "ConfigMap", ...m }));
  // Live as Git's object with some of it changed: most pairs agree, so the walk's Synced answer is exercised.
  const pair = fc.tuple(manifest, manifest, fc.boolean()).map(([git, other, same]) => [git, same ? structuredClone(git) : { ...structuredClone(git), ...other }] as const);

  it("never says Synced where compare() says OutOfSync, and agrees with it always", () => {
    fc.assert(fc.property(pair, ([git, cluster]) => {
      if (walkSynced(git, cluster, [])) expect(compare({ desired: git, live: cluster }).status).toBe("Synced");
      expect(isSynced({ desired: git, live: cluster })).toBe(compare({ desired: git, live: cluster }).status === "Synced");
    }), { numRuns: 3000 });
  });
});

describe("ignoreDifferences globs, compiled once per pattern", () => {
  const obj = (apiVersion: string, kind: string): Manifest => ({ apiVersion, kind, metadata: { name: "x" } });
  it.each([
    ["*.crossplane.io", "*", obj("pkg.crossplane.io/v1", "Provider"), true],
    ["*.crossplane.io", "*", obj("crossplane.io.example.com/v1", "Provider"), false],
    ["*.crossplane.io", "*", obj("apiextensions.crossplane.io/v1", "Composition"), true],
    ["*", "Deploy*", obj("apps/v1", "Deployment"), true],
    ["*", "Deploy*", obj("apps/v1", "StatefulSet"), false],
    ["a.b*", "*", obj("aXb/v1", "K"), false],
    ["a.b*", "*", obj("a.bc/v1", "K"), true],
  ])("group %s, kind %s: %o matches is %s", (group, kind, o, matches) => {
    expect(ruleMatches({ group, kind }, o)).toBe(matches);
    expect(ruleMatches({ group, kind }, o)).toBe(matches);
  });
});
