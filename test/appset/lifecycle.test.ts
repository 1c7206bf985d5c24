// ApplicationSets against the real control plane: generated Applications deploy, follow their
// elements, stay put when a generator fails, go with the set (or not, with preserveResourcesOnDeletion),
// never fight over a name, roll out step by step, and come from Git in Argo CD's spelling.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CustomObjectsApi, PatchStrategy } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application, ApplicationSet } from "../../agent/api/types.ts";
import { startAgent, cli, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-appset";
const { kubeconfigPath, kc, core, objects } = kube();
const custom = kc.makeApiClient(CustomObjectsApi);
const reader = appReader(kc, NS);

let repo: TestRepo;
let agent: AgentProcess;

const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n`;

beforeAll(async () => {
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  repo = await createRepo();
  await repo.commit({ "guestbook/cm.yaml": configMap("guestbook"), "other/cm.yaml": configMap("other") });
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "3s" });
});

afterAll(async () => {
  await agent?.stop();
  writeFileSync(path.join(os.tmpdir(), `${NS}-agent.log`), agent?.logs() ?? "");
  await repo?.cleanup();
});

const ref = (name: string) => ({ group: "tether.dev", version: "v1alpha1", namespace: NS, plural: "applicationsets", name });
const getSet = async (name: string) => await custom.getNamespacedCustomObject(ref(name)) as ApplicationSet;
const applySet = (set: ApplicationSet) => objects.patch(set, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
const deleteSet = (name: string) => custom.deleteNamespacedCustomObject({ ...ref(name), propagationPolicy: "Background" });
const appNames = async () => ((await custom.listNamespacedCustomObject({ group: "tether.dev", version: "v1alpha1", namespace: NS, plural: "applications" })) as { items: Application[] })
  .items.map((a) => a.metadata?.name ?? "").sort();
const cmExists = async (ns: string, name: string) =>
  (await core.listNamespacedConfigMap({ namespace: ns, fieldSelector: `metadata.name=${name}` })).items.length > 0;

function condition(set: ApplicationSet, type: string) {
  return set.status?.conditions?.find((c) => c.type === type);
}

async function setUntil(name: string, what: string, check: (s: ApplicationSet) => boolean, timeoutMs = 60_000): Promise<ApplicationSet> {
  let last: ApplicationSet | undefined;
  try {
    return await eventually(`ApplicationSet ${name}: ${what}`, async () => {
      last = await getSet(name);
      return check(last) ? last : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast status: ${JSON.stringify(last?.status, null, 1)}`);
  }
}

/** A set with a list generator; `template` fields merged into a template that deploys `path` to namespace `ns`. */
function listSet(name: string, elements: Record<string, string>[], o: {
  goTemplate?: boolean; template?: Record<string, unknown>; syncPolicy?: Record<string, unknown>; strategy?: Record<string, unknown>;
} = {}): ApplicationSet {
  const goTemplate = o.goTemplate ?? true;
  const p = (key: string) => (goTemplate ? `{{.${key}}}` : `{{${key}}}`);
  return {
    apiVersion: "tether.dev/v1alpha1", kind: "ApplicationSet", metadata: { name, namespace: NS },
    spec: {
      goTemplate, ...(goTemplate ? { goTemplateOptions: ["missingkey=error"] } : {}),
      generators: [{ list: { elements } }],
      template: {
        metadata: { name: `${name}-${p("stage")}` },
        spec: {
          project: "default",
          source: { repoURL: repo.url, targetRevision: "main", path: p("path") },
          destination: { server: "https://kubernetes.default.svc", namespace: p("ns") },
          syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
        },
        ...o.template,
      },
      ...(o.syncPolicy ? { syncPolicy: o.syncPolicy } : {}),
      ...(o.strategy ? { strategy: o.strategy } : {}),
    },
  };
}

