import { describe, expect, it } from "vitest";
import { clusterSecret, managerObjects, summarize } from "./secret.ts";

const encode = (data: Record<string, string>) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));

describe("cluster Secrets in Argo CD's format", () => {
  it("carries both labels and Argo CD's name, server and config fields", () => {
    const s = clusterSecret({ name: "prod", server: "https://10.0.0.1:6443", namespace: "tether-system",
      config: { bearerToken: "tok", tlsClientConfig: { caData: "Q0E=", insecure: false } } });
    expect(s.metadata.labels).toEqual({ "tether.dev/secret-type": "cluster", "argocd.argoproj.io/secret-type": "cluster" });
    expect(s.metadata.name).toBe("cluster-prod");
    const data = s.stringData as Record<string, string>;
    expect(data.name).toBe("prod");
    expect(data.server).toBe("https://10.0.0.1:6443");
    expect(JSON.parse(data.config!)).toEqual({ bearerToken: "tok", tlsClientConfig: { caData: "Q0E=", insecure: false } });
  });

  it("lists a Secret without its token, also one Argo CD wrote", () => {
    const summary = summarize({ metadata: { name: "mycluster-secret" },
      data: encode({ name: "argo", server: "https://a:443", config: JSON.stringify({ bearerToken: "secret-token", tlsClientConfig: { insecure: true } }) }) });
    expect(summary).toEqual({ name: "argo", server: "https://a:443", secret: "mycluster-secret", auth: "bearer token", insecure: true });
    expect(JSON.stringify(summary)).not.toContain("secret-token");
  });

  it("binds the manager ServiceAccount to cluster-admin and asks for a long-lived token", () => {
    const [sa, binding, token] = managerObjects();
    expect(sa?.kind).toBe("ServiceAccount");
    expect((binding?.roleRef as { name: string }).name).toBe("cluster-admin");
    expect(token?.type).toBe("kubernetes.io/service-account-token");
  });
});
