// Argo CD parity on the real control plane, as a user migrating from Argo CD meets it: Helm renders
// for the destination cluster (.Capabilities), diff settings (IgnoreExtraneous, tether-cm's global
// ignore rules), PreDelete hooks and resource actions.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BatchV1Api, PatchStrategy, VersionApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, synced, syncedAndHealthy, type SingleSourceApplication } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-parity";
const { kubeconfigPath, kc, core, apps: appsApi, objects } = kube();
const reader = appReader(kc, NS);
const batchApi = kc.makeApiClient(BatchV1Api);

let repo: TestRepo;
let agent: AgentProcess;

const auto = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };
const app = (name: string, dir: string, dest: string): SingleSourceApplication =>
  application(name, { repoURL: repo.url, path: dir, destNamespace: dest, agentNamespace: NS, syncPolicy: auto });

/** A ConfigMap's Lua actions in tether-cm, in Argo CD's format: one patches the object, one creates another. */
const luaActions = `discovery.lua: |
  local actions = {}
  actions["stamp"] = {["iconClass"] = "fa fa-stamp", ["params"] = {{["name"] = "by"}}}
  actions["copy"] = {["disabled"] = obj.data.stamped == nil}
  return actions
definitions:
- name: stamp
  action.lua: |
    obj.data.stamped = actionParams["by"]
    return obj
- name: copy
  action.lua: |
    local copy = {apiVersion = "v1", kind = "ConfigMap", metadata = {name = obj.metadata.name .. "-copy"}, data = {from = obj.metadata.name}}
    return {{operation = "create", resource = copy}}
`;

