// Repositories as people have them, through the real agent: charts from a Helm chart repository
// (`helm package` + `helm repo index`, served from 127.0.0.1) and from the distribution registry
// (`helm push`), multiple sources with `ref: values`, chart dependencies behind credentials, and an
// Argo CD app-of-apps chart whose `argoproj.io` Applications deploy. Every bad input gives a
// condition naming it and leaves what runs as it was.
import { writeFile, readFile } from "node:fs/promises";
import path from "node:path";
import { PatchStrategy } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application, ApplicationSource } from "../../agent/api/types.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { applyApp, appReader, hasCondition, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { kube } from "../support/kube.ts";
import {
  chartRepoDir, freePort, serveDir, startRegistry, writeChart,
  type ChartRepoDir, type Registry, type StaticServer,
} from "../sources/chart-repos.ts";

const NS = "tether-e2e-repos";
const DEST = "e2e-repos";
const { kubeconfigPath, kc, core, objects } = kube();
const reader = appReader(kc, NS);
const automated = { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] };
const AUTH = { username: "charts", password: "pw-5c1e9a7d-not-in-status" };

let repo: TestRepo;
let agent: AgentProcess;
let charts: ChartRepoDir;
let http: StaticServer;
let privateCharts: ChartRepoDir;
let privateHttp: StaticServer;
let registry: Registry;

/** An Application with `sources` (several) or `source` (one). */
function app(name: string, sources: readonly ApplicationSource[], dest = DEST): Application {
  return {
    apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name, namespace: NS },
    spec: {
      project: "default", ...(sources.length === 1 ? { source: sources[0]! } : { sources: [...sources] }),
      destination: { server: "https://kubernetes.default.svc", namespace: dest }, syncPolicy: automated,
    },
  };
}

async function configMapData(name: string, namespace = DEST): Promise<Record<string, string> | undefined> {
  return (await core.readNamespacedConfigMap({ name, namespace }).catch(() => undefined))?.data;
}

/** A repository Secret as Argo CD users write them. */
async function repositorySecret(name: string, data: Record<string, string>): Promise<void> {
  await core.createNamespacedSecret({
    namespace: NS,
    body: { metadata: { name, labels: { "argocd.argoproj.io/secret-type": "repository" } }, stringData: { type: "helm", ...data } },
  });
}

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  repo = await createRepo();
  charts = await chartRepoDir();
  for (const version of ["1.0.0", "1.1.0", "2.0.0"]) await charts.add({ name: "greeter", version });
  http = await serveDir(charts.dir);
  privateCharts = await chartRepoDir();
  await privateCharts.add({ name: "backend", version: "0.2.0", values: { greeting: "from-a-private-dependency" } });
  privateHttp = await serveDir(privateCharts.dir, AUTH);
  registry = await startRegistry();
  await registry.push({ name: "web", version: "0.3.0", values: { greeting: "from-oci" } }, "charts");
  await repositorySecret("private-charts", { url: privateHttp.url, ...AUTH });
  await repositorySecret("local-registry", { url: `${registry.host}/charts`, enableOCI: "true", insecureOCIForceHttp: "true" });
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
}, 240_000);

afterAll(async () => {
  await agent?.stop();
  await http?.close();
  await privateHttp?.close();
  await registry?.stop();
  await charts?.cleanup();
  await privateCharts?.cleanup();
  await repo?.cleanup();
});

describe("charts from a Helm chart repository (seed 002's shape)", () => {
  it("installs an exact version with helm.valuesObject and records it as the revision", async () => {
    await applyApp(objects, app("greeter-exact", [{ repoURL: http.url, chart: "greeter", targetRevision: "1.1.0", helm: { valuesObject: { greeting: "from-values-object" } } }]));
    const done = await reader.until("greeter-exact", "Synced and Healthy at 1.1.0", syncedAndHealthy("1.1.0"), 90_000);
    expect(await configMapData("greeter-exact-greeter")).toEqual({ greeting: "from-values-object", version: "1.1.0" });
    expect(done.status?.history?.at(-1)).toMatchObject({ revision: "1.1.0", source: { repoURL: http.url, chart: "greeter" } });
  });

  it("resolves a semver constraint to the newest matching release", async () => {
    await applyApp(objects, app("greeter-range", [{ repoURL: http.url, chart: "greeter", targetRevision: "^1.0.0" }]));
    await reader.until("greeter-range", "Synced at 1.1.0", syncedAndHealthy("1.1.0"), 90_000);
    expect(await configMapData("greeter-range-greeter")).toEqual({ greeting: "hello", version: "1.1.0" });
  });
});

