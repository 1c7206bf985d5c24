// Health customizations from ConfigMap tether-cm, on the real control plane: a custom resource the user
// described holds the next sync wave until it is ready, as in Argo CD. The Certificate CRD here is a
// minimal stand-in for cert-manager's (no controller: the test writes the status a controller would).
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ApiextensionsV1Api, CustomObjectsApi, PatchStrategy } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application } from "../../agent/api/types.ts";
import { startAgent, cli, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-health";
const { kubeconfigPath, kc, core, objects } = kube();
const reader = appReader(kc, NS);
const custom = kc.makeApiClient(CustomObjectsApi);

const CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "certificates.cert-manager.io" },
  spec: {
    group: "cert-manager.io",
    names: { kind: "Certificate", plural: "certificates", singular: "certificate", listKind: "CertificateList" },
    scope: "Namespaced",
    versions: [{
      name: "v1", served: true, storage: true, subresources: { status: {} },
      // Explicit fields, not x-kubernetes-preserve-unknown-fields: the client's typed serializer drops that
      // wire-named key, and the API server would then prune the status the test writes.
      schema: { openAPIV3Schema: { type: "object", properties: {
        spec: { type: "object", properties: {
          secretName: { type: "string" }, dnsNames: { type: "array", items: { type: "string" } },
          issuerRef: { type: "object", properties: { name: { type: "string" }, kind: { type: "string" } } },
        } },
        status: { type: "object", properties: { conditions: { type: "array", items: { type: "object", properties: {
          type: { type: "string" }, status: { type: "string" }, reason: { type: "string" }, message: { type: "string" },
        } } } } },
      } } },
    }],
  },
};

const certificate = (name: string) => `apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: ${name}
  annotations:
    argocd.argoproj.io/sync-wave: "0"
spec:
  secretName: ${name}
  dnsNames: [${name}.example.com]
  issuerRef: {name: letsencrypt, kind: ClusterIssuer}
`;

const nextWave = (name: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  annotations:
    argocd.argoproj.io/sync-wave: "1"
data:
  after: certificate
`;

/** A Lua check in Argo CD's form: Ready=True is Healthy, anything else is still being issued. */
const LUA = `local hs = {}
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" and c.status == "True" then
      hs.status = "Healthy"
      hs.message = "lua: " .. c.message
      return hs
    end
  end
end
hs.status = "Progressing"
hs.message = "lua: waiting for the certificate to be issued"
return hs
`;

/** The same as Flux's healthCheckExprs; the message comes from the Ready condition. */
const CEL = `current: status.?conditions.orValue([]).exists(c, c.type == 'Ready' && c.status == 'True')
failed: status.?conditions.orValue([]).exists(c, c.type == 'Ready' && c.status == 'False' && c.?reason.orValue('') == 'Failed')
`;

let repo: TestRepo;
let agent: AgentProcess;

async function setSettings(data: Record<string, string>): Promise<void> {
  const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "tether-cm", namespace: NS }, data };
  await objects.patch(cm, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
}

async function markReady(namespace: string, name: string): Promise<void> {
  const ref = { group: "cert-manager.io", version: "v1", namespace, plural: "certificates", name };
  const cert = await custom.getNamespacedCustomObject(ref) as Record<string, unknown>;
  const status = { conditions: [{ type: "Ready", status: "True", reason: "Ready", message: "Certificate is up to date and has not expired" }] };
  await custom.replaceNamespacedCustomObjectStatus({ ...ref, body: { ...cert, status } });
}

function certificateHealth(app: Application): { status?: string; message?: string } | undefined {
  return app.status?.resources?.find((r) => r.kind === "Certificate")?.health;
}

beforeAll(async () => {
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  await objects.patch(CRD, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
  const crds = kc.makeApiClient(ApiextensionsV1Api);
  await eventually("the Certificate CRD to be established", async () => {
    const crd = await crds.readCustomResourceDefinition({ name: CRD.metadata.name });
    return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ? true : undefined;
  });
  // A CRD just established answers 429 "storage is (re)initializing" for a moment: wait until it lists.
  await eventually("Certificates to be listable", async () => {
    await custom.listClusterCustomObject({ group: "cert-manager.io", version: "v1", plural: "certificates" });
    return true;
  });
  repo = await createRepo();
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
});

afterAll(async () => {
  await agent?.stop();
  writeFileSync(path.join(os.tmpdir(), `${NS}-agent.log`), agent?.logs() ?? "");
});

describe("a Certificate held Progressing stops the next sync wave until it is Ready", () => {
  it.each([
    ["a Lua check", "lua", { "resource.customizations.health.cert-manager.io_Certificate": LUA }, /^lua: waiting for the certificate to be issued$/,
      "lua: Certificate is up to date and has not expired"],
    // Before its controller writes a status, `status` does not exist: CEL waits on it, as Flux does.
    ["a CEL check", "cel", { "resource.customizations.healthCEL.cert-manager.io_Certificate": CEL }, /^Waiting for (a field that failed reads|current to hold)/,
      "Certificate is up to date and has not expired"],
  ])("through %s in tether-cm", async (...[, name, settings, waiting, healthy]) => {
    await setSettings(settings);
    const namespace = `e2e-health-${name}`;
    const rev = await repo.commit({ [`${name}/certificate.yaml`]: certificate("web-tls"), [`${name}/next.yaml`]: nextWave("after-certificate") });
    await applyApp(objects, application(`health-${name}`, {
      repoURL: repo.url, path: name, destNamespace: namespace, agentNamespace: NS,
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    }));

    // Wave 0 is applied and judged by the user's check; wave 1 waits for it.
    const held = await reader.until(`health-${name}`, "the Certificate judged Progressing by the custom check",
      (a) => waiting.test(certificateHealth(a)?.message ?? "") && certificateHealth(a)?.status === "Progressing", 90_000);
    expect(held.status?.operationState?.phase).toBe("Running");
    await new Promise((r) => setTimeout(r, 3000));
    await expect(core.readNamespacedConfigMap({ name: "after-certificate", namespace })).rejects.toMatchObject({ code: 404 });

    // The "controller" issues the certificate: the next wave goes on and the app becomes Healthy.
    await markReady(namespace, "web-tls");
    const done = await reader.until(`health-${name}`, "Synced and Healthy", syncedAndHealthy(rev), 90_000);
    expect(certificateHealth(done)).toEqual({ status: "Healthy", message: healthy });
    const cm = await core.readNamespacedConfigMap({ name: "after-certificate", namespace });
    expect(cm.data?.after).toBe("certificate");
  });
});
