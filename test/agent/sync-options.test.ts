// Argo CD's sync options and source fields against the real control plane, as a user migrating
// from Argo CD meets them: each option on one object (annotation, both spellings) or on the whole
// Application (syncPolicy.syncOptions), and the Kustomize and Helm fields the CRD accepts.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, hasCondition, synced, syncedAndHealthy, type SingleSourceApplication } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-syncopts";
const { kubeconfigPath, kc, core, apps, objects } = kube();
const reader = appReader(kc, NS);

let repo: TestRepo;
let agent: AgentProcess;

const auto = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };
const app = (name: string, dir: string, dest: string, extra: Partial<Parameters<typeof application>[1]> = {}): SingleSourceApplication =>
  application(name, { repoURL: repo.url, path: dir, destNamespace: dest, agentNamespace: NS, syncPolicy: auto, ...extra });

const configMap = (name: string, opts: { options?: string; data?: string } = {}) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
${opts.options ? `  annotations:\n    argocd.argoproj.io/sync-options: ${opts.options}\n` : ""}data:
  K: "${opts.data ?? "v"}"
`;

const deployment = (name: string, replicas = 1) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
`;

const chart = {
  "chart/Chart.yaml": "apiVersion: v2\nname: tiny\nversion: 0.1.0\n",
  "chart/values.yaml": "replicas: 1\ntag: latest\n",
  "chart/motd.txt": "welcome\n",
  "chart/templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  replicas: {{ .Values.replicas | quote }}
  tagKind: {{ kindOf .Values.tag | quote }}
  motd: {{ .Values.motd | quote }}
`,
};

beforeAll(async () => {
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  repo = await createRepo();
  await repo.commit({
    "kustomized/kustomization.yaml": "resources:\n- deploy.yaml\n",
    "kustomized/deploy.yaml": deployment("shop"),
    ...chart,
  });
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
});

afterAll(async () => {
  await agent?.stop();
  writeFileSync(path.join(os.tmpdir(), `${NS}-agent.log`), agent?.logs() ?? "");
  await repo?.cleanup();
});

describe("Argo CD's Kustomize and Helm fields", () => {
  it("deploys kustomize.replicas, namespace and patches from the Application", async () => {
    const a = app("kustomized", "kustomized", "opts-kustomize");
    a.spec.source.kustomize = {
      replicas: [{ name: "shop", count: 3 }],
      patches: [{ target: { kind: "Deployment", name: "shop" }, patch: "- op: add\n  path: /spec/minReadySeconds\n  value: 7\n" }],
    };
    await applyApp(objects, a);
    await reader.until("kustomized", "Synced and Healthy", syncedAndHealthy(), 180_000);
    const d = await apps.readNamespacedDeployment({ name: "shop", namespace: "opts-kustomize" });
    expect(d.spec?.replicas).toBe(3);
    expect(d.spec?.minReadySeconds).toBe(7);
  }, 400_000);

  it("deploys helm.parameters (forceString too) and fileParameters, and refuses helm.version v2 with a condition", async () => {
    const a = app("charted", "chart", "opts-helm");
    a.spec.source.helm = {
      parameters: [{ name: "replicas", value: "2" }, { name: "tag", value: "1234", forceString: true }],
      fileParameters: [{ name: "motd", path: "motd.txt" }],
    };
    await applyApp(objects, a);
    await reader.until("charted", "Synced and Healthy", syncedAndHealthy(), 180_000);
    const cm = await core.readNamespacedConfigMap({ name: "charted-settings", namespace: "opts-helm" });
    expect(cm.data).toEqual({ replicas: "2", tagKind: "string", motd: "welcome\n" });

    const v2 = app("helm-two", "chart", "opts-helm2");
    v2.spec.source.helm = { version: "v2" };
    await applyApp(objects, v2);
    const refused = await reader.until("helm-two", "a RenderFailed condition", (x) => (x.status?.conditions ?? []).some((c) => c.type === "RenderFailed"));
    expect(refused.status?.conditions?.find((c) => c.type === "RenderFailed")?.message).toContain('spec.source.helm.version: "v2" is not supported');
  }, 400_000);
});

const gone = async (read: () => Promise<unknown>): Promise<boolean> => read().then(() => false, (e: { code?: number }) => e.code === 404);

describe("sync options on one object (argocd.argoproj.io/sync-options)", () => {
  it("Replace=true writes the object whole (PUT): a label added by hand is gone after the next commit", async () => {
    await repo.commit({ "replace/cm.yaml": configMap("whole", { options: "Replace=true", data: "1" }) });
    await applyApp(objects, app("replace", "replace", "opts-replace"));
    await reader.until("replace", "Synced", synced(), 180_000);
    await core.patchNamespacedConfigMap({ name: "whole", namespace: "opts-replace", body: [{ op: "add", path: "/metadata/labels", value: { by: "hand" } }] });
    const rev = await repo.commit({ "replace/cm.yaml": configMap("whole", { options: "Replace=true", data: "2" }) });
    await reader.until("replace", "synced to the new commit", synced(rev), 180_000);
    const cm = await core.readNamespacedConfigMap({ name: "whole", namespace: "opts-replace" });
    expect(cm.data?.K).toBe("2");
    expect(cm.metadata?.labels?.by).toBeUndefined();
    expect(cm.metadata?.managedFields?.some((f) => f.manager === "tether" && f.operation === "Apply")).toBe(false);
  }, 400_000);

  it("Force=true,Replace=true deletes and creates the object again; Force=true alone recreates an object the server will not update", async () => {
    await repo.commit({
      "force/replace.yaml": configMap("recreated", { options: "Force=true,Replace=true", data: "1" }),
      "force/immutable.yaml": `${configMap("frozen", { options: "Force=true", data: "1" })}immutable: true\n`,
    });
    await applyApp(objects, app("force", "force", "opts-force"));
    await reader.until("force", "Synced", synced(), 180_000);
    const before = await core.readNamespacedConfigMap({ name: "recreated", namespace: "opts-force" });
    const frozen = await core.readNamespacedConfigMap({ name: "frozen", namespace: "opts-force" });
    const rev = await repo.commit({
      "force/replace.yaml": configMap("recreated", { options: "Force=true,Replace=true", data: "2" }),
      "force/immutable.yaml": `${configMap("frozen", { options: "Force=true", data: "2" })}immutable: true\n`,
    });
    await reader.until("force", "synced to the new commit", synced(rev), 180_000);
    const after = await core.readNamespacedConfigMap({ name: "recreated", namespace: "opts-force" });
    expect(after.data?.K).toBe("2");
    expect(after.metadata?.uid).not.toBe(before.metadata?.uid);
    const thawed = await core.readNamespacedConfigMap({ name: "frozen", namespace: "opts-force" });
    expect(thawed.data?.K).toBe("2");
    expect(thawed.metadata?.uid).not.toBe(frozen.metadata?.uid);
  }, 400_000);

  it("Validate=false applies an object with a field its kind does not have; without it the API server's refusal is shown", async () => {
    const unknownField = (options?: string) => `${configMap("loose", options ? { options } : {})}extra: field\n`;
    await repo.commit({ "validate/cm.yaml": unknownField() });
    await applyApp(objects, app("validate", "validate", "opts-validate"));
    const refused = await reader.until("validate", "an SyncError condition", hasCondition("SyncError"), 180_000);
    expect(refused.status?.conditions?.find((c) => c.type === "SyncError")?.message).toMatch(/ConfigMap\/opts-validate\/loose: .*(unknown field "extra"|\.extra: field not declared in schema)/);
    const rev = await repo.commit({ "validate/cm.yaml": unknownField("Validate=false") });
    await reader.until("validate", "Synced", synced(rev), 180_000);
    const loose = await core.readNamespacedConfigMap({ name: "loose", namespace: "opts-validate" });
    expect(loose.data?.K).toBe("v");
    expect((loose as unknown as Record<string, unknown>).extra).toBeUndefined();
  }, 400_000);

  it("ServerSideApply=false applies client-side: the last-applied annotation, a key removed from Git removed live, one added by hand kept", async () => {
    const twoKeys = `${configMap("csa", { options: "ServerSideApply=false" })}  GONE: "soon"\n`;
    await repo.commit({ "csa/cm.yaml": twoKeys });
    await applyApp(objects, app("csa", "csa", "opts-csa"));
    await reader.until("csa", "Synced", synced(), 180_000);
    const first = await core.readNamespacedConfigMap({ name: "csa", namespace: "opts-csa" });
    expect(JSON.parse(first.metadata?.annotations?.["kubectl.kubernetes.io/last-applied-configuration"] ?? "{}")).toMatchObject({ data: { K: "v", GONE: "soon" } });
    expect(first.metadata?.managedFields?.some((f) => f.manager === "tether" && f.operation === "Apply")).toBe(false);
    await core.patchNamespacedConfigMap({ name: "csa", namespace: "opts-csa", body: [{ op: "add", path: "/data/MINE", value: "kept" }] });
    const rev = await repo.commit({ "csa/cm.yaml": configMap("csa", { options: "ServerSideApply=false" }) });
    await reader.until("csa", "synced to the new commit", synced(rev), 180_000);
    const cm = await core.readNamespacedConfigMap({ name: "csa", namespace: "opts-csa" });
    expect(cm.data).toEqual({ K: "v", MINE: "kept" });
  }, 400_000);

  it("Prune=false keeps an object that left Git, listed OutOfSync (operation Succeeded); Delete=false keeps one through prune and cascade deletion", async () => {
    await repo.commit({
      "keep/kept.yaml": configMap("kept", { options: "Prune=false" }),
      "keep/retained.yaml": configMap("retained", { options: "Delete=false" }),
      "keep/pruned.yaml": configMap("pruned"),
    });
    const a = app("keep", "keep", "opts-keep", { finalizer: true });
    await applyApp(objects, a);
    await reader.until("keep", "Synced", synced(), 180_000);
    const rev = await repo.commit({ "keep/kept.yaml": null, "keep/retained.yaml": null, "keep/pruned.yaml": null, "keep/other.yaml": configMap("other") });
    const seen = await reader.until("keep", "the new commit synced", (x) => x.status?.sync?.revision === rev && x.status.operationState?.phase === "Succeeded"
      && !(x.status.resources ?? []).some((r) => r.name === "pruned"), 180_000);
    expect(seen.status?.sync?.status).toBe("OutOfSync");
    expect(seen.status?.resources?.filter((r) => r.status === "OutOfSync").map((r) => r.name).sort()).toEqual(["kept", "retained"]);
    expect(await gone(() => core.readNamespacedConfigMap({ name: "pruned", namespace: "opts-keep" }))).toBe(true);
    await objects.delete(a);
    await eventually("the app gone", async () => (await gone(() => reader.get("keep"))) ? true : undefined, 180_000);
    expect(await gone(() => core.readNamespacedConfigMap({ name: "other", namespace: "opts-keep" }))).toBe(true);
    expect((await core.readNamespacedConfigMap({ name: "kept", namespace: "opts-keep" })).data?.K).toBe("v");
    expect((await core.readNamespacedConfigMap({ name: "retained", namespace: "opts-keep" })).data?.K).toBe("v");
  }, 400_000);

  it("names an unknown sync option, on the object and on the Application, in an InvalidSyncOption condition", async () => {
    await repo.commit({ "unknown/cm.yaml": configMap("odd", { options: "Prune=false,Frobnicate=true" }) });
    const a = app("unknown", "unknown", "opts-unknown");
    a.spec.syncPolicy = { ...auto, syncOptions: ["CreateNamespace=true", "PrunePropagationPolicy=sideways"] };
    await applyApp(objects, a);
    const seen = await reader.until("unknown", "an InvalidSyncOption condition", hasCondition("InvalidSyncOption"), 180_000);
    const message = seen.status?.conditions?.find((c) => c.type === "InvalidSyncOption")?.message ?? "";
    expect(message).toContain('spec.syncPolicy.syncOptions: "PrunePropagationPolicy=sideways": PrunePropagationPolicy takes foreground or background or orphan');
    expect(message).toContain('ConfigMap/opts-unknown/odd: "Frobnicate=true" is not a sync option');
  }, 400_000);
});

describe("sync options on the Application (syncPolicy.syncOptions)", () => {
  it("Prune=false holds for tether app sync --prune", async () => {
    await repo.commit({ "manual/a.yaml": configMap("a"), "manual/b.yaml": configMap("b") });
    const a = app("manual", "manual", "opts-manual", { syncPolicy: { syncOptions: ["CreateNamespace=true", "Prune=false"] } });
    await applyApp(objects, a);
    const first = await cli(["app", "sync", "manual", "--namespace", NS, "--timeout", "90s"], { kubeconfig: kubeconfigPath });
    expect(first.exitCode, first.stderr).toBe(0);
    await repo.commit({ "manual/b.yaml": null });
    // The app stays OutOfSync (b requires pruning), so the CLI's wait for Synced is cut short; the status below is the check.
    const second = await cli(["app", "sync", "manual", "--prune", "--namespace", NS, "--timeout", "20s"], { kubeconfig: kubeconfigPath });
    expect(second.exitCode, second.stderr).not.toBe(2);
    const seen = await reader.until("manual", "b listed OutOfSync", (x) => (x.status?.resources ?? []).some((r) => r.name === "b" && r.status === "OutOfSync"), 180_000);
    expect(seen.status?.operationState?.phase).toBe("Succeeded");
    expect((await core.readNamespacedConfigMap({ name: "b", namespace: "opts-manual" })).data?.K).toBe("v");
  }, 400_000);

  it("PrunePropagationPolicy=orphan prunes a Deployment and leaves its ReplicaSet", async () => {
    await repo.commit({ "orphan/deploy.yaml": deployment("orphaned") });
    const a = app("orphan", "orphan", "opts-orphan");
    a.spec.syncPolicy = { ...auto, syncOptions: ["CreateNamespace=true", "PrunePropagationPolicy=orphan"] };
    await applyApp(objects, a);
    await reader.until("orphan", "Synced and Healthy", syncedAndHealthy(), 180_000);
    const rs = await eventually("the ReplicaSet", async () => (await apps.listNamespacedReplicaSet({ namespace: "opts-orphan" })).items[0], 30_000);
    await repo.commit({ "orphan/deploy.yaml": null, "orphan/cm.yaml": configMap("left") });
    await eventually("the Deployment pruned", async () => (await gone(() => apps.readNamespacedDeployment({ name: "orphaned", namespace: "opts-orphan" }))) ? true : undefined, 180_000);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const still = await apps.readNamespacedReplicaSet({ name: rs.metadata?.name ?? "", namespace: "opts-orphan" });
    expect(still.metadata?.ownerReferences ?? []).toEqual([]);
  }, 400_000);

  it("CreateNamespace=true sets managedNamespaceMetadata's labels and annotations on the namespace", async () => {
    await repo.commit({ "nsmeta/cm.yaml": configMap("x") });
    const a = app("nsmeta", "nsmeta", "opts-nsmeta");
    a.spec.syncPolicy = { ...auto, managedNamespaceMetadata: { labels: { team: "web" }, annotations: { owner: "platform" } } };
    await applyApp(objects, a);
    await reader.until("nsmeta", "Synced", synced(), 180_000);
    const ns = await core.readNamespace({ name: "opts-nsmeta" });
    expect(ns.metadata?.labels?.team).toBe("web");
    expect(ns.metadata?.annotations?.owner).toBe("platform");
  }, 400_000);

  it("RespectIgnoreDifferences=true keeps the live value of an ignored field when a commit is synced", async () => {
    await repo.commit({ "respect/deploy.yaml": deployment("scaled") });
    const a = app("respect", "respect", "opts-respect");
    a.spec.syncPolicy = { ...auto, syncOptions: ["CreateNamespace=true", "RespectIgnoreDifferences=true"] };
    a.spec.ignoreDifferences = [{ group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas"] }];
    await applyApp(objects, a);
    await reader.until("respect", "Synced", synced(), 180_000);
    await apps.patchNamespacedDeployment({ name: "scaled", namespace: "opts-respect", body: [{ op: "replace", path: "/spec/replicas", value: 3 }] });
    const rev = await repo.commit({ "respect/deploy.yaml": deployment("scaled").replace("nginx:1.27", "nginx:1.28") });
    await reader.until("respect", "synced to the new commit", synced(rev), 180_000);
    const d = await apps.readNamespacedDeployment({ name: "scaled", namespace: "opts-respect" });
    expect(d.spec?.template.spec?.containers[0]?.image).toBe("nginx:1.28");
    expect(d.spec?.replicas).toBe(3);
  }, 400_000);

  it("ignoreDifferences.jqPathExpressions: a field it names keeps its live value through later commits (RespectIgnoreDifferences); an expression Tether cannot evaluate stops the app with InvalidSpecError", async () => {
    await repo.commit({ "jq/deploy.yaml": deployment("jq-scaled") });
    const a = app("jq", "jq", "opts-jq");
    a.spec.syncPolicy = { ...auto, syncOptions: ["CreateNamespace=true", "RespectIgnoreDifferences=true"] };
    a.spec.ignoreDifferences = [{ group: "apps", kind: "Deployment", jqPathExpressions: ['.spec | select(.replicas != 0) | .replicas'] }];
    await applyApp(objects, a);
    await reader.until("jq", "Synced", synced(), 180_000);
    await apps.patchNamespacedDeployment({ name: "jq-scaled", namespace: "opts-jq", body: [{ op: "replace", path: "/spec/replicas", value: 3 }] });
    const rev = await repo.commit({ "jq/deploy.yaml": deployment("jq-scaled").replace("nginx:1.27", "nginx:1.28") });
    const after = await reader.until("jq", "synced to the new commit", synced(rev), 180_000);
    expect(after.status?.sync?.status).toBe("Synced");
    expect((await apps.readNamespacedDeployment({ name: "jq-scaled", namespace: "opts-jq" })).spec?.replicas).toBe(3);

    a.spec.ignoreDifferences = [{ group: "apps", kind: "Deployment", jqPathExpressions: [".spec.replicas | tostring"] }];
    await applyApp(objects, a);
    const refused = await reader.until("jq", "InvalidSpecError", hasCondition("InvalidSpecError"), 120_000);
    expect(refused.status?.conditions?.find((c) => c.type === "InvalidSpecError")?.message).toContain('spec.ignoreDifferences[0].jqPathExpressions[0]: jqPathExpressions ".spec.replicas | tostring"');
  }, 400_000);

  it("ignoreDifferences.managedFieldsManagers: replicas an autoscaler's field manager set stay Synced through self-heal and later commits", async () => {
    await repo.commit({ "managers/deploy.yaml": deployment("autoscaled") });
    const a = app("managers", "managers", "opts-managers");
    a.spec.syncPolicy = { ...auto, syncOptions: ["CreateNamespace=true", "RespectIgnoreDifferences=true"] };
    a.spec.ignoreDifferences = [{ group: "apps", kind: "Deployment", managedFieldsManagers: ["e2e-autoscaler"] }];
    await applyApp(objects, a);
    await reader.until("managers", "Synced", synced(), 180_000);
    await apps.patchNamespacedDeployment({
      name: "autoscaled", namespace: "opts-managers", fieldManager: "e2e-autoscaler", body: [{ op: "replace", path: "/spec/replicas", value: 4 }],
    });
    const rev = await repo.commit({ "managers/deploy.yaml": deployment("autoscaled").replace("nginx:1.27", "nginx:1.28") });
    const after = await reader.until("managers", "synced to the new commit", synced(rev), 180_000);
    expect(after.status?.sync?.status).toBe("Synced");
    const d = await apps.readNamespacedDeployment({ name: "autoscaled", namespace: "opts-managers" });
    expect(d.spec?.template.spec?.containers[0]?.image).toBe("nginx:1.28");
    expect(d.spec?.replicas).toBe(4);
    // The same edit by a manager the rule does not name is drift, and self-heal reverts it.
    await apps.patchNamespacedDeployment({
      name: "autoscaled", namespace: "opts-managers", fieldManager: "someone-else", body: [{ op: "replace", path: "/spec/template/spec/containers/0/image", value: "nginx:1.29" }],
    });
    await eventually("self-heal to revert the image", async () => {
      const healed = await apps.readNamespacedDeployment({ name: "autoscaled", namespace: "opts-managers" });
      return healed.spec?.template.spec?.containers[0]?.image === "nginx:1.28" ? true : undefined;
    }, 120_000);
    expect((await apps.readNamespacedDeployment({ name: "autoscaled", namespace: "opts-managers" })).spec?.replicas).toBe(4);
  }, 400_000);
});