describe("a list generator with Go templates and missingkey=error", () => {
  it("deploys one Application per element, then deletes the app and its objects when its element goes", async () => {
    await applySet(listSet("gb", [
      { stage: "dev", path: "guestbook", ns: "e2e-as-dev" }, { stage: "prod", path: "guestbook", ns: "e2e-as-prod" }]));
    for (const app of ["gb-dev", "gb-prod"]) await reader.until(app, "Synced and Healthy", syncedAndHealthy(), 90_000);
    expect(await cmExists("e2e-as-prod", "guestbook")).toBe(true);
    const set = await setUntil("gb", "resources listed", (s) => (s.status?.resources ?? []).filter((r) => r.health?.status === "Healthy").length === 2);
    expect(condition(set, "ResourcesUpToDate")).toMatchObject({ status: "True", reason: "ApplicationSetUpToDate" });
    expect(condition(set, "ParametersGenerated")?.status).toBe("True");
    const owned = await reader.get("gb-dev");
    expect(owned.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "ApplicationSet", name: "gb", controller: true });
    expect(owned.metadata?.finalizers).toContain("tether.dev/resources-finalizer");

    await applySet(listSet("gb", [{ stage: "dev", path: "guestbook", ns: "e2e-as-dev" }]));
    await eventually("gb-prod deleted", async () => ((await appNames()).includes("gb-prod") ? undefined : true), 60_000);
    await eventually("gb-prod's ConfigMap pruned", async () => ((await cmExists("e2e-as-prod", "guestbook")) ? undefined : true), 60_000);
    expect(await appNames()).toContain("gb-dev");
  });

  it("creates and deletes nothing when an element lacks a key the template reads, and says which", async () => {
    const before = await appNames();
    await applySet(listSet("gb", [{ stage: "dev", path: "guestbook", ns: "e2e-as-dev" }, { stage: "qa", path: "guestbook" }]));
    const set = await setUntil("gb", "ErrorOccurred", (s) => condition(s, "ErrorOccurred")?.status === "True");
    expect(condition(set, "ErrorOccurred")?.message).toMatch(/generators\[0\]/);
    expect(condition(set, "ErrorOccurred")?.message).toMatch(/ns/);
    expect(condition(set, "ParametersGenerated")?.status).toBe("False");
    await new Promise((r) => setTimeout(r, 4000));
    expect(await appNames()).toEqual(before);
    expect(await cmExists("e2e-as-dev", "guestbook")).toBe(true);
  });
});

describe("fasttemplate (goTemplate false), Kargo's one Application per stage", () => {
  it("substitutes {{stage}} in every field", async () => {
    await applySet(listSet("kargo", [{ stage: "test", path: "other", ns: "e2e-as-test" }, { stage: "uat", path: "other", ns: "e2e-as-uat" }], { goTemplate: false }));
    for (const app of ["kargo-test", "kargo-uat"]) await reader.until(app, "Synced and Healthy", syncedAndHealthy(), 90_000);
    expect((await reader.get("kargo-uat")).spec.destination.namespace).toBe("e2e-as-uat");
    expect(await cmExists("e2e-as-uat", "other")).toBe(true);
  });
});

