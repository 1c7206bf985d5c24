// Argo CD parity on the real control plane, as a user migrating from Argo CD meets it: Helm renders
// for the destination cluster (.Capabilities), diff settings (IgnoreExtraneous, tether-cm's global
// ignore rules), PreDelete hooks and resource actions.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { VersionApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, syncedAndHealthy, type SingleSourceApplication } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-parity";
const { kubeconfigPath, kc, core, objects } = kube();
const reader = appReader(kc, NS);

let repo: TestRepo;
let agent: AgentProcess;

const auto = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };
const app = (name: string, dir: string, dest: string): SingleSourceApplication =>
  application(name, { repoURL: repo.url, path: dir, destNamespace: dest, agentNamespace: NS, syncPolicy: auto });

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
    expect(diff.stderr).toBe("");
    expect(diff.exitCode, diff.stdout).toBe(0);
  }, 400_000);
});

export { eventually };
