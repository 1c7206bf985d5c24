import { describe, expect, it } from "vitest";
import type { Manifest } from "../api/types.ts";
import { hookInstance, operationTasks } from "./operation.ts";
import { plan } from "./plan.ts";

const obj = (kind: string, name: string, annotations: Record<string, string> = {}, generateName?: string): Manifest =>
  ({ apiVersion: kind === "Job" ? "batch/v1" : "v1", kind, metadata: { ...(generateName ? { generateName } : { name }), annotations } });
const planned = (manifests: Manifest[]) =>
  plan({ app: { name: "web", namespace: "tether-system" }, manifests, defaultNamespace: "web", isNamespaced: () => true });
const STARTED = "2026-12-06T06:00:00Z";

describe("the operation record's tasks", () => {
  it("lists each step in order with its objects and the hooks it runs, generated names included, then prune, PostSync and SyncFail", () => {
    const all = planned([
      obj("Job", "", { "argocd.argoproj.io/hook": "PreSync" }, "migrate-"), obj("ConfigMap", "a"),
      obj("ConfigMap", "b", { "argocd.argoproj.io/sync-wave": "1" }), obj("Job", "smoke", { "argocd.argoproj.io/hook": "PostSync" }),
      obj("Job", "page", { "argocd.argoproj.io/hook": "SyncFail" }),
    ]);
    expect(operationTasks({ resources: all.filter((o) => !o.hook), hooks: all.filter((o) => o.hook), revision: "abcdef0123", startedAt: STARTED })).toEqual([
      { phase: "PreSync", wave: 0, hooks: ["Job/web/migrate-abcdef0-presync-1796536800"] },
      { phase: "Sync", wave: 0, objects: 1 },
      { phase: "Sync", wave: 1, objects: 1 },
      { phase: "Prune", wave: 0 },
      { phase: "PostSync", wave: 0, hooks: ["Job/web/smoke"] },
      { phase: "SyncFail", wave: 0, hooks: ["Job/web/page"] },
    ]);
  });

  it("names a generateName hook the same way for every reconcile of one operation, and stamps it with the operation's start", () => {
    const [hook] = planned([obj("Job", "", { "argocd.argoproj.io/hook": "PreSync" }, "migrate-")]);
    const run = { object: hook!, phase: "PreSync" as const };
    const a = hookInstance(run, "abcdef0123", STARTED);
    expect(a.metadata).toMatchObject({ name: "migrate-abcdef0-presync-1796536800", annotations: { "tether.dev/hook-operation": STARTED } });
    expect(a.metadata).not.toHaveProperty("generateName");
    expect(hookInstance(run, "abcdef0123", STARTED)).toEqual(a);
    expect(hookInstance(run, "abcdef0123", "2026-12-06T06:00:07Z").metadata.name).not.toBe(a.metadata.name);
  });
});
