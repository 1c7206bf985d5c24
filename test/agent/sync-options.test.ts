// Argo CD's sync options and source fields against the real control plane, as a user migrating
// from Argo CD meets them: each option on one object (annotation, both spellings) or on the whole
// Application (syncPolicy.syncOptions), and the Kustomize and Helm fields the CRD accepts.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, syncedAndHealthy, type SingleSourceApplication } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { kube } from "../support/kube.ts";

const NS = "tether-e2e-syncopts";
const { kubeconfigPath, kc, core, apps, objects } = kube();
const reader = appReader(kc, NS);

let repo: TestRepo;
let agent: AgentProcess;

const auto = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };
const app = (name: string, dir: string, dest: string, extra: Partial<Parameters<typeof application>[1]> = {}): SingleSourceApplication =>
  application(name, { repoURL: repo.url, path: dir, destNamespace: dest, agentNamespace: NS, syncPolicy: auto, ...extra });

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
    await reader.until("kustomized", "Synced and Healthy", syncedAndHealthy(), 90_000);
    const d = await apps.readNamespacedDeployment({ name: "shop", namespace: "opts-kustomize" });
    expect(d.spec?.replicas).toBe(3);
    expect(d.spec?.minReadySeconds).toBe(7);
  });

  it("deploys helm.parameters (forceString too) and fileParameters, and refuses helm.version v2 with a condition", async () => {
    const a = app("charted", "chart", "opts-helm");
    a.spec.source.helm = {
      parameters: [{ name: "replicas", value: "2" }, { name: "tag", value: "1234", forceString: true }],
      fileParameters: [{ name: "motd", path: "motd.txt" }],
    };
    await applyApp(objects, a);
    await reader.until("charted", "Synced and Healthy", syncedAndHealthy(), 90_000);
    const cm = await core.readNamespacedConfigMap({ name: "charted-settings", namespace: "opts-helm" });
    expect(cm.data).toEqual({ replicas: "2", tagKind: "string", motd: "welcome\n" });

    const v2 = app("helm-two", "chart", "opts-helm2");
    v2.spec.source.helm = { version: "v2" };
    await applyApp(objects, v2);
    const refused = await reader.until("helm-two", "a RenderFailed condition", (x) => (x.status?.conditions ?? []).some((c) => c.type === "RenderFailed"));
    expect(refused.status?.conditions?.find((c) => c.type === "RenderFailed")?.message).toContain('spec.source.helm.version: "v2" is not supported');
  });
});