describe("multiple sources", () => {
  it("deploys a Git path and an OCI chart in one app (seed 004's shape), one revision per source", async () => {
    const sha = await repo.commit({ "plain/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-git\ndata:\n  from: git\n" });
    const sources = [{ repoURL: repo.url, path: "plain", targetRevision: "main" }, { repoURL: `oci://${registry.host}/charts`, chart: "web", targetRevision: "0.3.0" }];
    await applyApp(objects, app("git-and-oci", sources));
    const done = await reader.until("git-and-oci", "Synced with both revisions", (a) => syncedAndHealthy()(a) && a.status?.sync?.revisions?.join() === `${sha},0.3.0`, 90_000);
    expect(await configMapData("from-git")).toEqual({ from: "git" });
    expect(await configMapData("git-and-oci-web")).toEqual({ greeting: "from-oci", version: "0.3.0" });
    expect(done.status?.history?.at(-1)).toMatchObject({ revisions: [sha, "0.3.0"], sources: [{ path: "plain" }, { chart: "web" }] });
  });

  it("takes a chart's value files from another source's checkout with ref: values and $values/…", async () => {
    await repo.commit({ "envs/prod/values.yaml": "greeting: from-the-values-repository\n" });
    await applyApp(objects, app("ref-values", [
      { repoURL: http.url, chart: "greeter", targetRevision: "2.0.0", helm: { valueFiles: ["$values/envs/prod/values.yaml"] } },
      { repoURL: repo.url, targetRevision: "main", ref: "values" },
    ]));
    await reader.until("ref-values", "Synced", syncedAndHealthy(), 90_000);
    expect(await configMapData("ref-values-greeter")).toEqual({ greeting: "from-the-values-repository", version: "2.0.0" });
  });

  it("builds a chart's dependencies from a repository that needs the credentials of a repository Secret", async () => {
    await writeChart(repo.work, { name: "umbrella", version: "1.0.0", dependencies: [{ name: "backend", version: "0.2.x", repository: privateHttp.url }] });
    await repo.commit({}, "umbrella chart");
    await applyApp(objects, app("umbrella", [{ repoURL: repo.url, path: "umbrella", targetRevision: "main" }]));
    const done = await reader.until("umbrella", "Synced", syncedAndHealthy(), 90_000);
    expect(await configMapData("umbrella-backend")).toEqual({ greeting: "from-a-private-dependency", version: "0.2.0" });
    expect(await configMapData("umbrella-umbrella")).toEqual({ greeting: "hello", version: "1.0.0" });
    expect(JSON.stringify(done.status)).not.toContain(AUTH.password);
  });
});

describe("Argo CD manifests unchanged", () => {
  const appsTemplate = `{{- range .Values.apps }}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {{ .name }}
  namespace: argocd
  finalizers:
    - resources-finalizer.argocd.argoproj.io
spec:
  project: default
  source:
    repoURL: {{ $.Values.repoURL }}
    targetRevision: main
    path: {{ .path }}
    {{- if .plugin }}
    plugin:
      name: {{ .plugin }}
    {{- end }}
  destination:
    server: https://kubernetes.default.svc
    namespace: ${DEST}
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
{{- end }}
`;

  it("deploys the children of an app-of-apps chart rendering argoproj.io Applications, and names what it ignores", async () => {
    await repo.commit({
      "argo/apps/Chart.yaml": "apiVersion: v2\nname: apps\nversion: 0.1.0\n",
      "argo/apps/values.yaml": "apps:\n  - {name: argo-child-a, path: argo/children/a}\n  - {name: argo-child-b, path: argo/children/b, plugin: cmp}\n",
      "argo/apps/templates/apps.yaml": appsTemplate,
      "argo/children/a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: child-a\ndata:\n  child: a\n",
      "argo/children/b/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: child-b\ndata:\n  child: b\n",
    });
    await applyApp(objects, app("argo-root", [{ repoURL: repo.url, path: "argo/apps", targetRevision: "main", helm: { valuesObject: { repoURL: repo.url } } }], NS));
    const root = await reader.until("argo-root", "the UnsupportedField condition", hasCondition("UnsupportedField"), 90_000);
    expect(root.status?.conditions?.find((c) => c.type === "UnsupportedField")?.message).toContain("Application/argocd/argo-child-b: spec.source.plugin is not implemented by Tether");
    const child = await reader.until("argo-child-a", "Synced and Healthy", syncedAndHealthy(), 90_000);
    expect(child.metadata?.finalizers).toEqual(["tether.dev/resources-finalizer"]);
    expect(await configMapData("child-a")).toEqual({ child: "a" });
    await reader.until("argo-child-b", "Synced", syncedAndHealthy(), 90_000);
    expect(await configMapData("child-b")).toEqual({ child: "b" });
  });
});

