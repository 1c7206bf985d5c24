import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Application, ApplicationSource } from "../api/types.ts";
import type { DependencyFetch } from "./chart-deps.ts";
import { checkRefs, renderSources, sourcesOf, type GitTrees } from "./sources.ts";

const git = (extra: Partial<ApplicationSource> = {}): ApplicationSource => ({ repoURL: "https://git.example.com/a.git", ...extra });

describe("checkRefs", () => {
  it.each<[string, ApplicationSource[], string]>([
    ["two sources with one ref", [git({ ref: "values" }), git({ ref: "values" })], "spec.sources[0] and spec.sources[1] both have ref: values; give each a name of its own"],
    ["a ref on a chart source", [{ repoURL: "https://charts.example.com", chart: "c", ref: "values" }], "spec.sources[0] has both ref and chart: a ref lends the files of a Git repository; move the values into one"],
    ["a ref that is no name", [git({ ref: "../x" })], "spec.sources[0].ref '../x' may hold only letters, digits, '-' and '_'"],
    ["a $ref nobody has", [git({ helm: { valueFiles: ["$values/a.yaml"] } })], "spec.sources[0].helm.valueFiles: $values/a.yaml refers to no source with ref: values (refs: none); add ref: values to the source that holds the file"],
  ])("refuses %s", (_what, sources, message) => {
    expect(() => checkRefs(sources)).toThrow(message);
  });

  it("accepts value files of the chart, of the repository root and of a ref", () => {
    expect(() => checkRefs([git({ helm: { valueFiles: ["values.yaml", "/envs/a.yaml", "$values/b.yaml"] } }), git({ ref: "values" })])).not.toThrow();
  });
});

describe("sourcesOf", () => {
  const app = (spec: Partial<Application["spec"]>): Application => ({ metadata: { name: "a" }, spec: { source: git(), destination: {}, ...spec } });

  it("takes spec.sources when it has entries, as Argo CD does, else spec.source", () => {
    expect(sourcesOf(app({ sources: [git({ path: "x" }), git({ path: "y" })] })).map((s) => s.path)).toEqual(["x", "y"]);
    expect(sourcesOf(app({ sources: [] }))).toEqual([git()]);
    expect(sourcesOf(app({}))).toEqual([git()]);
  });
});

describe("renderSources' trees", () => {
  it("lends the commit's shared tree to plain manifests and a ref, and gives Kustomize and Helm a checkout of their own (they edit it)", async () => {
    const root = await mkdtemp(join(tmpdir(), "tether-sources-test-"));
    try {
      const files: [string, string][] = [["plain/cm.yaml", "kind: ConfigMap\n"], ["kust/kustomization.yaml", "resources: []\n"], ["chart/Chart.yaml", "name: c\n"]];
      for (const [file, text] of files) {
        await mkdir(join(root, file, ".."), { recursive: true });
        await writeFile(join(root, file), text);
      }
      const calls: string[] = [];
      const tree = (kind: string) => {
        calls.push(kind);
        return Promise.resolve({ dir: root, cleanup: () => Promise.resolve(void calls.push(`${kind} released`)) });
      };
      const trees: GitTrees = { resolve: () => Promise.resolve("a".repeat(40)), checkout: () => tree("own"), sharedTree: () => tree("shared") };
      const render = async (sources: ApplicationSource[]) => {
        calls.length = 0;
        const app: Application = { metadata: { name: "a" }, spec: { sources, destination: { namespace: "ns" } } };
        await renderSources({ app, sources, revisions: sources.map(() => "a".repeat(40)), git: trees, charts: {} as DependencyFetch,
          decryptionKeys: [], agentNamespace: "tether", renderTree: () => Promise.resolve([]) });
        return [...calls];
      };
      expect(await render([git({ path: "plain" })])).toEqual(["shared", "shared released"]);
      expect(await render([git({ path: "kust" })])).toEqual(["shared", "shared released", "own", "own released"]);
      expect(await render([git({ path: "chart" })])).toEqual(["shared", "shared released", "own", "own released"]);
      expect(await render([git({ path: "kust", directory: { recurse: true } })])).toEqual(["shared", "shared released"]);
      expect(await render([git({ path: "chart", helm: {} }), git({ ref: "values" })]))
        .toEqual(["shared", "shared released", "own", "shared", "own released", "shared released"]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("renderSources of a plain directory from Git's files", () => {
  const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-git\n";
  const FILES: Record<string, Record<string, string>> = {
    plain: { "cm.yaml": cm, "README.md": "docs\n" },
    kust: { "kustomization.yaml": "resources: []\n", "cm.yaml": cm },
    chart: { "Chart.yaml": "name: c\n", "cm.yaml": cm },
    overridden: { ".argocd-source-a.yaml": "directory: {recurse: true}\n", "cm.yaml": cm },
    jsonnet: { "main.jsonnet": "{}\n" },
    big: { "cm.yaml": cm, "huge.yaml": "x".repeat(200) },
  };
  const limits = { maxFileBytes: 80, maxRenderBytes: 1_000_000 };
  const render = async (source: ApplicationSource, opts: { limits?: typeof limits } = { limits }) => {
    const calls: string[] = [];
    const tree = (kind: string) => {
      calls.push(kind);
      return Promise.resolve({ dir: "/nonexistent", cleanup: () => Promise.resolve() });
    };
    const trees: GitTrees = {
      resolve: () => Promise.resolve("a".repeat(40)), checkout: () => tree("own"), sharedTree: () => tree("shared"),
      plainFiles: (_url, _commit, dir, max) => Promise.resolve(Object.entries(FILES[dir] ?? {})
        .map(([path, text]) => (text.length > max ? { path, size: text.length } : { path, size: text.length, text }))),
    };
    const app: Application = { metadata: { name: "a" }, spec: { source, destination: { namespace: "ns" } } };
    const result = await renderSources({ app, sources: [source], revisions: ["a".repeat(40)], git: trees, charts: {} as DependencyFetch,
      decryptionKeys: [], agentNamespace: "tether", renderTree: () => Promise.resolve([]), ...opts })
      .then((r) => r.objects.map((o) => `${o.file}#${o.manifest.metadata.name ?? ""}`), (err: Error) => `error: ${err.message}`);
    return { result, calls };
  };

  it("renders plain manifests without a tree", async () => {
    expect(await render(git({ path: "plain" }))).toEqual({ result: ["plain/cm.yaml#from-git"], calls: [] });
    // Named a directory source, a kustomization file is one more file (here excluded), as on disk.
    expect(await render(git({ path: "kust", directory: { exclude: "kustomization.yaml" } }))).toEqual({ result: ["kust/cm.yaml#from-git"], calls: [] });
  });

  it.each([
    ["a kustomization", "kust"], ["a Chart.yaml", "chart"], ["an override file", "overridden"], ["a Jsonnet file", "jsonnet"],
  ])("renders from a tree when the directory holds %s", async (_, path) => {
    expect((await render(git({ path }))).calls).toEqual(["shared"]);
  });

  it("renders from a tree without the render limits (a caller with a renderer of its own)", async () => {
    expect((await render(git({ path: "plain" }), {})).calls).toEqual(["shared"]);
  });

  it("refuses a file over --max-file-size by name, before rendering", async () => {
    const { result, calls } = await render(git({ path: "big" }));
    expect(calls).toEqual([]);
    expect(result).toMatch(/^error: .*big\/huge\.yaml.*--max-file-size/);
  });
});
