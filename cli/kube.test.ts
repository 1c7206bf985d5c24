import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "./errors.ts";
import { explainKubeError, loadKubeConfig, loadKubernetesClient } from "./kube.ts";

const kubeconfig = (name: string, server: string, current = true) => `apiVersion: v1
kind: Config
clusters: [{name: ${name}, cluster: {server: "${server}"}}]
users: [{name: ${name}, user: {token: t}}]
contexts: [{name: ${name}, context: {cluster: ${name}, user: ${name}}}]
${current ? `current-context: ${name}` : ""}
`;

let dir: string;
let a: string;
let b: string;
const saved = process.env.KUBECONFIG;

beforeAll(async () => {
  await loadKubernetesClient();
  dir = await mkdtemp(path.join(os.tmpdir(), "tether-kube-"));
  a = path.join(dir, "a");
  b = path.join(dir, "b");
  await writeFile(a, kubeconfig("alpha", "https://127.0.0.1:1"));
  await writeFile(b, kubeconfig("beta", "https://127.0.0.1:2", false));
});

afterAll(async () => {
  process.env.KUBECONFIG = saved;
  await rm(dir, { recursive: true, force: true });
});

describe("which cluster the CLI talks to", () => {
  it("merges every file of KUBECONFIG=a:b, the first current-context winning", () => {
    process.env.KUBECONFIG = `${a}${path.delimiter}${b}`;
    const kc = loadKubeConfig({});
    expect(kc.getCurrentCluster()?.server).toBe("https://127.0.0.1:1");
    expect(loadKubeConfig({ context: "beta" }).getCurrentCluster()?.server).toBe("https://127.0.0.1:2");
  });

  it("names the known contexts for --context nope", () => {
    process.env.KUBECONFIG = `${a}${path.delimiter}${b}`;
    expect(() => loadKubeConfig({ context: "nope" })).toThrow("--context nope: no such context in the kubeconfig (known: alpha, beta)");
  });

  it("a missing --kubeconfig is a usage error naming it", () => {
    expect(() => loadKubeConfig({ kubeconfig: path.join(dir, "nope") })).toThrow(UsageError);
  });

  it("an unreachable server names it and the next step", () => {
    process.env.KUBECONFIG = a;
    const err = explainKubeError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }), loadKubeConfig({}));
    expect((err as Error).message).toMatch(/^cannot reach the Kubernetes API server at https:\/\/127.0.0.1:1 \(ECONNREFUSED\)/);
  });

  it("a 404 page for the tether.dev API says to run tether install", () => {
    process.env.KUBECONFIG = a;
    const err = explainKubeError({ code: 404, body: "404 page not found\n" }, loadKubeConfig({}));
    expect((err as Error).message).toContain("has no Tether API (tether.dev/v1alpha1): run `tether install`");
    const missingObject = { code: 404, body: JSON.stringify({ kind: "Status", reason: "NotFound", details: { name: "x" } }) };
    expect(explainKubeError(missingObject, loadKubeConfig({}))).toBe(missingObject);
  });
});
