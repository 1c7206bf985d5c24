import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { pathWithTools } from "../../test/harness/paths.ts";
import { FINALIZER, type Manifest } from "../api/types.ts";
import { adoptArgoCdManifests } from "./argocd.ts";
import { renderDirectory } from "./directory.ts";
import { renderHelm } from "./helm.ts";
import { TESTDATA } from "./testdata/checkout.ts";
import type { RenderedObject } from "./types.ts";

const NS = "tether-system";

beforeAll(() => {
  process.env.PATH = pathWithTools();
});

function rendered(manifest: Record<string, unknown>, file = "apps.yaml"): RenderedObject {
  return { manifest: manifest as Manifest, file, decrypted: false };
}

function argoApp(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): RenderedObject {
  return rendered({ apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: { name: "a", namespace: "argocd", ...metadata }, spec });
}

const SOURCE = { repoURL: "https://example.com/r.git", path: "p" };
const DEST = { server: "https://kubernetes.default.svc", namespace: "x" };

describe("argocd-example-apps' app-of-apps chart (apps/)", () => {
  it("renders Applications Tether takes as its own, in the agent namespace with Tether's finalizer", async () => {
    const objects = await renderHelm({ root: argocdTestdata(), path: "apps", releaseName: "apps", namespace: "argocd" });
    const { objects: adopted, warnings } = adoptArgoCdManifests(objects, { namespace: NS });
    expect(adopted).toHaveLength(14);
    for (const { manifest } of adopted) {
      expect(manifest).toMatchObject({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { namespace: NS, finalizers: [FINALIZER] } });
    }
    const helm = adopted.find((o) => o.manifest.metadata.name === "example.helm-guestbook")?.manifest;
    expect(helm?.spec).toEqual({
      destination: { namespace: "helm-guestbook", server: "https://kubernetes.default.svc" },
      project: "default",
      source: { path: "helm-guestbook", repoURL: "https://github.com/argoproj/argocd-example-apps", targetRevision: "master", helm: { releaseName: "helm-guestbook" } },
      syncPolicy: { syncOptions: ["CreateNamespace=true"], automated: { prune: true, selfHeal: true } },
    });
    expect(warnings).toEqual(["example.plugin-kasane", "example.plugin-kustomized-helm", "example.plugin-nix"].map(
      (name) => `Application/argocd/${name}: spec.source.plugin is not implemented by Tether; the field is ignored`));
  });
});

function argocdTestdata(): string {
  return join(TESTDATA, "argocd");
}

