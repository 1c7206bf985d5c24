import { cp, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathWithTools } from "../../test/harness/paths.ts";
import { TetherError } from "../errors.ts";
import { renderHelm, type HelmRenderInput } from "./helm.ts";
import { TESTDATA, emptyCheckout, writeTree } from "./testdata/checkout.ts";
import type { RenderedObject } from "./types.ts";

const cleanups: (() => Promise<void>)[] = [];

beforeAll(() => {
  process.env.PATH = pathWithTools();
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/** A checkout with the guestbook chart at `charts/guestbook` and an environment values file elsewhere. */
async function checkout(extra: Record<string, string> = {}): Promise<string> {
  const { root, cleanup } = await emptyCheckout();
  cleanups.push(cleanup);
  await cp(join(TESTDATA, "helm", "guestbook"), join(root, "charts", "guestbook"), { recursive: true });
  await writeTree(root, { "envs/prod/guestbook.yaml": "image:\n  tag: \"0.2\"\n", ...extra });
  return root;
}

function input(root: string, opts: Partial<HelmRenderInput> = {}): HelmRenderInput {
  return { root, path: "charts/guestbook", releaseName: "guestbook", namespace: "web", ...opts };
}

function named(objects: RenderedObject[], kind: string, name: string): RenderedObject {
  const found = objects.find((o) => o.manifest.kind === kind && o.manifest.metadata.name === name);
  expect(found, `${kind}/${name}`).toBeDefined();
  return found!;
}

async function renderError(promise: Promise<unknown>): Promise<TetherError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  return err as TetherError;
}

describe("renderHelm: a chart committed in the repository", () => {
  it("renders with the release name and destination namespace, CRDs and vendored dependencies included", async () => {
    const objects = await renderHelm(input(await checkout()));
    expect(objects.map((o) => `${o.manifest.kind}/${o.manifest.metadata.name ?? ""} ${o.file}`)).toEqual([
      "CustomResourceDefinition/guestbooks.webapp.example.com charts/guestbook/crds/guestbooks.yaml",
      "ConfigMap/guestbook-redis charts/guestbook/charts/redis-lite/templates/configmap.yaml",
      "Service/guestbook-ui charts/guestbook/templates/service.yaml",
      "Deployment/guestbook-ui charts/guestbook/templates/deployment.yaml",
      "Job/guestbook-migrate charts/guestbook/templates/migrate-job.yaml",
    ]);
    expect(named(objects, "Deployment", "guestbook-ui").manifest.metadata.namespace).toBe("web");
    expect(objects.every((o) => !o.decrypted)).toBe(true);
  });

  it("skips Helm test hooks (test, test-success, test-failure) and keeps other hooks", async () => {
    const objects = await renderHelm(input(await checkout()));
    expect(objects.some((o) => o.manifest.metadata.name?.includes("test"))).toBe(false);
    expect(named(objects, "Job", "guestbook-migrate").manifest.metadata.annotations).toEqual({ "helm.sh/hook": "pre-install,pre-upgrade" });
  });

  it("layers value files (relative to the chart, or to the repository with a leading /) then valuesObject", async () => {
    const objects = await renderHelm(input(await checkout(), {
      helm: { valueFiles: ["values-prod.yaml", "/envs/prod/guestbook.yaml"], valuesObject: { replicaCount: 5, "redis-lite": { maxmemory: "128mb" } } },
    }));
    const deployment = named(objects, "Deployment", "guestbook-ui").manifest;
    expect(deployment.spec).toMatchObject({
      replicas: 5,
      template: { spec: { containers: [{ image: "gcr.io/heptio-images/ks-guestbook-demo:0.2", ports: [{ containerPort: 8080 }] }] } },
    });
    expect(named(objects, "ConfigMap", "guestbook-redis").manifest.data).toEqual({ maxmemory: "128mb" });
  });

  it("takes inline values as a string, and valuesObject over values as Argo CD does", async () => {
    const root = await checkout();
    const fromString = await renderHelm(input(root, { helm: { values: "replicaCount: 7\n" } }));
    expect(named(fromString, "Deployment", "guestbook-ui").manifest.spec).toMatchObject({ replicas: 7 });
    const both = await renderHelm(input(root, { helm: { values: "replicaCount: 7\n", valuesObject: { replicaCount: 2 } } }));
    expect(named(both, "Deployment", "guestbook-ui").manifest.spec).toMatchObject({ replicas: 2 });
  });

  it("uses releaseName for names", async () => {
    const objects = await renderHelm(input(await checkout(), { releaseName: "shop" }));
    expect(objects.map((o) => o.manifest.metadata.name)).toContain("shop-ui");
  });
});

describe("renderHelm: parameters, file parameters and CRDs, as Argo CD passes them", () => {
  const kinds = `apiVersion: v1
kind: ConfigMap
metadata:
  name: kinds
data:
  port: {{ kindOf .Values.service.port | quote }}
  tag: {{ kindOf .Values.image.tag | quote }}
  hosts: {{ .Values.hosts | toJson | quote }}
  motd: {{ .Values.motd | quote }}
`;

  it("sets parameters with --set over the value files, forceString with --set-string, and keeps a comma inside a value", async () => {
    const root = await checkout({ "charts/guestbook/templates/kinds.yaml": kinds, "charts/guestbook/motd.txt": "hello from a file\n" });
    const objects = await renderHelm(input(root, {
      helm: {
        valueFiles: ["values-prod.yaml"],
        parameters: [
          { name: "replicaCount", value: "4" },
          { name: "service.port", value: "9090" },
          { name: "image.tag", value: "1234", forceString: true },
          { name: "hosts", value: "a,b" },
        ],
        fileParameters: [{ name: "motd", path: "motd.txt" }],
      },
    }));
    expect(named(objects, "Deployment", "guestbook-ui").manifest.spec).toMatchObject({ replicas: 4 });
    expect(named(objects, "ConfigMap", "kinds").manifest.data).toEqual({
      port: "int64", tag: "string", hosts: JSON.stringify("a,b"), motd: "hello from a file\n",
    });
  });

  it("leaves the chart's crds/ out with skipCrds", async () => {
    const objects = await renderHelm(input(await checkout(), { helm: { skipCrds: true } }));
    expect(objects.map((o) => o.manifest.kind)).not.toContain("CustomResourceDefinition");
    expect(objects.map((o) => o.manifest.kind)).toContain("Deployment");
  });

  it("refuses Helm 2 and a file parameter outside the repository", async () => {
    const root = await checkout();
    const v2 = await renderError(renderHelm(input(root, { helm: { version: "v2" } })));
    expect(v2.message).toBe('spec.source.helm.version: "v2" is not supported; Tether renders with Helm 3 only: remove the field or set it to v3');
    expect((await renderHelm(input(root, { helm: { version: "v3" } }))).length).toBeGreaterThan(0);
    const outside = await renderError(renderHelm(input(root, { helm: { fileParameters: [{ name: "x", path: "../../../etc/hostname" }] } })));
    expect(outside.message).toContain("spec.source.helm.fileParameters x: ../../../etc/hostname is outside the repository");
    const missing = await renderError(renderHelm(input(root, { helm: { fileParameters: [{ name: "x", path: "nope.txt" }] } })));
    expect(missing.message).toBe("spec.source.helm.fileParameters x: charts/guestbook/nope.txt does not exist at this revision");
  });
});

describe("renderHelm: what stays out", () => {
  it.each([
    ["a value file outside the repository", "../../../etc/passwd", "leaves the repository"],
    ["a value file URL", "https://example.com/values.yaml", "is a URL; commit the values file to the repository"],
    ["a missing value file", "values-staging.yaml", "spec.source.helm.valueFiles: charts/guestbook/values-staging.yaml does not exist at this revision"],
  ])("refuses %s", async (_name, file, message) => {
    const err = await renderError(renderHelm(input(await checkout(), { helm: { valueFiles: [file] } })));
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).toContain(message);
  });

  it("refuses a chart with a symlink out of the repository (helm would read it into .Files)", async () => {
    const root = await checkout();
    await symlink("/etc/hostname", join(root, "charts", "guestbook", "templates", "host.txt"));
    const err = await renderError(renderHelm(input(root)));
    expect(err.message).toContain("symlink that points outside the repository");
  });

  it("without a chart fetcher, downloads no missing dependency: it says to vendor it", async () => {
    const root = await checkout();
    await rm(join(root, "charts", "guestbook", "charts"), { recursive: true });
    const err = await renderError(renderHelm(input(root)));
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).toMatch(/^helm template charts\/guestbook failed: .*redis-lite.*run `helm dependency build` and commit the charts\/ directory$/s);
  });

  it("reports template errors with paths relative to the repository", async () => {
    const root = await checkout({ "charts/guestbook/templates/broken.yaml": "{{ .Values.nope.deeper }}\n" });
    const err = await renderError(renderHelm(input(root)));
    expect(err.message).toMatch(/^helm template charts\/guestbook failed: .*broken\.yaml/);
    expect(err.message).not.toContain(root);
  });
});