/** A chart written for two Kubernetes generations, and for a CRD that may or may not be installed. */
const capsChart = {
  "caps/Chart.yaml": "apiVersion: v2\nname: caps\nversion: 0.1.0\n",
  "caps/templates/pdb.yaml": `{{- if .Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget" }}
apiVersion: policy/v1
{{- else }}
apiVersion: policy/v1beta1
{{- end }}
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: web}
`,
  "caps/templates/widget.yaml": `{{- if .Capabilities.APIVersions.Has "parity.tether.dev/v1/Widget" }}
apiVersion: parity.tether.dev/v1
kind: Widget
metadata:
  name: web
spec: {}
{{- end }}
`,
  "caps/templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: caps
data:
  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
  widgets: {{ .Capabilities.APIVersions.Has "parity.tether.dev/v1" | quote }}
`,
};

const widgetCrd = {
  apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition",
  metadata: { name: "widgets.parity.tether.dev" },
  spec: {
    group: "parity.tether.dev", scope: "Namespaced", names: { plural: "widgets", singular: "widget", kind: "Widget" },
    versions: [{ name: "v1", served: true, storage: true, schema: {
      openAPIV3Schema: { type: "object", properties: { spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } },
    } }],
  },
};

beforeAll(async () => {
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  await objects.create(widgetCrd).catch((e: { code?: number }) => {
    if (e.code !== 409) throw e;
  });
  // Global diff settings, as an Argo CD user carries argocd-cm over: read by the agent at start and watched.
  await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "tether-cm" }, data: {
    "resource.customizations.ignoreDifferences.apps_Deployment": "jsonPointers:\n- /spec/replicas\n",
    "resource.customizations.actions.ConfigMap": luaActions,
  } } });
  repo = await createRepo();
  await repo.commit({ ...capsChart });
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
});

afterAll(async () => {
  await agent?.stop();
  writeFileSync(path.join(os.tmpdir(), `${NS}-agent.log`), agent?.logs() ?? "");
  await repo?.cleanup();
});

describe("Helm renders for the destination cluster, as Argo CD passes --kube-version and --api-versions", () => {
  it("a chart that branches on .Capabilities renders the destination's version and the kinds it serves", async () => {
    const server = await kc.makeApiClient(VersionApi).getCode();
    await applyApp(objects, app("caps", "caps", "parity-caps"));
    await reader.until("caps", "Synced and Healthy", syncedAndHealthy(), 180_000);
    const cm = await core.readNamespacedConfigMap({ name: "caps", namespace: "parity-caps" });
    expect(cm.data).toEqual({ kubeVersion: server.gitVersion.replace(/[-+].*$/, ""), widgets: "true" });
    const widget = await objects.read({ apiVersion: "parity.tether.dev/v1", kind: "Widget", metadata: { name: "web", namespace: "parity-caps" } });
    expect(widget.metadata?.name).toBe("web");
    const pdb = await objects.read({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web", namespace: "parity-caps" } });
    expect(pdb.apiVersion).toBe("policy/v1");
  }, 400_000);

  it("spec.source.helm.kubeVersion and apiVersions override the destination's; tether app diff renders the same way", async () => {
    const a = app("caps-pinned", "caps", "parity-caps-pinned");
    a.spec.source.helm = { kubeVersion: "1.24", apiVersions: ["policy/v1/PodDisruptionBudget"] };
    await applyApp(objects, a);
    await reader.until("caps-pinned", "Synced and Healthy", syncedAndHealthy(), 180_000);
    const cm = await core.readNamespacedConfigMap({ name: "caps", namespace: "parity-caps-pinned" });
    expect(cm.data).toEqual({ kubeVersion: "v1.24.0", widgets: "false" });
    const diff = await cli(["app", "diff", "caps", "--namespace", NS, "--allow-local-repos"], { kubeconfig: kubeconfigPath });
    expect(diff.stderr).toMatch(/^rendering on this machine: no agent given \(--agent-url URL/);
    expect(diff.exitCode, diff.stdout).toBe(0);
    // tether app manifests: what Git renders (through the same pipeline) and what runs.
    const git = await cli(["app", "manifests", "caps", "--namespace", NS, "--allow-local-repos", "-o", "json"], { kubeconfig: kubeconfigPath });
    expect(git.exitCode, git.stderr).toBe(0);
    const rendered = JSON.parse(git.stdout) as { kind: string; metadata: { uid?: string }; data?: Record<string, string> }[];
    expect(rendered.map((o) => o.kind).sort()).toEqual(["ConfigMap", "PodDisruptionBudget", "Widget"]);
    expect(rendered.find((o) => o.kind === "ConfigMap")?.metadata.uid).toBeUndefined();
    const live = await cli(["app", "manifests", "caps", "--namespace", NS, "--source", "live", "-o", "json"], { kubeconfig: kubeconfigPath });
    expect(live.exitCode, live.stderr).toBe(0);
    const running = JSON.parse(live.stdout) as { kind: string; metadata: { uid?: string; managedFields?: unknown } }[];
    expect(running.map((o) => o.kind).sort()).toEqual(["ConfigMap", "PodDisruptionBudget", "Widget"]);
    expect(running.every((o) => o.metadata.uid !== undefined && o.metadata.managedFields === undefined)).toBe(true);
  }, 400_000);
});

const configMap = (name: string, annotations: Record<string, string> = {}) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  annotations: ${JSON.stringify(annotations)}
data:
  K: v
`;

const deployment = (name: string, replicas: number) => `apiVersion: apps/v1
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

describe("diff settings keep an app Synced, as Argo CD's do", () => {
  it("an object marked IgnoreExtraneous that left Git does not make its app OutOfSync (listed OutOfSync itself, not pruned)", async () => {
    await repo.commit({
      "extraneous/kept.yaml": configMap("kept"),
      "extraneous/generated.yaml": configMap("generated", { "argocd.argoproj.io/compare-options": "IgnoreExtraneous" }),
    });
    await applyApp(objects, app("extraneous", "extraneous", "parity-extraneous"));
    await reader.until("extraneous", "Synced and Healthy", syncedAndHealthy(), 180_000);
    const rev = await repo.commit({ "extraneous/generated.yaml": null });
    const seen = await reader.until("extraneous", "the new commit compared", (a) => a.status?.sync?.revision === rev
      && (a.status.resources ?? []).some((r) => r.name === "generated" && r.status === "OutOfSync"), 180_000);
    expect(seen.status?.sync?.status).toBe("Synced");
    expect((seen.status?.conditions ?? []).map((c) => c.type)).not.toContain("PruningRequired");
    expect((await core.readNamespacedConfigMap({ name: "generated", namespace: "parity-extraneous" })).data?.K).toBe("v");
  }, 400_000);

  it("a global rule in tether-cm (resource.customizations.ignoreDifferences.apps_Deployment) keeps a scaled Deployment Synced; selfHeal leaves it", async () => {
    await repo.commit({ "scaled/deploy.yaml": deployment("scaled", 1) });
    await applyApp(objects, app("scaled", "scaled", "parity-scaled"));
    await reader.until("scaled", "Synced", synced(), 180_000);
    await appsApi.patchNamespacedDeploymentScale({ name: "scaled", namespace: "parity-scaled", body: [{ op: "replace", path: "/spec/replicas", value: 3 }] });
    // The scale is a drift event: without the rule selfHeal would put 1 back within a second or two.
    await new Promise((r) => setTimeout(r, 8000));
    const seen = await reader.get("scaled");
    expect(seen.status?.sync?.status).toBe("Synced");
    expect((await appsApi.readNamespacedDeployment({ name: "scaled", namespace: "parity-scaled" })).spec?.replicas).toBe(3);
  }, 400_000);
});

describe("resource actions, as Argo CD's", () => {
  it("tether app actions run restart rolls a Deployment: the pod template's restartedAt changes, a new ReplicaSet appears, the app stays Synced", async () => {
    await repo.commit({ "restart/deploy.yaml": deployment("roll", 1) });
    await applyApp(objects, app("roll", "restart", "parity-roll"));
    await reader.until("roll", "Synced", synced(), 180_000);
    const listed = await cli(["app", "actions", "list", "roll", "--namespace", NS, "--kind", "Deployment", "--resource-name", "roll"], { kubeconfig: kubeconfigPath });
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/restart\s+enabled/);
    expect(listed.stdout).toMatch(/scale\s+enabled\s+replicas=1/);
    const sets = async () => (await appsApi.listNamespacedReplicaSet({ namespace: "parity-roll" })).items.map((r) => r.metadata?.name ?? "");
    const before = await eventually("the first ReplicaSet", async () => ((await sets()).length > 0 ? await sets() : undefined));
    const ran = await cli(["app", "actions", "run", "roll", "restart", "--namespace", NS, "--kind", "Deployment", "--resource-name", "roll"], { kubeconfig: kubeconfigPath });
    expect(ran.exitCode, ran.stderr).toBe(0);
    expect(ran.stdout).toContain("ran restart on apps/Deployment parity-roll/roll");
    const d = await appsApi.readNamespacedDeployment({ name: "roll", namespace: "parity-roll" });
    expect(d.spec?.template.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"]).toMatch(/^\d{4}-\d\d-\d\dT/);
    await eventually("a new ReplicaSet", async () => ((await sets()).some((n) => !before.includes(n)) ? true : undefined), 60_000);
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: "reason=ResourceActionRan" });
    expect(events.items.map((e) => e.message)).toContainEqual(expect.stringContaining("ran restart on apps/Deployment parity-roll/roll"));
    await new Promise((r) => setTimeout(r, 3000));
    expect((await reader.get("roll")).status?.sync?.status).toBe("Synced");
    const refused = await cli(["app", "actions", "run", "roll", "resume", "--namespace", NS, "--kind", "Deployment", "--resource-name", "roll"], { kubeconfig: kubeconfigPath });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('has no action "resume"; its actions: restart, scale');
  }, 400_000);
});

describe("Lua resource actions from tether-cm, as Argo CD's resource.customizations.actions", () => {
  const run = (action: string, ...extra: string[]) => cli(["app", "actions", "run", "stamps", action, "--namespace", NS, "--kind", "ConfigMap",
    "--resource-name", "stamped", ...extra], { kubeconfig: kubeconfigPath });
  const list = () => cli(["app", "actions", "list", "stamps", "--namespace", NS, "--kind", "ConfigMap", "--resource-name", "stamped", "-o", "json"],
    { kubeconfig: kubeconfigPath });

  it("lists discovery.lua's actions, patches the object with one and creates an object with the other; each run is an Event", async () => {
    await repo.commit({ "stamps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stamped\ndata:\n  k: v\n" });
    await applyApp(objects, app("stamps", "stamps", "parity-stamps"));
    await reader.until("stamps", "Synced", synced(), 180_000);
    const before = await list();
    expect(before.exitCode, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual([{ name: "copy", disabled: true }, { name: "stamp", disabled: false, iconClass: "fa fa-stamp", params: [{ name: "by" }] }]);
    const refused = await run("copy");
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('action "copy" is disabled on ConfigMap parity-stamps/stamped');

    const stamped = await run("stamp", "--param", "by=ops");
    expect(stamped.exitCode, stamped.stderr).toBe(0);
    expect(stamped.stdout).toContain("ran stamp on ConfigMap parity-stamps/stamped (by=ops)");
    expect((await core.readNamespacedConfigMap({ name: "stamped", namespace: "parity-stamps" })).data).toEqual({ k: "v", stamped: "ops" });
    expect(JSON.parse((await list()).stdout)).toContainEqual({ name: "copy", disabled: false });

    const copied = await run("copy");
    expect(copied.exitCode, copied.stderr).toBe(0);
    expect(copied.stdout).toContain("created ConfigMap/parity-stamps/stamped-copy");
    expect((await core.readNamespacedConfigMap({ name: "stamped-copy", namespace: "parity-stamps" })).data).toEqual({ from: "stamped" });
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: "reason=ResourceActionRan" });
    expect(events.items.map((e) => e.message)).toEqual(expect.arrayContaining([
      expect.stringContaining("ran stamp on ConfigMap parity-stamps/stamped (by=ops)"), expect.stringContaining("ran copy on ConfigMap parity-stamps/stamped"),
    ]));
  }, 400_000);

  it("the agent's API lists the same actions from its settings watch (what the UI's object page shows)", async () => {
    const token = await readerToken();
    const key = encodeURIComponent("/v1/ConfigMap/parity-stamps/stamped");
    const res = await fetch(`http://127.0.0.1:${agent.port}/api/v1/applications/stamps/actions?key=${key}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { items: { name: string }[] }).items.map((a) => a.name)).toEqual(["copy", "stamp"]);
  }, 120_000);
});

