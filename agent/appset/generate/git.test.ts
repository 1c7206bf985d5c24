// The git generators against a real repository made with git in the test, read through a checkout the
// test implements as the agent's would: a clone at the revision, and an error for an unreachable URL.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { filterDirectories, goPathMatch, pathspecMatch } from "./git.ts";
import { generateApplications, parseApplicationSetSpec, type ApplicationSetSpec, type GeneratorEnv } from "./index.ts";

let root: string;
let repo: string;
let checkouts = 0;

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd, encoding: "utf8" });
}

function write(file: string, text: string): void {
  mkdirSync(dirname(join(repo, file)), { recursive: true });
  writeFileSync(join(repo, file), text);
}

const env: GeneratorEnv = {
  clusters: () => Promise.resolve([]),
  checkout: (repoURL, revision) => {
    const dir = join(root, `checkout-${++checkouts}`);
    try {
      execFileSync("git", ["clone", "--quiet", "--", repoURL.replace(/^file:\/\//, ""), dir], { stdio: "pipe" });
      execFileSync("git", ["checkout", "--quiet", revision], { cwd: dir, stdio: "pipe" });
    } catch (err) {
      const stderr = String((err as { stderr?: Buffer }).stderr ?? "").trim().split("\n")[0];
      return Promise.reject(new Error(stderr || "git clone failed"));
    }
    return Promise.resolve({ dir, revision: git(dir, "rev-parse", "HEAD").trim() });
  },
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "tether-appset-git-"));
  repo = join(root, "repo");
  mkdirSync(repo);
  git(repo, "init", "--quiet", "-b", "main");
  // Generators-Git.md's directory layout...
  write("cluster-addons/argo-workflows/kustomization.yaml", "resources: []\n");
  write("cluster-addons/prometheus-operator/Chart.yaml", "name: p\n");
  write("cluster-addons/exclude-helm-guestbook/Chart.yaml", "name: g\n");
  write("cluster-addons/.hidden/x.yaml", "a: b\n");
  write("cluster-addons/My_Addon/x.yaml", "a: b\n");
  // ...and its files layout, config.json as documented, plus a YAML list and a nested file.
  const config = (env: string): string =>
    JSON.stringify({ aws_account: "123456", asset_id: "11223344", cluster: { owner: "cluster-admin@company.com", name: `engineering-${env}`, address: "https://1.2.3.4" } });
  write("cluster-config/engineering/dev/config.json", config("dev"));
  write("cluster-config/engineering/prod/config.json", config("prod"));
  write("cluster-config/engineering/prod/deeper/config.json", JSON.stringify({ cluster: { name: "deep", address: "https://5.6.7.8" } }));
  write("lists/stages.yaml", "- stage: dev\n  replicas: 1\n- stage: prod\n  replicas: 3\n  tags: [a, b]\n");
  write("broken/config.yaml", "key: [unclosed\n");
  write("scalar/config.yaml", "just a string\n");
  git(repo, "add", "-A");
  git(repo, "commit", "--quiet", "-m", "layout");
  symlinkSync("/etc/hostname", join(repo, "lists/escape.yaml"));
  git(repo, "add", "-A");
  git(repo, "commit", "--quiet", "-m", "a link that leaves the repository");
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function specOf(yaml: string): ApplicationSetSpec {
  const parsed = parseApplicationSetSpec(parse(yaml.replaceAll("REPO", repo)), "test");
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.spec;
}

const directories = `
goTemplate: true
goTemplateOptions: ["missingkey=error"]
generators:
- git:
    repoURL: REPO
    revision: HEAD
    directories:
    - path: cluster-addons/*
    - path: cluster-addons/exclude-helm-guestbook
      exclude: true
    values:
      cluster: '{{.path.basename}}-values'
template:
  metadata:
    name: '{{.path.basenameNormalized}}'
  spec:
    project: "my-project"
    source: {repoURL: REPO, targetRevision: HEAD, path: '{{.path.path}}'}
    destination: {server: https://kubernetes.default.svc, namespace: '{{.values.cluster}}'}
    info: '{{index .path.segments 0}}'
`;

describe("git directory generator on a real repository", () => {
  it("produces one Application per matching directory, excluding hidden and excluded ones (Generators-Git.md)", async () => {
    const result = await generateApplications(specOf(directories), env);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const rows: unknown[] = result.applications.map((a): unknown[] => [a.metadata.name, (a.spec.source as any).path, (a.spec.destination as any).namespace, a.spec.info]);
    expect(rows).toEqual([
      ["my-addon", "cluster-addons/My_Addon", "My_Addon-values", "cluster-addons"],
      ["argo-workflows", "cluster-addons/argo-workflows", "argo-workflows-values", "cluster-addons"],
      ["prometheus-operator", "cluster-addons/prometheus-operator", "prometheus-operator-values", "cluster-addons"],
    ]);
  });

  it("gives fasttemplate the flat names path, path.basename, path[0]", async () => {
    const spec = specOf(`
generators:
- git: {repoURL: REPO, revision: main, directories: [{path: 'cluster-addons/argo-*'}]}
template:
  metadata: {name: '{{path.basename}}', annotations: {p: '{{path}}', s0: '{{path[0]}}', s1: '{{ path[1] }}'}}
  spec: {}
`);
    const result = await generateApplications(spec, env);
    expect(result.ok && result.applications[0]?.metadata.annotations).toEqual({
      p: "cluster-addons/argo-workflows", s0: "cluster-addons", s1: "argo-workflows",
    });
  });

  it("fails, naming the generator and the repository, when the repository is unreachable", async () => {
    const spec = specOf(directories.replace("repoURL: REPO\n    revision", "repoURL: /nonexistent/repo.git\n    revision"));
    const result = await generateApplications(spec, env);
    expect(result).toMatchObject({ ok: false, generator: "generators[0].git", reason: "ApplicationGenerationFromParamsError" });
    if (!result.ok) {
      expect(result.message).toContain("cannot read repository /nonexistent/repo.git at revision HEAD");
      expect(result.message).toContain("check repoURL, revision and the repository's credentials");
    }
  });

  it("fails for a revision that does not exist", async () => {
    const spec = specOf(directories.replace("revision: HEAD\n    directories", "revision: no-such-branch\n    directories"));
    const result = await generateApplications(spec, env);
    expect(result).toMatchObject({ ok: false, generator: "generators[0].git" });
    if (!result.ok) expect(result.message).toContain("at revision no-such-branch");
  });
});

describe("git file generator on a real repository", () => {
  it("reads every matching JSON file, nested keys kept for goTemplate (Generators-Git.md)", async () => {
    const spec = specOf(`
goTemplate: true
goTemplateOptions: ["missingkey=error"]
generators:
- git:
    repoURL: REPO
    revision: HEAD
    files: [{path: "cluster-config/**/config.json"}]
template:
  metadata: {name: '{{.cluster.name}}-guestbook'}
  spec:
    project: default
    destination: {server: '{{.cluster.address}}', namespace: guestbook}
    info: '{{.path.path}}|{{.path.basename}}|{{.path.filename}}|{{.path.filenameNormalized}}|{{index .path.segments 1}}'
`);
    const result = await generateApplications(spec, env);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const rows: unknown[] = result.applications.map((a): unknown[] => [a.metadata.name, (a.spec.destination as any).server, a.spec.info]);
    expect(rows).toEqual([
      ["engineering-dev-guestbook", "https://1.2.3.4", "cluster-config/engineering/dev|dev|config.json|config.json|engineering"],
      ["engineering-prod-guestbook", "https://1.2.3.4", "cluster-config/engineering/prod|prod|config.json|config.json|engineering"],
      ["deep-guestbook", "https://5.6.7.8", "cluster-config/engineering/prod/deeper|deeper|config.json|config.json|engineering"],
    ]);
  });

  it("flattens nested keys for fasttemplate as the documented parameters (cluster.name, aws_account)", async () => {
    const spec = specOf(`
generators:
- git:
    repoURL: REPO
    revision: HEAD
    files: [{path: "cluster-config/engineering/dev/config.json"}]
template:
  metadata: {name: '{{cluster.name}}-guestbook', annotations: {a: '{{aws_account}} {{cluster.owner}} {{path}} {{path.basename}} {{path[2]}}'}}
  spec: {}
`);
    const result = await generateApplications(spec, env);
    expect(result.ok && result.applications.map((a) => a.metadata)).toEqual([{
      name: "engineering-dev-guestbook",
      annotations: { a: "123456 cluster-admin@company.com cluster-config/engineering/dev dev dev" },
      finalizers: ["tether.dev/resources-finalizer"],
    }]);
  });

  it("reads a YAML list as one parameter set per item, numbers as Go's float64, and honours exclude", async () => {
    const spec = specOf(`
goTemplate: true
generators:
- git:
    repoURL: REPO
    revision: HEAD
    files: [{path: "lists/*.yaml"}, {path: "lists/escape.yaml", exclude: true}]
template:
  metadata: {name: 'app-{{.stage}}'}
  spec: {replicas: '{{.replicas}}', tags: '{{ .tags | default list | join "," }}'}
`);
    const result = await generateApplications(spec, env);
    expect(result.ok && result.applications.map((a) => [a.metadata.name, a.spec.replicas, a.spec.tags])).toEqual([
      ["app-dev", "1", ""],
      ["app-prod", "3", "a,b"],
    ]);
  });

  it.each([
    ["broken/config.yaml", "unable to process file 'broken/config.yaml'"],
    ["scalar/config.yaml", "it must hold one object or a list of objects"],
    ["lists/escape.yaml", "a link that leaves the repository"],
  ])("fails on %s, naming the file", async (path, message) => {
    const spec = specOf(`
generators: [{git: {repoURL: REPO, revision: HEAD, files: [{path: "${path}"}]}}]
template: {metadata: {name: x}, spec: {}}
`);
    const result = await generateApplications(spec, env);
    expect(result).toMatchObject({ ok: false, generator: "generators[0].git", reason: "ApplicationGenerationFromParamsError" });
    if (!result.ok) expect(result.message).toContain(message);
  });
});

describe("path matching", () => {
  it.each([
    ["cluster-addons/*", "cluster-addons/a", true],
    ["cluster-addons/*", "cluster-addons/a/b", false],
    ["*", "a", true],
    ["*", "a/b", false],
    ["d/[fg]", "d/f", true],
    ["d/[^fg]", "d/e", true],
    ["d/[^fg]", "d/f", false],
    ["a/**", "a/b/c", false],
    ["a/?", "a/b", true],
    ["a/\\*", "a/*", true],
  ])("directories: path.Match(%s, %s) is %s", (pattern, name, expected) => {
    expect(goPathMatch(pattern, name)).toBe(expected);
  });

  it("lets an exclude win over an include whatever the order (Generators-Git.md)", () => {
    const dirs = ["d", "d/e", "d/f", "d/g"];
    expect(filterDirectories([{ path: "d/e" }, { path: "d/*", exclude: true }], dirs)).toEqual([]);
    expect(filterDirectories([{ path: "d/*" }, { path: "d/[fg]", exclude: true }], dirs)).toEqual(["d/e"]);
  });

  it.each([
    ["cluster-config/**/config.json", "cluster-config/a/b/config.json", true],
    ["cluster-charts/*/*/values.yaml", "cluster-charts/c1/mychart/charts/sub/values.yaml", true],
    ["some-path/*.yaml", "some-path/deep/x.yaml", true],
    ["lists", "lists/stages.yaml", true],
    ["lists/stages.yaml", "lists/stages.yaml", true],
    ["list", "lists/stages.yaml", false],
  ])("files: git ls-files %s matches %s: %s (Argo CD's default, greedy globbing)", (pattern, file, expected) => {
    expect(pathspecMatch(pattern, file)).toBe(expected);
  });
});
