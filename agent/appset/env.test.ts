import type { V1Secret } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { clusterEntries, generatorEnv, type EnvDeps } from "./env.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const clusterSecret = (name: string, server: string, labels: Record<string, string> = {}): V1Secret => ({
  metadata: { name: `cluster-${name}`, namespace: "tether-system", labels: { "argocd.argoproj.io/secret-type": "cluster", ...labels } },
  data: { name: b64(name), server: b64(server), project: b64("team-a") },
});

describe("clusterEntries", () => {
  it("lists every cluster Secret once (either label) with its labels and project, and the local cluster last as Argo CD adds it", async () => {
    const staging = clusterSecret("staging", "https://10.0.0.1:6443", { env: "staging" });
    const entries = await clusterEntries({ listSecrets: (l) => Promise.resolve(l.startsWith("argocd") ? [staging] : [staging]) });
    expect(entries.map((e) => [e.name, e.server, e.labels.env, e.project])).toEqual([
      ["in-cluster", "https://kubernetes.default.svc", undefined, undefined],
      ["staging", "https://10.0.0.1:6443", "staging", "team-a"],
    ]);
  });

  it("does not add the local cluster when a Secret describes it", async () => {
    const local = clusterSecret("local", "https://kubernetes.default.svc");
    expect((await clusterEntries({ listSecrets: () => Promise.resolve([local]) })).map((e) => e.name)).toEqual(["local"]);
  });
});

describe("a plugin generator's token", () => {
  const secrets: Record<string, V1Secret> = {
    plugin: { metadata: { name: "plugin", labels: { "app.kubernetes.io/part-of": "tether" } }, data: { token: b64("s3cret") } },
    "argocd-secret": { metadata: { name: "argocd-secret", labels: { "app.kubernetes.io/part-of": "argocd" } }, data: { "plugin.x.token": b64("argo") } },
    private: { metadata: { name: "private" }, data: { token: b64("nope") } },
  };
  const deps: EnvDeps = {
    source: {} as EnvDeps["source"], allowLocalRepos: false, listSecrets: () => Promise.resolve([]),
    readSecret: (name) => Promise.resolve(secrets[name]),
  };
  const value = (ref: string) => generatorEnv(deps, { setName: "s" }).env.secretValue?.(ref);
  it.each<[string, string | undefined]>([
    ["$plugin:token", "s3cret"],
    ["$plugin.x.token", "argo"],
    ["$private:token", undefined],
    ["$plugin:missing", undefined],
  ])("%s reads %s", async (ref, expected) => {
    expect(await value(ref)).toBe(expected);
  });
});

describe("a git generator's checkout", () => {
  it("refuses a repository on the agent's disk without --allow-local-repos, naming the set", async () => {
    const deps: EnvDeps = { source: {} as EnvDeps["source"], allowLocalRepos: false, listSecrets: () => Promise.resolve([]) };
    await expect(generatorEnv(deps, { setName: "s" }).env.checkout("file:///srv/repo.git", "HEAD")).rejects.toThrow(/local repositories are refused/);
  });
});