describe("argocd-autopilot's repository layout", () => {
  it("maps the root Application: finalizer, namespace, status dropped, ignoreDifferences on Tether's Applications", async () => {
    const objects = await renderDirectory({ root: argocdTestdata(), path: "autopilot", directory: { recurse: true } });
    const { objects: adopted } = adoptArgoCdManifests(objects, { namespace: NS });
    const root = adopted.find((o) => o.manifest.metadata.name === "root")?.manifest;
    expect(root).toMatchObject({
      apiVersion: "tether.dev/v1alpha1",
      metadata: { namespace: NS, finalizers: [FINALIZER], labels: { "app.kubernetes.io/managed-by": "argocd-autopilot" } },
      spec: { ignoreDifferences: [{ group: "tether.dev", kind: "Application", jsonPointers: ["/status"] }], source: { path: "projects" } },
    });
    expect(root).not.toHaveProperty("status");
  });

  it("keeps the AppProject's Argo CD annotations (sync wave -2, PruneLast) and whitelists", async () => {
    const objects = await renderDirectory({ root: argocdTestdata(), path: "autopilot/projects" });
    const project = adoptArgoCdManifests(objects, { namespace: NS }).objects.find((o) => o.manifest.kind === "AppProject")?.manifest;
    expect(project).toMatchObject({
      apiVersion: "tether.dev/v1alpha1",
      metadata: { name: "testing", namespace: NS, annotations: { "argocd.argoproj.io/sync-wave": "-2", "argocd.argoproj.io/sync-options": "PruneLast=true" } },
      spec: { sourceRepos: ["*"], destinations: [{ namespace: "*", server: "*" }], clusterResourceWhitelist: [{ group: "*", kind: "*" }] },
    });
  });

  it("takes autopilot's ApplicationSet as Tether's, generators and template as written, in the agent namespace", async () => {
    const objects = await renderDirectory({ root: argocdTestdata(), path: "autopilot/projects" });
    const { objects: adopted, warnings } = adoptArgoCdManifests(objects, { namespace: NS });
    const appSet = adopted.find((o) => o.manifest.kind === "ApplicationSet")?.manifest;
    const original = objects.find((o) => o.manifest.kind === "ApplicationSet")?.manifest;
    expect(appSet).toMatchObject({ apiVersion: "tether.dev/v1alpha1", metadata: { name: "testing", namespace: NS } });
    expect(appSet?.spec).toEqual(original?.spec);
    expect(appSet?.status).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});

describe("an argoproj.io ApplicationSet", () => {
  it("loses Argo CD's finalizer and names each field Tether does not implement", () => {
    const set = rendered({
      apiVersion: "argoproj.io/v1alpha1", kind: "ApplicationSet",
      metadata: { name: "s", namespace: "argocd", finalizers: ["resources-finalizer.argocd.argoproj.io"] },
      spec: { generators: [{ list: { elements: [] } }], template: { metadata: { name: "x" }, spec: {} }, ignoreApplicationDifferences: [{}],
        strategy: { type: "RollingSync", deletionOrder: "Reverse", rollingSync: { steps: [] } } },
    });
    const { objects, warnings } = adoptArgoCdManifests([set], { namespace: NS });
    expect(objects[0]?.manifest.metadata).toEqual({ name: "s", namespace: NS, finalizers: [] });
    expect(warnings).toEqual([
      "ApplicationSet/argocd/s: spec.ignoreApplicationDifferences is not implemented by Tether; the field is ignored",
      "ApplicationSet/argocd/s: spec.strategy.deletionOrder is not implemented by Tether; the field is ignored",
    ]);
  });
});

describe("adoptArgoCdManifests", () => {
  it("leaves every other object, Tether's own Applications included, as it is", () => {
    const objects = [
      rendered({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "argocd" } }),
      rendered({ apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "t" }, spec: { source: SOURCE, destination: DEST, plugin: {} } }),
    ];
    const result = adoptArgoCdManifests(objects, { namespace: NS });
    expect(result.objects).toEqual(objects);
    expect(result.warnings).toEqual([]);
  });

  it.each([
    ["resources-finalizer.argocd.argoproj.io"],
    ["resources-finalizer.argocd.argoproj.io/foreground"],
    ["resources-finalizer.argocd.argoproj.io/background"],
  ])("maps the %s finalizer to Tether's and keeps others", (finalizer) => {
    const { objects } = adoptArgoCdManifests([argoApp({ source: SOURCE, destination: DEST }, { finalizers: [finalizer, "example.com/keep"] })], { namespace: NS });
    expect(objects[0]?.manifest.metadata.finalizers).toEqual([FINALIZER, "example.com/keep"]);
  });

  it("names each field Tether does not implement, nested and in lists, and removes it", () => {
    const app = argoApp({
      source: { ...SOURCE, helm: { releaseName: "r", ignoreMissingValueFiles: true } },
      destination: DEST,
      sourceHydrator: { drySource: {} },
      info: [{ name: "url", value: "x" }],
      ignoreDifferences: [{ kind: "Deployment", jqPathExpressions: [".x"], jsonPointers: ["/y"] }],
    });
    const { objects, warnings } = adoptArgoCdManifests([app], { namespace: NS });
    expect(warnings).toEqual([
      "Application/argocd/a: spec.source.helm.ignoreMissingValueFiles is not implemented by Tether; the field is ignored",
      "Application/argocd/a: spec.sourceHydrator is not implemented by Tether; the field is ignored",
      "Application/argocd/a: spec.info is not implemented by Tether; the field is ignored",
    ]);
    expect(objects[0]?.manifest.spec).toEqual({ source: { ...SOURCE, helm: { releaseName: "r" } }, destination: DEST, ignoreDifferences: [{ kind: "Deployment", jqPathExpressions: [".x"], jsonPointers: ["/y"] }] });
  });

  it("keeps Helm valuesObject as written (the schema keeps it whole)", () => {
    const valuesObject = { anything: { nested: [1, { deep: true }] } };
    const { objects, warnings } = adoptArgoCdManifests([argoApp({ source: { ...SOURCE, helm: { valuesObject } }, destination: DEST })], { namespace: NS });
    expect(warnings).toEqual([]);
    expect(objects[0]?.manifest.spec).toMatchObject({ source: { helm: { valuesObject } } });
  });

  it("puts an Application of another namespace into the agent's, saying so", () => {
    const { objects, warnings } = adoptArgoCdManifests([argoApp({ source: SOURCE, destination: DEST }, { namespace: "team-a" })], { namespace: NS });
    expect(objects[0]?.manifest.metadata.namespace).toBe(NS);
    expect(warnings).toEqual(["Application/team-a/a: metadata.namespace team-a is taken as tether-system: Tether keeps every Application in the agent's namespace"]);
  });

  it("gives an Application without a namespace the agent's, silently", () => {
    const { objects, warnings } = adoptArgoCdManifests([argoApp({ source: SOURCE, destination: DEST }, { namespace: undefined })], { namespace: NS });
    expect(objects[0]?.manifest.metadata.namespace).toBe(NS);
    expect(warnings).toEqual([]);
  });
});
