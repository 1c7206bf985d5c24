import { describe, expect, it } from "vitest";
import type { Application } from "../api/types.ts";
import type { RenderedObject } from "../render/types.ts";
import { inheritSource, renderKeyOf } from "./reconcile.ts";

describe("renderKeyOf", () => {
  const base: Application = {
    apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "a" },
    spec: { source: { repoURL: "https://git.example.com/a.git", path: "chart", helm: { valueFiles: ["v.yaml"], releaseName: "r" } }, destination: { namespace: "web" } },
  };
  const withSpec = (name: string, source: NonNullable<Application["spec"]["source"]>, namespace = "web"): Application =>
    ({ ...base, metadata: { name }, spec: { ...base.spec, source, destination: { namespace } } });

  it("differs for two apps that share a source but not their name (Helm's default release name)", () => {
    const src = { repoURL: "https://git.example.com/a.git", path: "chart" };
    expect(renderKeyOf(withSpec("a", src), ["c1"])).not.toBe(renderKeyOf(withSpec("b", src), ["c1"]));
  });

  it("differs for every source option, the destination namespace and the commit", () => {
    const key = renderKeyOf(base, ["c1"]);
    expect(renderKeyOf(withSpec("a", { ...base.spec.source!, helm: { valueFiles: ["v.yaml"], releaseName: "other" } }), ["c1"])).not.toBe(key);
    expect(renderKeyOf(withSpec("a", base.spec.source!, "other"), ["c1"])).not.toBe(key);
    expect(renderKeyOf(base, ["c2"])).not.toBe(key);
  });

  it("does not depend on key order or on how the revision was spelled", () => {
    const reordered = withSpec("a", { helm: { releaseName: "r", valueFiles: ["v.yaml"] }, path: "chart", repoURL: "https://git.example.com/a.git", targetRevision: "main" });
    expect(renderKeyOf(reordered, ["c1"])).toBe(renderKeyOf(base, ["c1"]));
  });
});

describe("inheritSource", () => {
  const parent = {
    apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "root" },
    spec: { source: { repoURL: "https://git.example.com/gitops.git", targetRevision: "v1.2.0", path: "components" }, destination: {} },
  };
  const child = (source: object): RenderedObject => ({
    file: "components/apps/web.yaml", decrypted: false,
    manifest: { apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "web" }, spec: { source, destination: {} } },
  });

  it("gives a child without repoURL the parent's repository and revision", () => {
    const [out] = inheritSource([child({ path: "components/apps/web" })], parent);
    expect(out?.manifest.spec).toMatchObject({ source: { repoURL: "https://git.example.com/gitops.git", targetRevision: "v1.2.0", path: "components/apps/web" } });
  });

  it("keeps a child's own repository and revision", () => {
    const own = child({ repoURL: "https://git.example.com/other.git", targetRevision: "main", path: "." });
    expect(inheritSource([own], parent)[0]).toBe(own);
  });
});

describe("renderKeyOf with several sources", () => {
  const multi = (revisions: string[], chartPath = "web"): [Application, string[]] => [{
    apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "a" },
    spec: { sources: [{ repoURL: "https://git.example.com/a.git", path: "plain" }, { repoURL: "oci://r.example.com/charts", chart: chartPath, targetRevision: "0.3.*" }], destination: { namespace: "web" } },
  }, revisions];

  it("changes when any source's revision changes (a new chart version with the same commit)", () => {
    expect(renderKeyOf(...multi(["c1", "0.3.0"]))).not.toBe(renderKeyOf(...multi(["c1", "0.3.1"])));
    expect(renderKeyOf(...multi(["c1", "0.3.0"]))).not.toBe(renderKeyOf(...multi(["c2", "0.3.0"])));
    expect(renderKeyOf(...multi(["c1", "0.3.0"]))).not.toBe(renderKeyOf(...multi(["c1", "0.3.0"], "api")));
    expect(renderKeyOf(...multi(["c1", "0.3.0"]))).toBe(renderKeyOf(...multi(["c1", "0.3.0"])));
  });
});

describe("inheritSource from a parent with several sources", () => {
  it("gives a child without repoURL the parent's first Git source", () => {
    const parent: Application = {
      apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "root" },
      spec: { sources: [{ repoURL: "oci://r.example.com/charts", chart: "x" }, { repoURL: "https://git.example.com/gitops.git", targetRevision: "main", path: "apps" }], destination: {} },
    };
    const child: RenderedObject = { file: "apps/web.yaml", decrypted: false, manifest: { apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "web" }, spec: { source: { path: "web" }, destination: {} } } };
    expect(inheritSource([child], parent)[0]?.manifest.spec).toMatchObject({ source: { repoURL: "https://git.example.com/gitops.git", targetRevision: "main", path: "web" } });
  });
});