describe("tether app diff and tether preview render where the agent renders", () => {
  const cm = (value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shown\ndata:\n  k: ${value}\n`;
  const child = "apiVersion: tether.dev/v1alpha1\nkind: Application\nmetadata:\n  name: pv\nspec:\n  project: default\n  source:\n    path: pv\n"
    + "  destination:\n    server: https://kubernetes.default.svc\n    namespace: parity-pv\n";
  let base = "";
  let head = "";
  let token = "";
  const agentFlags = () => ["--agent-url", `http://127.0.0.1:${agent.port}`, "--auth-token", token];

  beforeAll(async () => {
    token = await readerToken();
    base = await repo.commit({ "pv/cm.yaml": cm("v1"), "pvroot/pv.yaml": child });
    await applyApp(objects, app("pv", "pv", "parity-pv"));
    await reader.until("pv", "Synced", (a) => synced()(a) && a.status?.sync?.revision === base, 180_000);
  }, 300_000);

  it("tether app diff asks the agent: in sync at the target, the difference at --revision; an unreachable agent falls back to this machine", async () => {
    const same = await cli(["app", "diff", "pv", "--namespace", NS, ...agentFlags()], { kubeconfig: kubeconfigPath });
    expect(same.stderr).toContain(`rendered by the agent at http://127.0.0.1:${agent.port}`);
    expect(same.exitCode, same.stdout).toBe(0);
    // Automated sync off first: the new commit stays a difference.
    await objects.patch({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "pv", namespace: NS },
      spec: { syncPolicy: null } } as never, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    head = await repo.commit({ "pv/cm.yaml": cm("v2") }, "v2, not synced");
    const atBase = await cli(["app", "diff", "pv", "--namespace", NS, "--revision", base, ...agentFlags()], { kubeconfig: kubeconfigPath });
    expect(atBase.exitCode, atBase.stdout + atBase.stderr).toBe(0);
    const changed = await cli(["app", "diff", "pv", "--namespace", NS, "--revision", head, ...agentFlags()], { kubeconfig: kubeconfigPath });
    expect(changed.stderr).toContain("rendered by the agent");
    expect(changed.exitCode, changed.stderr).toBe(1);
    expect(changed.stdout).toMatch(/-\s+k: v1\n\+\s+k: v2/);
    const fallback = await cli(["app", "diff", "pv", "--namespace", NS, "--revision", head, "--allow-local-repos", "--agent-url", "http://127.0.0.1:9", "--auth-token", "t"],
      { kubeconfig: kubeconfigPath });
    expect(fallback.stderr).toMatch(/the agent at http:\/\/127.0.0.1:9 cannot be reached .*; rendering on this machine/);
    expect(fallback.exitCode, fallback.stderr).toBe(1);
    expect(fallback.stdout).toBe(changed.stdout);
    const refused = await cli(["app", "diff", "pv", "--namespace", NS, ...agentFlags().slice(0, 2), "--auth-token", "not-a-token"], { kubeconfig: kubeconfigPath });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/answered HTTP 40[13]/);
  }, 300_000);

  it("tether preview renders each app the agent runs on the agent, at the pushed commits; the others here", async () => {
    const r = await cli(["preview", "--repo", repo.work, "--path", "pvroot", "--base", base, "--head", head, "--repo-url", repo.url,
      "--namespace", NS, "-o", "json", ...agentFlags()], { kubeconfig: kubeconfigPath });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain(`pv@${base.slice(0, 7)}: rendered by the agent at http://127.0.0.1:${agent.port}`);
    expect(r.stderr).toContain(`pv@${head.slice(0, 7)}: rendered by the agent`);
    expect(r.stderr).toContain(`root@${head.slice(0, 7)}: rendered here (the agent runs no app root`);
    const preview = JSON.parse(r.stdout) as { apps: { name: string; objects: { object: string; diff: string }[] }[] };
    const pv = preview.apps.find((a) => a.name === "pv");
    expect(pv?.objects.map((o) => o.object)).toEqual([expect.stringMatching(/^ConfigMap\/.*shown$/)]);
    expect(pv?.objects[0]?.diff).toMatch(/-\s+k: v1\n\+\s+k: v2/);
  }, 300_000);
});

