// Each generator kind through a set on the real control plane: git directories and files (and a
// repository that becomes unreachable: nothing deleted, a condition), clusters (cluster Secrets made by
// `tether cluster add`), matrix, merge and plugin (a real HTTP plugin reached through a ConfigMap and
// a Secret of the agent namespace).
import { writeFileSync } from "node:fs";
import { rename } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application, ApplicationSet } from "../../agent/api/types.ts";
import { startAgent, cli, type AgentProcess } from "../support/agent.ts";
import { appReader, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-appset-gen";
const { kubeconfigPath, kc, core, objects } = kube();
const custom = kc.makeApiClient(CustomObjectsApi);
const reader = appReader(kc, NS);

let repo: TestRepo;
let agent: AgentProcess;
let plugin: http.Server;
let pluginCalls: { auth: string | undefined; body: unknown }[] = [];

const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n`;

beforeAll(async () => {
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  const added = await cli(["cluster", "add", "staging", "--kubeconfig", kubeconfigPath, "-n", NS], { kubeconfig: kubeconfigPath });
  expect(added.exitCode, added.stderr).toBe(0);
  const secrets = await core.listNamespacedSecret({ namespace: NS, labelSelector: "tether.dev/secret-type=cluster" });
  for (const s of secrets.items) {
    await core.patchNamespacedSecret({ name: s.metadata?.name ?? "", namespace: NS, body: { metadata: { labels: { env: "staging" } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
  }
  repo = await createRepo();
  await repo.commit({
    "apps/alpha/cm.yaml": configMap("alpha"), "apps/beta/cm.yaml": configMap("beta"), "apps/skip/cm.yaml": configMap("skip"),
    "config/dev/config.json": JSON.stringify({ app: { name: "files-dev" }, ns: "e2e-gen-files-dev" }),
    "config/prod/config.yaml": "app:\n  name: files-prod\nns: e2e-gen-files-prod\n",
  });
  plugin = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => { body += c.toString(); });
    req.on("end", () => {
      pluginCalls.push({ auth: req.headers.authorization, body: JSON.parse(body) as unknown });
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ output: { parameters: [{ stage: "plug-a" }, { stage: "plug-b" }] } }));
    });
  });
  await new Promise<void>((resolve) => plugin.listen(0, "127.0.0.1", resolve));
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "3s" });
});

afterAll(async () => {
  await agent?.stop();
  writeFileSync(path.join(os.tmpdir(), `${NS}-agent.log`), agent?.logs() ?? "");
  plugin?.close();
  await repo?.cleanup();
});

const ref = (name: string) => ({ group: "tether.dev", version: "v1alpha1", namespace: NS, plural: "applicationsets", name });
const getSet = async (name: string) => await custom.getNamespacedCustomObject(ref(name)) as ApplicationSet;
const applySet = (set: ApplicationSet) => objects.patch(set, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
const refresh = (name: string) => objects.patch({ apiVersion: "tether.dev/v1alpha1", kind: "ApplicationSet", metadata: { name, namespace: NS,
  annotations: { "argocd.argoproj.io/application-set-refresh": "true" } } }, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
const appNames = async (prefix: string) => ((await custom.listNamespacedCustomObject({ group: "tether.dev", version: "v1alpha1", namespace: NS,
  plural: "applications" })) as { items: Application[] }).items.map((a) => a.metadata?.name ?? "").filter((n) => n.startsWith(prefix)).sort();
const condition = (set: ApplicationSet, type: string) => set.status?.conditions?.find((c) => c.type === type);

async function setUntil(name: string, what: string, check: (s: ApplicationSet) => boolean): Promise<ApplicationSet> {
  let last: ApplicationSet | undefined;
  try {
    return await eventually(`ApplicationSet ${name}: ${what}`, async () => {
      last = await getSet(name);
      return check(last) ? last : undefined;
    }, 60_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast status: ${JSON.stringify(last?.status, null, 1)}`);
  }
}

/** A Go-template set whose Applications deploy `path` of the test repository to namespace `ns`. */
function set(name: string, generators: Record<string, unknown>[], o: { name: string; path: string; ns: string; server?: string }): ApplicationSet {
  return {
    apiVersion: "tether.dev/v1alpha1", kind: "ApplicationSet", metadata: { name, namespace: NS },
    spec: {
      goTemplate: true, goTemplateOptions: ["missingkey=error"], generators,
      template: { metadata: { name: o.name }, spec: {
        project: "default", source: { repoURL: repo.url, targetRevision: "main", path: o.path },
        destination: { server: o.server ?? "https://kubernetes.default.svc", namespace: o.ns },
        syncPolicy: { automated: { prune: true }, syncOptions: ["CreateNamespace=true"] } } },
    },
  };
}

