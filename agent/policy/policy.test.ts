import { describe, expect, it } from "vitest";
import type { Application, ApplicationDestination, ApplicationSource } from "../api/types.ts";
import type { TetherError } from "../errors.ts";
import { checkApplication, checkDestinationSpec, checkObjects, decryptionKeyAllowed, decryptionKeysFor, globMatch, repoAllowed } from "./project.ts";
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
    expect(() => checkObjects(p, {}, [cm("kube-system")])).toThrow(/ConfigMap\/kube-system\/c: namespace "kube-system"/);
    expect(() => checkObjects(p, {}, [cm("team-a")])).not.toThrow();
  });

  it("refuses cluster-scoped kinds unless whitelisted", () => {
    expect(() => checkObjects(project({ destinations: [{ namespace: "*" }] }), {}, [role])).toThrow(/cluster-scoped kind ClusterRole is not permitted/);
    expect(() => checkObjects(project({ clusterResourceWhitelist: [{ group: "*", kind: "*" }] }), {}, [role])).not.toThrow();
  });

  it("refuses a namespaced kind on the blacklist", () => {
    const p = project({ destinations: [{ namespace: "*" }], namespaceResourceBlacklist: [{ group: "", kind: "ConfigMap" }] });
    expect(() => checkObjects(p, {}, [cm("a")])).toThrow(/kind ConfigMap is not permitted/);
  });
});

