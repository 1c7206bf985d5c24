import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { pathWithTools } from "../../test/harness/paths.ts";
import { CONFIGMAP_TEMPLATE, chartRepoDir, serveDir, startRegistry, writeChart, type ChartRepoDir, type Registry, type StaticServer } from "../../test/sources/chart-repos.ts";
import { createRepo, type TestRepo } from "../../test/support/git.ts";
import type { Application, ApplicationSource } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { GitSource } from "../source/git-source.ts";
import { helmRepoAccess } from "../source/helm-credentials.ts";
import { ChartFetcher } from "../source/helm-repo.ts";
import type { DependencyFetch } from "./chart-deps.ts";
import { renderChart } from "./chart.ts";
import { renderHelm } from "./helm.ts";
import { mergeObjects, renderSources, resolveSources, sourcesOf, type GitTrees, type SourcesRender } from "./sources.ts";
import type { RenderedObject } from "./types.ts";

/** helm and the registry are real processes: on two busy cores a pull can take several seconds. */
const HELM_TIMEOUT_MS = 60_000;

let work: string;
let repo: ChartRepoDir;
let server: StaticServer;
let registry: Registry;
let charts: DependencyFetch;
let oci: string;

beforeAll(async () => {
  process.env.PATH = pathWithTools();
  work = await mkdtemp(join(tmpdir(), "tether-chart-render-"));
  repo = await chartRepoDir();
  await repo.add({ name: "shop", version: "1.0.0" });
  await repo.add({ name: "shop", version: "1.1.0" });
  server = await serveDir(repo.dir);
  registry = await startRegistry();
  oci = `oci://${registry.host}/charts`;
  await registry.push({ name: "podinfo", version: "6.7.1", templates: { "cm.yaml": CONFIGMAP_TEMPLATE }, values: { greeting: "from oci" } }, "charts");
  const secrets = [{ metadata: { name: "registry", labels: { "argocd.argoproj.io/secret-type": "repository" } }, data: b64({ type: "helm", enableOCI: "true", url: oci, insecureOCIForceHttp: "true" }) }];
  charts = { charts: new ChartFetcher({ cacheDir: join(work, "cache"), access: (url) => Promise.resolve(helmRepoAccess(url, secrets)) }) };
}, 120_000);

afterAll(async () => {
  await server.close();
  await registry.stop();
  await repo.cleanup();
  await rm(work, { recursive: true, force: true });
});

function b64(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
}

async function failure(promise: Promise<unknown>): Promise<TetherError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  return err as TetherError;
}

function data(objects: readonly RenderedObject[], name: string): unknown {
  return objects.find((o) => o.manifest.metadata.name === name)?.manifest.data;
}

describe("a chart from a chart repository (seed 002's shape)", { timeout: HELM_TIMEOUT_MS }, () => {
  it("renders the chosen version with helm.valuesObject and reports the version as the revision", async () => {
    const { objects, version } = await renderChart({
      source: { repoURL: server.url, chart: "shop", targetRevision: "1.*", helm: { valuesObject: { greeting: "hi from valuesObject" } } },
      fetch: charts, releaseName: "argo-cd", namespace: "argocd",
    });
    expect(version).toBe("1.1.0");
    expect(data(objects, "argo-cd-shop")).toEqual({ greeting: "hi from valuesObject", version: "1.1.0" });
    expect(objects[0]?.file).toBe("shop/templates/configmap.yaml");
  });

  it("renders a chart from an OCI registry", async () => {
    const { objects, version } = await renderChart({ source: { repoURL: oci, chart: "podinfo", targetRevision: "6.7.1" }, fetch: charts, releaseName: "web" });
    expect(version).toBe("6.7.1");
    expect(data(objects, "web-podinfo")).toEqual({ greeting: "from oci", version: "6.7.1" });
  });

  it("refuses a chart repository the AppProject does not list, before fetching", async () => {
    const requests = server.requests.length;
    const err = await failure(renderChart({ source: { repoURL: server.url, chart: "shop", targetRevision: "1.0.0" }, fetch: { ...charts, allowRepo: () => false }, releaseName: "r" }));
    expect(err.reason).toBe("PolicyViolation");
    expect(err.message).toContain(`repository ${server.url} is not permitted by the AppProject's sourceRepos`);
    expect(server.requests.length).toBe(requests);
  });
});