describe("the git generator", () => {
  it("makes one Application per directory, and with the repository unreachable deletes nothing and names the generator", async () => {
    await applySet(set("dirs", [{ git: { repoURL: repo.url, revision: "main", directories: [{ path: "apps/*" }, { path: "apps/skip", exclude: true }] } }],
      { name: "dirs-{{.path.basename}}", path: "{{.path.path}}", ns: "e2e-gen-dirs" }));
    for (const app of ["dirs-alpha", "dirs-beta"]) await reader.until(app, "Synced and Healthy", syncedAndHealthy(), 90_000);
    expect(await appNames("dirs-")).toEqual(["dirs-alpha", "dirs-beta"]);

    const bare = repo.url.replace("file://", "");
    await rename(bare, `${bare}.moved`);
    try {
      await refresh("dirs");
      const failed = await setUntil("dirs", "ErrorOccurred", (s) => condition(s, "ErrorOccurred")?.status === "True");
      expect(condition(failed, "ErrorOccurred")?.message).toMatch(/^generators\[0\]\.git/);
      await new Promise((r) => setTimeout(r, 4000));
      expect(await appNames("dirs-")).toEqual(["dirs-alpha", "dirs-beta"]);
    } finally {
      await rename(`${bare}.moved`, bare);
    }
    await refresh("dirs");
    await setUntil("dirs", "up to date again", (s) => condition(s, "ResourcesUpToDate")?.status === "True");
  });

  it("makes one Application per JSON or YAML file, nested keys as parameters", async () => {
    await applySet(set("files", [{ git: { repoURL: repo.url, revision: "main", files: [{ path: "config/**/config.*" }] } }],
      { name: "{{.app.name}}", path: "apps/alpha", ns: "{{.ns}}" }));
    for (const app of ["files-dev", "files-prod"]) await reader.until(app, "Synced and Healthy", syncedAndHealthy(), 90_000);
    expect((await reader.get("files-prod")).spec.destination.namespace).toBe("e2e-gen-files-prod");
  });
});

describe("the clusters generator", () => {
  it("makes one Application per cluster Secret its selector matches, deploying there", async () => {
    await applySet(set("clusters", [{ clusters: { selector: { matchLabels: { env: "staging" } } } }],
      { name: "clusters-{{.name}}", path: "apps/beta", ns: "e2e-gen-clusters", server: "{{.server}}" }));
    const app = await reader.until("clusters-staging", "Synced and Healthy", syncedAndHealthy(), 90_000);
    expect(app.spec.destination.server).not.toBe("https://kubernetes.default.svc");
    expect(await appNames("clusters-")).toEqual(["clusters-staging"]);
  });
});

describe("matrix and merge", () => {
  it("matrix: every directory crossed with every stage", async () => {
    await applySet(set("matrix", [{ matrix: { generators: [
      { git: { repoURL: repo.url, revision: "main", directories: [{ path: "apps/alpha" }, { path: "apps/beta" }] } },
      { list: { elements: [{ stage: "dev" }, { stage: "prod" }] } }] } }],
    { name: "mx-{{.path.basename}}-{{.stage}}", path: "{{.path.path}}", ns: "e2e-gen-mx-{{.stage}}" }));
    await eventually("four Applications", async () => ((await appNames("mx-")).length === 4 ? true : undefined), 60_000);
    expect(await appNames("mx-")).toEqual(["mx-alpha-dev", "mx-alpha-prod", "mx-beta-dev", "mx-beta-prod"]);
    await reader.until("mx-beta-prod", "Synced and Healthy", syncedAndHealthy(), 90_000);
  });

  it("merge: the second generator's values override the first's by mergeKeys", async () => {
    await applySet(set("merge", [{ merge: { mergeKeys: ["stage"], generators: [
      { list: { elements: [{ stage: "dev", path: "apps/alpha" }, { stage: "prod", path: "apps/alpha" }] } },
      { list: { elements: [{ stage: "prod", path: "apps/beta" }] } }] } }],
    { name: "mg-{{.stage}}", path: "{{.path}}", ns: "e2e-gen-mg-{{.stage}}" }));
    await reader.until("mg-prod", "Synced and Healthy", syncedAndHealthy(), 90_000);
    expect((await reader.get("mg-prod")).spec.source?.path).toBe("apps/beta");
    expect((await reader.get("mg-dev")).spec.source?.path).toBe("apps/alpha");
  });
});

describe("the plugin generator", () => {
  it("asks the plugin named by a ConfigMap, with the token from a Secret, and makes its Applications", async () => {
    pluginCalls = [];
    const address = plugin.address() as { port: number };
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "plugin-token", labels: { "app.kubernetes.io/part-of": "tether" } },
      stringData: { token: "s3cret" } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "stages-plugin" },
      data: { baseUrl: `http://127.0.0.1:${address.port}`, token: "$plugin-token:token" } } });
    await applySet(set("plugin", [{ plugin: { configMapRef: { name: "stages-plugin" }, input: { parameters: { team: "web" } } } }],
      { name: "{{.stage}}", path: "apps/alpha", ns: "e2e-gen-{{.stage}}" }));
    for (const app of ["plug-a", "plug-b"]) await reader.until(app, "Synced and Healthy", syncedAndHealthy(), 90_000);
    expect(pluginCalls[0]).toEqual({ auth: "Bearer s3cret", body: { applicationSetName: "plugin", input: { parameters: { team: "web" } } } });
  });
});
