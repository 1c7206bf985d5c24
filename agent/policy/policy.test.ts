import { describe, expect, it } from "vitest";
import { checkApplication, checkObjects, globMatch } from "./project.ts";
import { checkPlaintextSecrets } from "./plaintext.ts";

const project = (spec: object) => ({ apiVersion: "tether.dev/v1alpha1", kind: "AppProject", metadata: { name: "apps" }, spec });
const app = (repoURL: string, namespace: string) => ({
  apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "web" },
  spec: { source: { repoURL }, destination: { namespace } },
});
const cm = (namespace: string) => ({ manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace } }, namespaced: true });
const role = { manifest: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "r" } }, namespaced: false };

describe("project policy", () => {
  it.each([
    ["*", "anything", true],
    ["https://git.example.com/*", "https://git.example.com/org/repo", true],
    ["team-?", "team-a", true],
    ["team-?", "team-ab", false],
  ])("glob %s matches %s: %s", (pattern, value, expected) => {
    expect(globMatch(pattern, value)).toBe(expected);
  });

  it("refuses a repository the project does not list, naming the fix", () => {
    const p = project({ sourceRepos: ["https://git.example.com/*"], destinations: [{ namespace: "*" }] });
    expect(() => checkApplication(p, app("https://evil.example.com/x", "web"))).toThrow(/not permitted in project apps; add it to the project's sourceRepos/);
    expect(() => checkApplication(p, app("https://git.example.com/x", "web"))).not.toThrow();
    // As in Argo CD, `*` in sourceRepos stays inside one path segment; `**` crosses them.
    expect(() => checkApplication(p, app("https://git.example.com/org/x", "web"))).toThrow(/not permitted/);
    const deep = project({ sourceRepos: ["https://git.example.com/**"], destinations: [{ namespace: "*" }] });
    expect(() => checkApplication(deep, app("https://git.example.com/org/x", "web"))).not.toThrow();
  });

  it("refuses a destination namespace outside the project", () => {
    const p = project({ sourceRepos: ["*"], destinations: [{ server: "*", namespace: "team-*" }] });
    expect(() => checkApplication(p, app("r", "kube-system"))).toThrow(/destination .* namespace "kube-system" is not permitted/);
    expect(() => checkObjects(p, [cm("kube-system")])).toThrow(/ConfigMap\/kube-system\/c: namespace "kube-system"/);
    expect(() => checkObjects(p, [cm("team-a")])).not.toThrow();
  });

  it("refuses cluster-scoped kinds unless whitelisted", () => {
    expect(() => checkObjects(project({ destinations: [{ namespace: "*" }] }), [role])).toThrow(/cluster-scoped kind ClusterRole is not permitted/);
    expect(() => checkObjects(project({ clusterResourceWhitelist: [{ group: "*", kind: "*" }] }), [role])).not.toThrow();
  });

  it("refuses a namespaced kind on the blacklist", () => {
    const p = project({ destinations: [{ namespace: "*" }], namespaceResourceBlacklist: [{ group: "", kind: "ConfigMap" }] });
    expect(() => checkObjects(p, [cm("a")])).toThrow(/kind ConfigMap is not permitted/);
  });
});

describe("plaintext guard", () => {
  const secret = (decrypted: boolean) => ({
    manifest: { apiVersion: "v1", kind: "Secret", metadata: { name: "token" } }, file: "components/app/secret.yaml", decrypted,
  });

  it("refuses a Secret that was not decrypted, naming the file and the object", () => {
    expect(() => checkPlaintextSecrets([secret(false)], undefined)).toThrow(/components\/app\/secret.yaml: Secret\/token is not SOPS-encrypted/);
  });

  it("lets decrypted Secrets through, and plain ones when the app opts out", () => {
    expect(() => checkPlaintextSecrets([secret(true)], undefined)).not.toThrow();
    expect(() => checkPlaintextSecrets([secret(false)], { "tether.dev/allow-plaintext-secrets": "true" })).not.toThrow();
  });
});