describe("chart dependencies (helm dependency build)", { timeout: HELM_TIMEOUT_MS }, () => {
  async function umbrella(lock?: Record<string, string>): Promise<string> {
    const root = await mkdtemp(join(work, "checkout-"));
    await writeChart(join(root, "deploy"), {
      name: "umbrella", version: "0.1.0",
      dependencies: [{ name: "shop", version: "^1.0.0", repository: server.url }, { name: "podinfo", version: "6.x", repository: oci }],
    });
    if (lock) {
      await writeFile(join(root, "deploy/umbrella/Chart.lock"), stringify({ dependencies: Object.entries(lock).map(([name, version]) => ({ name, version, repository: name === "shop" ? server.url : oci })) }));
    }
    return root;
  }

  it("fetches every dependency from its repository, HTTP and OCI, and renders the subcharts", async () => {
    const root = await umbrella();
    const objects = await renderHelm({ root, path: "deploy/umbrella", releaseName: "all", dependencies: charts });
    expect(objects.map((o) => o.manifest.metadata.name).sort()).toEqual(["all-podinfo", "all-shop", "all-umbrella"]);
    expect(data(objects, "all-shop")).toMatchObject({ version: "1.1.0" });
  });

  it("takes the versions Chart.lock pins", async () => {
    const root = await umbrella({ shop: "1.0.0", podinfo: "6.7.1" });
    const objects = await renderHelm({ root, path: "deploy/umbrella", releaseName: "all", dependencies: charts });
    expect(data(objects, "all-shop")).toMatchObject({ version: "1.0.0" });
  });

  it("refuses a dependency repository the AppProject does not list", async () => {
    const root = await umbrella();
    const err = await failure(renderHelm({ root, path: "deploy/umbrella", releaseName: "all", dependencies: { ...charts, allowRepo: (url) => url === oci } }));
    expect(err).toMatchObject({ reason: "PolicyViolation", object: server.url });
    expect(err.message).toContain("deploy/umbrella/Chart.yaml: dependency shop");
  });

  it("without a fetcher, says to list the repository or vendor charts/", async () => {
    const root = await umbrella();
    const err = await failure(renderHelm({ root, path: "deploy/umbrella", releaseName: "all" }));
    expect(err.message).toContain("list the dependency's repository in Chart.yaml, or run `helm dependency build`");
  });
});

