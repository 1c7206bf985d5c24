import { describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import type { Cluster } from "./cluster.ts";
import { Destinations, kubeConfigOf, parseClusterSecret, selectCluster, type ClusterSecret } from "./destinations.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const secret = (data: Record<string, string>) => ({ metadata: { name: "cluster-prod" }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) });
const known: ClusterSecret[] = [
  { name: "prod", server: "https://prod.example.com:6443", secretName: "cluster-prod", config: {} },
  { name: "staging", server: "https://10.0.0.2", secretName: "cluster-staging", config: {} },
];

describe("selectCluster", () => {
  it.each([
    { dest: {}, want: "local" },
    { dest: { server: "https://kubernetes.default.svc" }, want: "local" },
    { dest: { server: "https://kubernetes.default.svc/" }, want: "local" },
    { dest: { name: "in-cluster" }, want: "local" },
    { dest: { name: "prod" }, want: "prod" },
    { dest: { server: "https://10.0.0.2/" }, want: "staging" },
    { dest: { server: "https://prod.example.com" }, want: undefined },
    { dest: { name: "nosuch" }, want: undefined },
  ])("$dest → $want", ({ dest, want }) => {
    const found = selectCluster(dest, known);
    expect(found === "local" || found === undefined ? found : found.name).toBe(want);
  });
});

describe("cluster Secrets in Argo CD's format", () => {
  it("read name, server and the config JSON", () => {
    const c = parseClusterSecret(secret({ name: "prod", server: "https://prod.example.com:6443/", config: JSON.stringify({ bearerToken: "t0k3n", tlsClientConfig: { caData: b64("CA"), insecure: false } }) }));
    expect(c).toMatchObject({ name: "prod", server: "https://prod.example.com:6443", secretName: "cluster-prod", config: { bearerToken: "t0k3n" } });
    const kc = kubeConfigOf(c);
    expect(kc.getCurrentCluster()).toMatchObject({ server: "https://prod.example.com:6443", caData: b64("CA"), skipTLSVerify: false });
    expect(kc.getCurrentUser()?.token).toBe("t0k3n");
  });

  it("name the Secret and the fix when server or config is wrong", () => {
    expect(() => parseClusterSecret(secret({ name: "x" }))).toThrow(/cluster Secret cluster-prod has no "server"/);
    expect(() => parseClusterSecret(secret({ server: "https://x", config: "{nope" }))).toThrow(/cluster Secret cluster-prod: "config" is not JSON/);
  });
});

describe("one client per cluster identity", () => {
  const secretOf = (token: string) => ({
    metadata: { name: "cluster-prod" },
    data: { name: b64("prod"), server: b64("https://prod.example.com:6443"), config: b64(JSON.stringify({ bearerToken: token })) },
  });

  it("replaces the client when the Secret's token rotates, instead of adding one, and says so once", async () => {
    let secrets = [secretOf("first")];
    const replaced: string[] = [];
    const destinations = new Destinations({
      local: { kc: new KubeConfig(), cluster: {} as Cluster }, listSecrets: () => Promise.resolve(secrets), ttlMs: 0,
      onReplaced: (old) => replaced.push(old.kc.getCurrentUser()?.token ?? ""),
    });
    const first = await destinations.resolve({ name: "prod" });
    expect(await destinations.resolve({ name: "prod" })).toBe(first);
    secrets = [secretOf("second")];
    const second = await destinations.resolve({ name: "prod" });
    expect(second).not.toBe(first);
    expect(second.kc.getCurrentUser()?.token).toBe("second");
    expect(await destinations.resolve({ server: "https://prod.example.com:6443" })).toBe(second);
    expect(replaced).toEqual(["first"]);
    expect(destinations.known().filter((d) => !d.local)).toEqual([second]);
    const as = destinations.impersonating(second, "system:serviceaccount:prod:deployer");
    secrets = [secretOf("third")];
    const third = await destinations.resolve({ name: "prod" });
    expect(destinations.impersonating(third, "system:serviceaccount:prod:deployer")).not.toBe(as);
    expect(destinations.known().filter((d) => !d.local)).toHaveLength(2);
  });
});