describe("deleting a set", () => {
  it("deletes its Applications and their objects, and with preserveResourcesOnDeletion leaves the objects", async () => {
    await applySet(listSet("gone", [{ stage: "a", path: "guestbook", ns: "e2e-as-gone" }]));
    await applySet(listSet("kept", [{ stage: "a", path: "other", ns: "e2e-as-kept" }], { syncPolicy: { preserveResourcesOnDeletion: true } }));
    await reader.until("gone-a", "Synced and Healthy", syncedAndHealthy(), 90_000);
    const kept = await reader.until("kept-a", "Synced and Healthy", syncedAndHealthy(), 90_000);
    expect(kept.metadata?.finalizers ?? []).toEqual([]);
    await deleteSet("gone");
    await deleteSet("kept");
    await eventually("both apps gone", async () => ((await appNames()).some((n) => n === "gone-a" || n === "kept-a") ? undefined : true), 90_000);
    await eventually("gone-a's ConfigMap deleted", async () => ((await cmExists("e2e-as-gone", "guestbook")) ? undefined : true), 60_000);
    expect(await cmExists("e2e-as-kept", "other")).toBe(true);
  });

  it("keeps the Applications of a create-only set, without their owner reference", async () => {
    await applySet(listSet("once", [{ stage: "a", path: "other", ns: "e2e-as-once" }], { syncPolicy: { applicationsSync: "create-only" } }));
    await reader.until("once-a", "Synced and Healthy", syncedAndHealthy(), 90_000);
    await setUntil("once", "its finalizer", (s) => (s.metadata?.finalizers ?? []).includes("tether.dev/applicationset-finalizer"));
    await deleteSet("once");
    await eventually("the set gone", async () => getSet("once").then(() => undefined, () => true), 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    const app = await reader.get("once-a");
    expect(app.metadata?.deletionTimestamp).toBeUndefined();
    expect(app.metadata?.ownerReferences ?? []).toEqual([]);
  });
});

describe("two sets generating the same Application", () => {
  it("leaves it with the first and puts a condition on the second", async () => {
    await applySet(listSet("first", [{ stage: "x", path: "other", ns: "e2e-as-shared" }], { template: { metadata: { name: "shared-app" } } }));
    await reader.until("shared-app", "Synced and Healthy", syncedAndHealthy(), 90_000);
    await applySet(listSet("second", [{ stage: "x", path: "guestbook", ns: "e2e-as-shared" }], { template: { metadata: { name: "shared-app" } } }));
    const second = await setUntil("second", "a conflict", (s) => condition(s, "ErrorOccurred")?.status === "True");
    expect(condition(second, "ErrorOccurred")?.message).toContain("controlled by first");
    expect(condition(second, "ErrorOccurred")?.reason).toBe("ApplicationValidationError");
    const app = await reader.get("shared-app");
    expect(app.metadata?.ownerReferences?.[0]?.name).toBe("first");
    expect(app.spec.source?.path).toBe("other");
  });
});

describe("the refresh annotation", () => {
  it("is removed once the set generated again, as Argo CD does", async () => {
    await objects.patch({ apiVersion: "tether.dev/v1alpha1", kind: "ApplicationSet", metadata: { name: "kargo", namespace: NS,
      annotations: { "argocd.argoproj.io/application-set-refresh": "true" } } }, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    await setUntil("kargo", "annotation removed", (s) => s.metadata?.annotations?.["argocd.argoproj.io/application-set-refresh"] === undefined, 30_000);
  });
});

describe("RollingSync", () => {
  it("syncs a later step only after every app of the earlier step is Healthy and Synced", async () => {
    await applySet(listSet("roll", [
      { stage: "dev", path: "guestbook", ns: "e2e-as-roll-dev", env: "dev" },
      { stage: "prod", path: "guestbook", ns: "e2e-as-roll-prod", env: "prod" }], {
      template: { metadata: { name: "roll-{{.stage}}", labels: { env: "{{.env}}" } } },
      strategy: { type: "RollingSync", rollingSync: { steps: [
        { matchExpressions: [{ key: "env", operator: "In", values: ["dev"] }] },
        { matchExpressions: [{ key: "env", operator: "In", values: ["prod"] }] }] } },
    }));
    const dev = await reader.until("roll-dev", "Synced and Healthy", syncedAndHealthy(), 90_000);
    const prod = await reader.until("roll-prod", "Synced and Healthy", syncedAndHealthy(), 90_000);
    expect(dev.spec.syncPolicy?.automated).toBeUndefined();
    expect(prod.spec.syncPolicy?.automated).toBeUndefined();
    const devDone = Date.parse(dev.status?.operationState?.finishedAt ?? "");
    const prodStarted = Date.parse(prod.status?.operationState?.startedAt ?? "");
    expect(prodStarted).toBeGreaterThanOrEqual(devDone);
    const set = await setUntil("roll", "rollout complete", (s) => condition(s, "RolloutProgressing")?.status === "False");
    expect(set.status?.applicationStatus?.map((a) => [a.application, a.status, a.step])).toEqual([["roll-dev", "Healthy", "1"], ["roll-prod", "Healthy", "2"]]);
  });
});

describe("an argoproj.io ApplicationSet in Git", () => {
  it("is taken as Tether's and generates its Applications", async () => {
    const argoSet = {
      apiVersion: "argoproj.io/v1alpha1", kind: "ApplicationSet", metadata: { name: "from-git", namespace: "argocd" },
      spec: {
        goTemplate: true, goTemplateOptions: ["missingkey=error"],
        generators: [{ list: { elements: [{ cluster: "in-cluster", url: "https://kubernetes.default.svc" }] } }],
        template: { metadata: { name: "from-git-{{.cluster}}", finalizers: ["resources-finalizer.argocd.argoproj.io"] }, spec: {
          project: "default", source: { repoURL: repo.url, targetRevision: "main", path: "other" },
          destination: { server: "{{.url}}", namespace: "e2e-as-from-git" },
          syncPolicy: { automated: { prune: true }, syncOptions: ["CreateNamespace=true"] } } },
      },
    };
    await repo.commit({ "sets/set.json": JSON.stringify(argoSet) });
    await applyApp(objects, application("sets", { repoURL: repo.url, path: "sets", destNamespace: NS, agentNamespace: NS,
      syncPolicy: { automated: { prune: true } } }));
    const app = await reader.until("from-git-in-cluster", "Synced and Healthy", syncedAndHealthy(), 120_000);
    expect(app.metadata?.finalizers).toEqual(["tether.dev/resources-finalizer"]);
    const set = await getSet("from-git");
    expect(set.metadata?.annotations?.["tether.dev/tracking-id"]).toContain(`${NS}/sets:`);
    expect(await cmExists("e2e-as-from-git", "other")).toBe(true);
  });
});

describe("tether appset", () => {
  it("lists, shows and deletes sets with the exit codes of the other commands", async () => {
    const list = await cli(["appset", "list", "-n", NS, "-o", "json"], { kubeconfig: kubeconfigPath });
    expect(list.exitCode, list.stderr).toBe(0);
    const sets = JSON.parse(list.stdout) as ApplicationSet[];
    expect(sets.find((s) => s.metadata?.name === "kargo")?.status?.resources?.map((r) => r.name)).toEqual(["kargo-test", "kargo-uat"]);
    const table = await cli(["appset", "list", "-n", NS], { kubeconfig: kubeconfigPath });
    expect(table.stdout).toMatch(/^kargo\s+list\s+2\s+2\s+2\s+True/m);
    const get = await cli(["appset", "get", "kargo", "-n", NS], { kubeconfig: kubeconfigPath });
    expect(get.stdout).toMatch(/^kargo-uat\s+Synced\s+Healthy$/m);
    expect(get.stdout).toMatch(/^ResourcesUpToDate\s+True\s+ApplicationSetUpToDate/m);
    const missing = await cli(["appset", "get", "nope", "-n", NS], { kubeconfig: kubeconfigPath });
    expect(missing.exitCode).toBe(3);
    const refused = await cli(["appset", "delete", "kargo", "-n", NS], { kubeconfig: kubeconfigPath });
    expect(refused.exitCode).toBe(2);
    const deleted = await cli(["appset", "delete", "kargo", "-n", NS, "--yes"], { kubeconfig: kubeconfigPath });
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    await eventually("kargo's apps gone", async () => ((await appNames()).some((n) => n.startsWith("kargo-")) ? undefined : true), 60_000);
  });
});