describe("multiple sources (spec.sources)", { timeout: HELM_TIMEOUT_MS }, () => {
  let git: TestRepo;
  let values: TestRepo;
  let source: GitSource;
  /** Every call the render makes to Git: a refused spec must make none. */
  let gitCalls = 0;
  const trees: GitTrees = {
    resolve: async (url, revision) => {
      gitCalls++;
      await source.fetch(url);
      return source.resolve(url, revision);
    },
    checkout: (url, commit) => {
      gitCalls++;
      return source.checkout(url, commit);
    },
  };

  beforeAll(async () => {
    git = await createRepo();
    values = await createRepo();
    source = new GitSource({ cacheDir: join(work, "git") });
    await git.commit({
      "charts/web/Chart.yaml": stringify({ apiVersion: "v2", name: "web", version: "0.1.0" }),
      "charts/web/values.yaml": stringify({ greeting: "chart default" }),
      "charts/web/templates/cm.yaml": CONFIGMAP_TEMPLATE,
    });
    await values.commit({ "envs/prod.yaml": stringify({ greeting: "prod from $values" }) });
  });

  afterAll(async () => {
    await git.cleanup();
    await values.cleanup();
  });

  function app(sources: ApplicationSource[]): Application {
    return { apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "shop", namespace: "tether-system" }, spec: { source: sources[0]!, sources, destination: { namespace: "shop" } } };
  }

  /** What the reconcile does: resolve every source, then render at those revisions. */
  async function render(spec: ApplicationSource[]): Promise<SourcesRender & { revisions: string[] }> {
    const a = app(spec);
    const sources = sourcesOf(a);
    const revisions = await resolveSources(sources, { git: trees, charts: charts.charts });
    const rendered = await renderSources({ app: a, sources, revisions, git: trees, charts, decryptionKeys: [], agentNamespace: "tether-system" });
    return { ...rendered, revisions };
  }

  it("renders a Git chart with $values from a ref source and an OCI chart into one app (seed 004's shape), one revision each", async () => {
    const sources: ApplicationSource[] = [
      { repoURL: git.url, targetRevision: "main", path: "charts/web", helm: { valueFiles: ["values.yaml", "$values/envs/prod.yaml"] } },
      { repoURL: oci, chart: "podinfo", targetRevision: "6.x" },
      { repoURL: values.url, targetRevision: "main", ref: "values" },
    ];
    const { objects, revisions, warnings } = await render(sources);
    expect(objects.map((o) => o.manifest.metadata.name)).toEqual(["shop-web", "shop-podinfo"]);
    expect(data(objects, "shop-web")).toMatchObject({ greeting: "prod from $values" });
    expect(revisions).toEqual([(await git.git.revparse(["HEAD"])).trim(), "6.7.1", (await values.git.revparse(["HEAD"])).trim()]);
    expect(warnings).toEqual([]);
  });

  it("refuses a $ref that names no source before checking anything out", async () => {
    const before = gitCalls;
    const err = await failure(render([
      { repoURL: git.url, path: "charts/web", helm: { valueFiles: ["$vals/envs/prod.yaml"] } },
      { repoURL: values.url, ref: "values" },
    ]));
    expect(err).toMatchObject({ reason: "RenderFailed", object: "spec.sources[0].helm.valueFiles" });
    expect(err.message).toBe("spec.sources[0].helm.valueFiles: $vals/envs/prod.yaml refers to no source with ref: vals (refs: $values); add ref: vals to the source that holds the file");
    expect(gitCalls).toBe(before);
  });

  it("names a $values file the ref source does not have", async () => {
    const err = await failure(render([
      { repoURL: git.url, path: "charts/web", helm: { valueFiles: ["$values/envs/staging.yaml"] } },
      { repoURL: values.url, ref: "values" },
    ]));
    expect(err.message).toContain("$values/envs/staging.yaml does not exist in the source with ref: values");
  });

  it("reports a broken $values file without the checkout's temporary path", async () => {
    await values.commit({ "envs/broken.yaml": "greeting: [unclosed\n" });
    const err = await failure(render([
      { repoURL: git.url, targetRevision: "main", path: "charts/web", helm: { valueFiles: ["$values/envs/broken.yaml"] } },
      { repoURL: values.url, targetRevision: "main", ref: "values" },
    ]));
    expect(err.message).toMatch(/^helm template charts\/web failed: .*envs\/broken\.yaml/s);
    expect(err.message).not.toContain(tmpdir());
  });

  it("takes argoproj.io Applications an app-of-apps source renders as Tether's, with warnings for what Tether lacks", async () => {
    await git.commit({ "apps/child.yaml": stringify({ apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: { name: "child", namespace: "argocd" }, spec: { project: "default", source: { repoURL: git.url, path: "x", plugin: { name: "p" } }, destination: { namespace: "x" } } }) });
    const { objects, warnings } = await render([{ repoURL: git.url, targetRevision: "main", path: "apps" }]);
    expect(objects[0]?.manifest).toMatchObject({ apiVersion: "tether.dev/v1alpha1", metadata: { name: "child", namespace: "tether-system" } });
    expect(warnings).toEqual(["Application/argocd/child: spec.source.plugin is not implemented by Tether; the field is ignored"]);
  });

  it("refuses one object rendered by two sources, naming both", () => {
    const cm = (file: string): RenderedObject => ({ manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "same", namespace: "a" } }, file, decrypted: false });
    expect(() => mergeObjects([[cm("a.yaml")], [], [cm("b.yaml")]])).toThrow("ConfigMap/a/same is rendered by spec.sources[0] and spec.sources[2]: an object may come from one source only; remove it from one of them");
  });
});
