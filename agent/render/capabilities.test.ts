// Helm's `.Capabilities` as Argo CD sets them: the destination's version and APIs, or the source's
// `helm.kubeVersion` / `helm.apiVersions`, through the real `helm template`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathWithTools } from "../../test/harness/paths.ts";
import { apiVersionStrings, CapabilitiesCache, CAPABILITIES_TTL_MS } from "../apply/discovery.ts";
import { TetherError } from "../errors.ts";
import { capabilityArgs, renderHelm, semverOf } from "./helm.ts";
import { emptyCheckout, writeTree } from "./testdata/checkout.ts";
import type { Capabilities } from "./types.ts";

const cleanups: (() => Promise<void>)[] = [];
beforeAll(() => {
  process.env.PATH = pathWithTools();
});
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/** A chart as charts that support two Kubernetes generations are written. */
const chart = {
  "chart/Chart.yaml": "apiVersion: v2\nname: caps\nversion: 0.1.0\n",
  "chart/templates/pdb.yaml": `{{- if .Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget" }}
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
  "chart/templates/monitor.yaml": `{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor" }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: web
spec:
  selector: {}
{{- end }}
`,
  "chart/templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: caps
data:
  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
  ingress: {{ if semverCompare ">=1.19-0" .Capabilities.KubeVersion.GitVersion }}networking.k8s.io/v1{{ else }}extensions/v1beta1{{ end }}
`,
};

async function render(capabilities?: Capabilities, helm: { kubeVersion?: string; apiVersions?: string[] } = {}) {
  const { root, cleanup } = await emptyCheckout();
  cleanups.push(cleanup);
  await writeTree(root, chart);
  const objects = await renderHelm({ root, path: "chart", releaseName: "caps", namespace: "web", helm, ...(capabilities ? { capabilities } : {}) });
  const byKind = (kind: string) => objects.find((o) => o.manifest.kind === kind)?.manifest;
  return { objects, byKind, data: (byKind("ConfigMap")?.data ?? {}) as Record<string, string> };
}

const oldCluster: Capabilities = { kubeVersion: "v1.18.20+k3s1", apiVersions: ["policy/v1beta1", "policy/v1beta1/PodDisruptionBudget", "v1", "v1/ConfigMap"] };
const newCluster: Capabilities = {
  kubeVersion: "v1.37.2",
  apiVersions: ["monitoring.coreos.com/v1", "monitoring.coreos.com/v1/ServiceMonitor", "policy/v1", "policy/v1/PodDisruptionBudget", "v1", "v1/ConfigMap"],
};

describe("a chart that branches on .Capabilities renders for its destination", () => {
  it("renders policy/v1beta1 and extensions for an old cluster, and its version", async () => {
    const { byKind, data } = await render(oldCluster);
    expect(byKind("PodDisruptionBudget")?.apiVersion).toBe("policy/v1beta1");
    expect(byKind("ServiceMonitor")).toBeUndefined();
    expect(data).toEqual({ kubeVersion: "v1.18.20", ingress: "extensions/v1beta1" });
  });

  it("renders policy/v1 and the ServiceMonitor its CRD makes available on a new cluster", async () => {
    const { byKind, data } = await render(newCluster);
    expect(byKind("PodDisruptionBudget")?.apiVersion).toBe("policy/v1");
    expect(byKind("ServiceMonitor")?.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(data).toEqual({ kubeVersion: "v1.37.2", ingress: "networking.k8s.io/v1" });
  });

  it("takes spec.source.helm.kubeVersion and apiVersions over the destination's, as Argo CD", async () => {
    const { byKind, data } = await render(newCluster, { kubeVersion: "1.18", apiVersions: ["policy/v1beta1/PodDisruptionBudget"] });
    expect(byKind("PodDisruptionBudget")?.apiVersion).toBe("policy/v1beta1");
    expect(byKind("ServiceMonitor")).toBeUndefined();
    expect(data.kubeVersion).toBe("v1.18.0");
  });

  it("renders with Helm's defaults when there is no cluster (tether preview)", async () => {
    const { byKind } = await render();
    expect(byKind("ServiceMonitor")).toBeUndefined();
  });
});

describe("capabilityArgs", () => {
  it.each([
    ["the destination's version and APIs", {}, newCluster, ["--kube-version=1.37.2", ...newCluster.apiVersions.map((v) => `--api-versions=${v}`)]],
    ["the source's kubeVersion over the destination's", { kubeVersion: "v1.29.1" }, { kubeVersion: "v1.37.2", apiVersions: [] }, ["--kube-version=1.29.1"]],
    ["the source's apiVersions over the destination's", { apiVersions: ["a/v1"] }, newCluster, ["--kube-version=1.37.2", "--api-versions=a/v1"]],
    ["an empty apiVersions list as unset", { apiVersions: [] }, { kubeVersion: "", apiVersions: ["v1"] }, ["--api-versions=v1"]],
    ["nothing without a cluster or overrides", {}, undefined, []],
  ] as const)("passes %s", (_what, helm, caps, want) => {
    expect(capabilityArgs(helm as { kubeVersion?: string; apiVersions?: string[] }, caps)).toEqual(want);
  });
});

describe("semverOf", () => {
  it.each([["v1.30.4+k3s1", "1.30.4"], ["1.29", "1.29.0"], ["v1.37.2-gke.100", "1.37.2"], [" 1.2.3", "1.2.3"]])("reads %s as %s", (v, want) => {
    expect(semverOf(v, "f")).toBe(want);
  });
  it("refuses what is no version, naming the field", () => {
    expect(() => semverOf("latest", "spec.source.helm.kubeVersion")).toThrow(TetherError);
    expect(() => semverOf("latest", "spec.source.helm.kubeVersion")).toThrow(/spec.source.helm.kubeVersion: "latest" is not a Kubernetes version/);
  });
});

describe("apiVersionStrings", () => {
  it("lists each group/version and group/version/Kind once, sorted, as Argo CD", () => {
    expect(apiVersionStrings([
      { groupVersion: "v1", kinds: ["Pod", "ConfigMap"] }, { groupVersion: "apps/v1", kinds: ["Deployment"] }, { groupVersion: "v1", kinds: ["Pod"] },
    ])).toEqual(["apps/v1", "apps/v1/Deployment", "v1", "v1/ConfigMap", "v1/Pod"]);
  });
});

describe("CapabilitiesCache", () => {
  it("reads once per TTL, and again after a failed read", async () => {
    let now = 0;
    let reads = 0;
    let fail = true;
    const cache = new CapabilitiesCache(() => {
      reads++;
      return fail ? Promise.reject(new Error("down")) : Promise.resolve({ kubeVersion: `v1.${reads}.0`, apiVersions: [] });
    }, () => now);
    await expect(cache.get()).rejects.toThrow("down");
    fail = false;
    expect((await cache.get()).kubeVersion).toBe("v1.2.0");
    now += CAPABILITIES_TTL_MS - 1;
    expect((await cache.get()).kubeVersion).toBe("v1.2.0");
    now += 1;
    expect((await cache.get()).kubeVersion).toBe("v1.3.0");
    expect(reads).toBe(3);
  });
});