/** A ServiceAccount that may read Applications, and a token for it: a UI caller. */
async function readerToken(): Promise<string> {
  const name = "parity-reader";
  await applyApp(objects, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: NS } } as never);
  await applyApp(objects, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace: NS },
    rules: [{ apiGroups: ["tether.dev"], resources: ["applications"], verbs: ["get", "list", "watch"] }] } as never);
  await applyApp(objects, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name, namespace: NS },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name }, subjects: [{ kind: "ServiceAccount", name, namespace: NS }] } as never);
  const res = await core.createNamespacedServiceAccountToken({ name, namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  return res.status?.token ?? "";
}

describe("PreDelete hooks (Argo CD 3.x)", () => {
  const hookJob = (name: string, command: string) => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
  annotations:
    argocd.argoproj.io/hook: PreDelete
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox:1.36
          command: ${command}
`;
  const gone = async (read: () => Promise<unknown>) => read().then(() => false, (e: { code?: number }) => e.code === 404);
  const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: data\ndata:\n  K: v\n";
  const finalized = (name: string) => eventually(`the pre-delete finalizer on ${name}`, async () => {
    const a = await reader.get(name);
    return a.metadata?.finalizers?.includes("pre-delete-finalizer.tether.dev") ? a : undefined;
  }, 60_000);

  it("a failed PreDelete hook blocks the deletion with a DeletionError: nothing of the app is deleted; without its finalizer the deletion goes on", async () => {
    await repo.commit({ "predelete-fail/hook.yaml": hookJob("refuse", '["false"]'), "predelete-fail/cm.yaml": cm });
    await applyApp(objects, application("predelete-fail", { repoURL: repo.url, path: "predelete-fail", destNamespace: "parity-predelete-fail", agentNamespace: NS, syncPolicy: auto, finalizer: true }));
    await reader.until("predelete-fail", "Synced", synced(), 180_000);
    await finalized("predelete-fail");
    // Not run by a sync.
    expect(await gone(() => batchApi.readNamespacedJob({ name: "refuse", namespace: "parity-predelete-fail" }))).toBe(true);
    await objects.delete({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "predelete-fail", namespace: NS } });
    const stuck = await reader.until("predelete-fail", "a DeletionError condition", (a) => a.status?.conditions?.some((c) => c.type === "DeletionError") ?? false, 120_000);
    expect(stuck.status?.conditions?.find((c) => c.type === "DeletionError")?.message).toMatch(/PreDelete hook failed: Job\/parity-predelete-fail\/refuse/);
    expect(stuck.metadata?.finalizers).toEqual(expect.arrayContaining(["pre-delete-finalizer.tether.dev", "tether.dev/resources-finalizer"]));
    expect((await core.readNamespacedConfigMap({ name: "data", namespace: "parity-predelete-fail" })).data?.K).toBe("v");
    await objects.patch({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "predelete-fail", namespace: NS, finalizers: ["tether.dev/resources-finalizer"] } },
      undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    await eventually("the Application gone", async () => (await gone(() => reader.get("predelete-fail")) ? true : undefined), 120_000);
    expect(await gone(() => core.readNamespacedConfigMap({ name: "data", namespace: "parity-predelete-fail" }))).toBe(true);
  }, 400_000);

  it("runs before the app's resources are deleted; the Application goes once it succeeded", async () => {
    await repo.commit({ "predelete/hook.yaml": hookJob("farewell", '["sh", "-c", "echo done"]'), "predelete/cm.yaml": cm });
    await applyApp(objects, application("predelete", { repoURL: repo.url, path: "predelete", destNamespace: "parity-predelete", agentNamespace: NS, syncPolicy: auto, finalizer: true }));
    await reader.until("predelete", "Synced", synced(), 180_000);
    await finalized("predelete");
    await objects.delete({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "predelete", namespace: NS } });
    await eventually("the Application gone", async () => (await gone(() => reader.get("predelete")) ? true : undefined), 120_000);
    const hook = await batchApi.readNamespacedJob({ name: "farewell", namespace: "parity-predelete" });
    expect(hook.status?.succeeded).toBe(1);
    expect(await gone(() => core.readNamespacedConfigMap({ name: "data", namespace: "parity-predelete" }))).toBe(true);
  }, 400_000);
});
