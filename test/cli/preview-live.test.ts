// `tether preview --kubeconfig` and `tether app diff` against the real control plane: head compared with
// what runs, each app in its destination cluster resolved as the agent resolves it (in-cluster, or a
// cluster Secret written by `tether cluster add`), an unknown destination named, not guessed.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TetherClient } from "../../agent/api/client.ts";
import { kube } from "../support/kube.ts";
import { tether } from "./support.ts";

const NS = "tether-e2e-preview-live";
const { kubeconfigPath, kc, core, objects } = kube();

const appYaml = (name: string, destination: string, namespace: string) => `apiVersion: tether.dev/v1alpha1
kind: Application
metadata:
  name: ${name}
spec:
  project: default
  source:
    path: components/${name}
  destination:
    ${destination}
    namespace: ${namespace}
`;
const cmYaml = (name: string, message: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  MESSAGE: "${message}"\n`;

let dir: string;
let repoURL: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tether-preview-live-"));
  const files: Record<string, string> = {
    "components/web.yaml": appYaml("web", "server: https://kubernetes.default.svc", "pv-web"),
    "components/web/cm.yaml": cmYaml("greeting", "hello from head"),
    "components/far.yaml": appYaml("far", "name: far", "pv-far"),
    "components/far/cm.yaml": cmYaml("far-greeting", "hello far"),
    "components/ghost.yaml": appYaml("ghost", "name: nowhere", "pv-ghost"),
    "components/ghost/cm.yaml": cmYaml("boo", "boo"),
  };
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  const git = simpleGit(dir);
  await git.init(["--initial-branch=main"]);
  await git.addConfig("user.name", "t").addConfig("user.email", "t@t").addConfig("commit.gpgsign", "false");
  await git.add(".").commit("components");
  repoURL = `file://${dir}`;

  expect((await tether(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  // "far" is a cluster Secret (here the same API server, reached with the Secret's own token).
  const added = await tether(["cluster", "add", "far", "--kubeconfig", kubeconfigPath, "-n", NS]);
  expect(added.exitCode, added.stderr).toBe(0);
  // What runs: web's ConfigMap with another value, and one it applied before that Git no longer has.
  for (const ns of ["pv-web", "pv-far"]) await core.createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
  await core.createNamespacedConfigMap({ namespace: "pv-web", body: { metadata: { name: "greeting" }, data: { MESSAGE: "hello from the cluster" } } });
  await core.createNamespacedConfigMap({ namespace: "pv-web", body: { metadata: { name: "old" }, data: { A: "b" } } });
  for (const [name, destination, namespace] of [["web", { server: "https://kubernetes.default.svc" }, "pv-web"], ["far", { name: "far" }, "pv-far"]] as const) {
    await objects.create({
      apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name, namespace: NS },
      spec: { project: "default", source: { repoURL, path: `components/${name}`, targetRevision: "main" }, destination: { ...destination, namespace } },
    } as never);
  }
  await new TetherClient(kc, NS).writeStatus("web", { inventory: ["/v1/ConfigMap/pv-web/greeting", "/v1/ConfigMap/pv-web/old"] });
}, 180_000);

afterAll(async () => {
  for (const ns of ["pv-web", "pv-far"]) await core.deleteNamespace({ name: ns }).catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface LiveJson {
  live: { context: string; unchanged: number; apps: { name: string; destination: string; exists: boolean; objects: { object: string; change: string; diff: string }[]; errors: string[] }[] };
}

describe("tether preview --kubeconfig", () => {
  it("compares head with each app's destination cluster: changed, pruned, added, and an unknown cluster named", async () => {
    const r = await tether(["preview", "--repo", dir, "--base", "HEAD", "--head", "HEAD", "-n", NS, "--kubeconfig", kubeconfigPath, "-o", "json"]);
    expect(r.exitCode, r.stderr).toBe(1);
    const { live } = JSON.parse(r.stdout) as LiveJson;
    const app = (name: string) => live.apps.find((a) => a.name === name);
    const web = app("web");
    expect(web?.destination).toBe("in-cluster");
    expect(web?.objects.map((o) => [o.object, o.change])).toEqual([["ConfigMap/pv-web/greeting", "changed"], ["ConfigMap/pv-web/old", "removed"]]);
    expect(web?.objects[0]?.diff).toContain('-  MESSAGE: hello from the cluster\n+  MESSAGE: hello from head');
    // Resolved through cluster Secret "far", as the agent would: never the local cluster by default.
    expect(app("far")).toMatchObject({ destination: "far", exists: true, errors: [] });
    expect(app("far")?.objects.map((o) => [o.object, o.change])).toEqual([["ConfigMap/pv-far/far-greeting", "added"]]);
    expect(app("ghost")?.errors.join()).toMatch(/not compared with the cluster: destination cluster name "nowhere" is not configured/);
    // The root app is not in this cluster: its children ghost (and the Applications' specs) are new there.
    expect(app("root")?.exists).toBe(false);

    const text = await tether(["preview", "--repo", dir, "--base", "HEAD", "--head", "HEAD", "-n", NS, "--kubeconfig", kubeconfigPath]);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain("No changes between");
    expect(text.stdout).toMatch(/applications differ between the cluster \(context [^)]+\) and [0-9a-f]{7}:/);
    expect(text.stdout).toContain("~ Application far on far\n    + ConfigMap/pv-far/far-greeting");
  });

  it("without a kubeconfig stays a comparison of two commits, without a cluster", async () => {
    const r = await tether(["preview", "--repo", dir, "--base", "HEAD", "--head", "HEAD", "-o", "json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { live?: unknown }).live).toBeUndefined();
  });
});

describe("tether app diff", () => {
  it("diffs an app for another cluster against that cluster, and exits 0 once it matches", async () => {
    const before = await tether(["app", "diff", "far", "-n", NS, "--allow-local-repos"], { kubeconfig: kubeconfigPath });
    expect(before.exitCode, before.stderr).toBe(1);
    expect(before.stdout).toContain("+++ desired/ConfigMap/pv-far/far-greeting");
    // As the agent applies it there: with its tracking label and annotation.
    await core.createNamespacedConfigMap({ namespace: "pv-far", body: {
      metadata: { name: "far-greeting", labels: { "tether.dev/app": "far" }, annotations: { "tether.dev/tracking-id": `${NS}/far:/ConfigMap:pv-far/far-greeting` } },
      data: { MESSAGE: "hello far" },
    } });
    const after = await tether(["app", "diff", "far", "-n", NS, "--allow-local-repos"], { kubeconfig: kubeconfigPath });
    expect(after.exitCode, `${after.stdout}\n${after.stderr}`).toBe(0);
    expect(after.stdout).toBe("");
  });

  it("names a destination cluster that is not configured", async () => {
    await objects.create({
      apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "ghost", namespace: NS },
      spec: { project: "default", source: { repoURL, path: "components/ghost", targetRevision: "main" }, destination: { name: "nowhere", namespace: "pv-ghost" } },
    } as never);
    const r = await tether(["app", "diff", "ghost", "-n", NS, "--allow-local-repos"], { kubeconfig: kubeconfigPath });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('destination cluster name "nowhere" is not configured');
  });
});