describe("bad input changes nothing", () => {
  const NAME = "guarded";
  const good = (): ApplicationSource => ({ repoURL: http.url, chart: "greeter", targetRevision: "1.0.0" });

  beforeAll(async () => {
    await applyApp(objects, app(NAME, [good()]));
    await reader.until(NAME, "Synced at 1.0.0", syncedAndHealthy("1.0.0"), 90_000);
  }, 120_000);

  /** Applies `sources`, waits for the condition and checks that the deployed ConfigMap is untouched. */
  async function refused(sources: readonly ApplicationSource[], type: string, message: RegExp | string): Promise<void> {
    const before = await configMapData(`${NAME}-greeter`);
    await applyApp(objects, app(NAME, sources));
    const seen = await reader.until(NAME, `${type} condition`, (a) => (a.status?.conditions ?? []).some((c) => c.type === type && (typeof message === "string" ? c.message.includes(message) : message.test(c.message))), 90_000);
    expect(seen.status?.sync?.status).toBe("Unknown");
    expect(await configMapData(`${NAME}-greeter`)).toEqual(before);
    expect(before).toEqual({ greeting: "hello", version: "1.0.0" });
  }

  it("an unknown chart", async () => {
    await refused([{ repoURL: http.url, chart: "nope", targetRevision: "1.0.0" }], "SourceFailed", `chart 'nope' is not in ${http.url}`);
  });

  it("an unknown version", async () => {
    await refused([{ repoURL: http.url, chart: "greeter", targetRevision: "9.9.9" }], "SourceFailed", /no version of chart greeter in .* matches '9\.9\.9' \(available: .*2\.0\.0/);
  });

  it("a registry that is down", async () => {
    const down = `oci://127.0.0.1:${await freePort()}/charts`;
    await refused([{ repoURL: down, chart: "web", targetRevision: "0.3.0" }], "SourceFailed", /cannot reach the registry of oci:\/\/127\.0\.0\.1:\d+\/charts\/web/);
  });

  it("an archive that does not match the index digest", async () => {
    await charts.add({ name: "greeter", version: "1.2.0" });
    // Replaced after indexing: what a tampering mirror or a re-pushed chart looks like.
    await writeFile(path.join(charts.dir, "greeter-1.2.0.tgz"), await readFile(path.join(charts.dir, "greeter-1.0.0.tgz")));
    await refused([{ repoURL: http.url, chart: "greeter", targetRevision: "1.2.0" }], "SourceFailed", "does not match the index digest");
  });

  it("a $values file that names no source", async () => {
    await refused([
      { repoURL: http.url, chart: "greeter", targetRevision: "1.0.0", helm: { valueFiles: ["$vals/envs/prod/values.yaml"] } },
      { repoURL: repo.url, targetRevision: "main", ref: "values" },
    ], "RenderFailed", "$vals/envs/prod/values.yaml refers to no source with ref: vals");
  });

  it("a chart repository the project's sourceRepos does not list", async () => {
    await objects.patch({
      apiVersion: "tether.dev/v1alpha1", kind: "AppProject", metadata: { name: "git-only", namespace: NS },
      spec: { sourceRepos: [repo.url], destinations: [{ server: "*", namespace: "*" }] },
    }, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
    const withProject = app(NAME, [good()]);
    const before = await configMapData(`${NAME}-greeter`);
    await applyApp(objects, { ...withProject, spec: { ...withProject.spec, project: "git-only" } });
    const seen = await reader.until(NAME, "PolicyViolation", hasCondition("PolicyViolation"), 90_000);
    expect(seen.status?.conditions?.find((c) => c.type === "PolicyViolation")?.message).toContain(`chart repository (chart greeter) ${http.url} is not permitted in project git-only`);
    expect(await configMapData(`${NAME}-greeter`)).toEqual(before);
  });

  it("neither source nor sources", async () => {
    const none = app(NAME, [good()]);
    delete none.spec.source;
    await applyApp(objects, { ...none, spec: { ...none.spec, project: "default" } });
    const seen = await reader.until(NAME, "InvalidSpecError", hasCondition("InvalidSpecError"), 90_000);
    expect(seen.status?.conditions?.find((c) => c.type === "InvalidSpecError")?.message).toContain("has neither spec.source nor spec.sources");
    expect(await configMapData(`${NAME}-greeter`)).toEqual({ greeting: "hello", version: "1.0.0" });
  });
});
