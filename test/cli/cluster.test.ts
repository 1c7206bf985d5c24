// `tether cluster add` gives the agent a cluster as `argocd cluster add` does, in Argo CD's Secret format.
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kube } from "../support/kube.ts";
import { tether } from "./support.ts";

const NS = "tether-e2e-clusters";
const { kubeconfigPath, core } = kube();

beforeAll(async () => {
  expect((await tether(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
});

afterAll(async () => {
  await core.deleteNamespacedSecret({ name: "cluster-self", namespace: NS }).catch(() => undefined);
});

describe("tether cluster add", () => {
  it("writes a cluster Secret with both labels whose token can use the cluster, and lists it without the token", async () => {
    const added = await tether(["cluster", "add", "self", "--kubeconfig", kubeconfigPath, "-n", NS]);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^cluster self added: https:\/\/127\.0\.0\.1:\d+; deploy to it with spec\.destination\.name: self$/);

    const secret = await core.readNamespacedSecret({ name: "cluster-self", namespace: NS });
    expect(secret.metadata?.labels).toMatchObject({ "tether.dev/secret-type": "cluster", "argocd.argoproj.io/secret-type": "cluster" });
    const field = (k: string) => Buffer.from(secret.data?.[k] ?? "", "base64").toString("utf8");
    expect(field("name")).toBe("self");
    const config = JSON.parse(field("config")) as { bearerToken: string; tlsClientConfig: { caData: string; insecure: boolean } };
    expect(config.tlsClientConfig.insecure).toBe(false);

    // What the agent will do with it: reach the server with the token and the CA alone.
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser({ name: "self", server: field("server"), caData: config.tlsClientConfig.caData, skipTLSVerify: false },
      { name: "tether-manager", token: config.bearerToken });
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain(NS);

    const list = await tether(["cluster", "list", "-n", NS, "-o", "json"], { kubeconfig: kubeconfigPath });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout).not.toContain(config.bearerToken);
    expect(JSON.parse(list.stdout)).toEqual([
      { name: "in-cluster", server: "https://kubernetes.default.svc", secret: "", auth: "service account", insecure: false },
      { name: "self", server: field("server"), secret: "cluster-self", auth: "bearer token", insecure: false },
    ]);
  });

  it("adding again updates the same Secret", async () => {
    const again = await tether(["cluster", "add", "self", "--kubeconfig", kubeconfigPath, "-n", NS, "--server", "https://other.example:6443", "-o", "json"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ name: "self", server: "https://other.example:6443", secret: "cluster-self" });
    const table = await tether(["cluster", "list", "-n", NS], { kubeconfig: kubeconfigPath });
    expect(table.stdout.split("\n").filter((l) => l.startsWith("self"))).toEqual([expect.stringMatching(/^self\s+https:\/\/other\.example:6443\s+cluster-self\s+bearer token/)]);
  });

  it("refuses an agent namespace that does not exist, and says to install first", async () => {
    const r = await tether(["cluster", "add", "self", "--kubeconfig", kubeconfigPath, "-n", "no-such-ns"]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain("namespace no-such-ns does not exist");
  });
});