describe("project boundary (issue 22)", () => {
  const appTo = (destination: ApplicationDestination, source: ApplicationSource = { repoURL: "https://git.example.com/team-a/app" }): Application => ({
    apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "web" }, spec: { source, destination },
  });
  const open = project({ sourceRepos: ["*"], destinations: [{ server: "*", namespace: "*" }] });

  it("refuses a destination with both name and server, as Argo CD does", () => {
    const both = appTo({ name: "prod", server: "https://kubernetes.default.svc", namespace: "web" });
    const err = (() => {
      try {
        checkApplication(open, both);
      } catch (e) {
        return e as TetherError;
      }
      return undefined;
    })();
    expect(err?.reason).toBe("InvalidSpecError");
    expect(err?.message).toMatch(/^application destination can't have both name and server defined: prod https:\/\/kubernetes.default.svc/);
    expect(() => checkDestinationSpec(appTo({ name: "prod", namespace: "web" }))).not.toThrow();
  });

  const pairs = project({ sourceRepos: ["*"], destinations: [{ server: "https://a", namespace: "team-a" }, { server: "https://b", namespace: "*" }] });
  it.each([
    [{ server: "https://a" }, "team-a", true],
    [{ server: "https://a" }, "kube-system", false],
    [{ server: "https://b" }, "kube-system", true],
    [{ server: "https://c" }, "team-a", false],
  ])("checks each object's namespace against the destinations of its own cluster: %o namespace %s -> %s", (dest, ns, ok) => {
    const check = () => checkObjects(pairs, dest, [cm(ns)]);
    if (ok) expect(check).not.toThrow();
    else expect(check).toThrow(/is not a permitted destination; add \{server: https:\/\/[abc], namespace: /);
  });

  it.each([
    ["https://h/team-b/../team-a/x", false],
    ["https://h/team-b/%2e%2e/team-a/x", false],
    ["https://h/team-b/x", true],
    ["https://h/team-b/x.git", true],
  ])("matches sourceRepos against the URL that is fetched: %s -> %s", (url, ok) => {
    const p = project({ sourceRepos: ["https://h/team-b/**"], destinations: [{ namespace: "*" }] });
    expect(repoAllowed(p, url)).toBe(ok);
  });

  it("checks a source without repoURL (an in-repo child before the parent's URL is filled in) as no repository", () => {
    expect(repoAllowed(project({ sourceRepos: ["*"], destinations: [{ namespace: "*" }] }), undefined)).toBe(true);
    expect(repoAllowed(project({ sourceRepos: ["https://h/**"], destinations: [{ namespace: "*" }] }), undefined)).toBe(false);
  });

  it.each([
    "https://h/team-a/secret", "https://H/Team-A/secret", "https://h/team-a/secret.git", "https://u:p@h/team-a/secret",
    "https://h:443/team-a/secret", "https://h/x/../team-a/secret/", "https://h/./team-a/secret",
  ])("a deny pattern holds for every spelling of the repository: %s", (url) => {
    const p = project({ sourceRepos: ["https://h/**", "!https://h/team-a/secret"], destinations: [{ namespace: "*" }] });
    expect(repoAllowed(p, url)).toBe(false);
    expect(repoAllowed(p, "https://h/team-a/other")).toBe(true);
  });

  it("refuses a key Secret the project does not list, naming the Secret and the field", () => {
    const tenantB = project({ sourceRepos: ["*"], destinations: [{ namespace: "*" }], decryptionKeys: ["team-b-*"] });
    const named = (name: string) => appTo({ namespace: "web" }, { repoURL: "https://h/x", decryption: { secretRef: { name } } });
    expect(() => checkApplication(tenantB, named("team-a-sops"))).toThrow(
      /decryption key Secret team-a-sops is not permitted in project apps; add it to the project's spec.decryptionKeys/);
    expect(() => checkApplication(tenantB, named("team-b-sops"))).not.toThrow();
    // The default key is not refused up front (the app may hold nothing encrypted), it is withheld.
    expect(() => checkApplication(tenantB, appTo({ namespace: "web" }))).not.toThrow();
    expect(decryptionKeyAllowed(tenantB, "tether-sops")).toBe(false);
  });

  it("gives an app no keys unless its project lists its key Secret", async () => {
    const load = () => Promise.resolve(["AGE-SECRET-KEY-1X"]);
    const withDefault = project({ decryptionKeys: ["tether-sops"] });
    await expect(decryptionKeysFor(withDefault, appTo({ namespace: "web" }), load)).resolves.toEqual(["AGE-SECRET-KEY-1X"]);
    await expect(decryptionKeysFor(project({}), appTo({ namespace: "web" }), load)).resolves.toEqual([]);
  });

  const child = (projectName?: string) => ({
    manifest: { apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "child", namespace: "tether-system" },
      spec: projectName === undefined ? {} : { project: projectName } },
    namespaced: true,
  });
  it.each([
    [undefined, [], false],
    ["apps", [], true],
    ["platform", [], false],
    ["platform", ["plat*"], true],
    ["platform", ["*", "!platform"], false],
  ])("a child Application naming project %s (parent apps, childProjects %o) is allowed: %s", (name, childProjects, ok) => {
    const parent = project({ destinations: [{ namespace: "*" }], childProjects });
    const check = () => checkObjects(parent, {}, [child(name)]);
    if (ok) expect(check).not.toThrow();
    else expect(check).toThrow(/child Application child names project "(default|platform)".*add "(default|platform)" to spec.childProjects of project apps/);
  });

  const childSet = (projectName: string) => ({
    manifest: { apiVersion: "argoproj.io/v1alpha1", kind: "ApplicationSet", metadata: { name: "set", namespace: "tether-system" },
      spec: { generators: [], template: { metadata: { name: "x" }, spec: { project: projectName } } } },
    namespaced: true,
  });
  it.each([
    ["apps", true],
    ["platform", false],
    ["{{.project}}", true],
  ])("a child ApplicationSet whose template names project %s (parent apps) is allowed: %s", (name, ok) => {
    const check = () => checkObjects(project({ destinations: [{ namespace: "*" }] }), {}, [childSet(name)]);
    if (ok) expect(check).not.toThrow();
    else expect(check).toThrow(/ApplicationSet set generates Applications in project "platform".*add "platform" to spec.childProjects of project apps/);
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
