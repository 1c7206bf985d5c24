import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathWithTools } from "../../test/harness/paths.ts";
import type { Application, ApplicationSource } from "../api/types.ts";
import { ageKey, encrypt, type AgeKey } from "../decrypt/testdata/keys.ts";
import { TetherError } from "../errors.ts";
import { detectType, renderApplication } from "./application.ts";
import { TESTDATA, copyFixture, emptyCheckout, writeTree } from "./testdata/checkout.ts";

const cleanups: (() => Promise<void>)[] = [];
let key: AgeKey;
let root: string;

const CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n";

beforeAll(async () => {
  process.env.PATH = pathWithTools();
  key = await ageKey();
  const checkout = await emptyCheckout();
  cleanups.push(checkout.cleanup);
  root = checkout.root;
  await writeTree(root, {
    "apps/plain/cm.yaml": CONFIGMAP,
    "apps/unencrypted/cm.yaml": CONFIGMAP,
    "apps/plain/secret.enc.yaml": await encrypt("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: pw\n", { recipient: key.recipient, format: "yaml" }),
    "apps/plain/kustomize-like/kustomization.yaml": "resources: []\n",
  });
  await copyFixture("ksops/files", root, { to: "apps/shop", recipient: key.recipient });
  await cp(join(TESTDATA, "helm", "guestbook"), join(root, "charts", "guestbook"), { recursive: true });
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

function app(source: Omit<ApplicationSource, "repoURL">, opts: { name?: string; namespace?: string } = {}): Application {
  return {
    apiVersion: "tether.dev/v1alpha1", kind: "Application",
    metadata: { name: opts.name ?? "shop", namespace: "tether-system" },
    spec: { project: "default", source: { repoURL: "https://git.example.com/platform.git", ...source }, destination: { namespace: opts.namespace ?? "shop" } },
  };
}

async function renderError(promise: Promise<unknown>): Promise<TetherError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  return err as TetherError;
}

describe("renderApplication dispatches on the source", () => {
  it("renders a directory of manifests, decrypting SOPS files with the Application's keys", async () => {
    const objects = await renderApplication({ root, app: app({ path: "apps/plain" }), decryptionKeys: [key.identity] });
    expect(objects.map((o) => [o.manifest.metadata.name, o.decrypted])).toEqual([["plain", false], ["db", true]]);
  });

  it("reads the Application's keys only for a render that needs them: an encrypted file, a kustomization", async () => {
    const asked: string[] = [];
    const keys = (path: string) => () => {
      asked.push(path);
      return Promise.resolve([key.identity]);
    };
    for (const path of ["apps/unencrypted", "charts/guestbook", "apps/plain", "apps/shop"]) {
      await renderApplication({ root, app: app({ path }), decryptionKeys: keys(path) });
    }
    expect(asked).toEqual(["apps/plain", "apps/shop"]);
  });

  it("renders a kustomization, with KSOPS generators decrypted", async () => {
    const objects = await renderApplication({ root, app: app({ path: "apps/shop", kustomize: { namePrefix: "p-" } }), decryptionKeys: [key.identity] });
    expect(objects.map((o) => [o.manifest.kind, o.manifest.metadata.name, o.decrypted])).toEqual([
      ["ConfigMap", "p-settings", false], ["Secret", "p-committed-in-plaintext", false], ["Secret", "p-mysecret", true],
    ]);
  });

  it("renders a chart with the Application's name as release name and its destination namespace", async () => {
    const objects = await renderApplication({ root, app: app({ path: "charts/guestbook" }, { name: "gb", namespace: "web" }), decryptionKeys: [] });
    expect(objects.find((o) => o.manifest.kind === "Deployment")?.manifest.metadata).toMatchObject({ name: "gb-ui", namespace: "web" });
    const renamed = await renderApplication({ root, app: app({ path: "charts/guestbook", helm: { releaseName: "guestbook" } }), decryptionKeys: [] });
    expect(renamed.map((o) => o.manifest.metadata.name)).toContain("guestbook-ui");
  });

  it("follows an explicit source type over the files found, as Argo CD does", async () => {
    const objects = await renderApplication({ root, app: app({ path: "apps/plain", directory: { recurse: false } }), decryptionKeys: [key.identity] });
    expect(objects).toHaveLength(2);
    const err = await renderError(renderApplication({ root, app: app({ path: "apps/plain", directory: {}, kustomize: {} }), decryptionKeys: [] }));
    expect(err.message).toBe("spec.source sets directory and kustomize: an Application has one source type, keep only one");
  });

  it("says when the path does not exist", async () => {
    const err = await renderError(renderApplication({ root, app: app({ path: "apps/gone" }), decryptionKeys: [] }));
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).toContain("path apps/gone does not exist");
  });

  it.each([
    ["apps/shop", "kustomize"], ["charts/guestbook", "helm"], ["apps/plain", "directory"], ["apps/gone", "directory"],
  ])("detects %s as %s", async (path, type) => {
    expect(await detectType(join(root, path))).toBe(type);
  });

  it.each([
    ["a kustomization.yaml that links to a file", "kustomization.yaml", "file", "kustomize"],
    ["a Chart.yaml that links to a file", "Chart.yaml", "file", "helm"],
    ["a kustomization.yaml that is a directory", "kustomization.yaml", "dir", "directory"],
    ["a kustomization.yaml that links to nothing", "kustomization.yaml", "dangling", "directory"],
  ] as const)("detects %s as %s", async (_what, name, target, type) => {
    const dir = await mkdtemp(join(tmpdir(), "tether-detect-"));
    try {
      await writeFile(join(dir, "real.yaml"), "resources: []\n");
      await mkdir(join(dir, "sub"));
      if (target === "dir") await mkdir(join(dir, name));
      else await symlink(target === "file" ? "real.yaml" : "missing.yaml", join(dir, name));
      expect(await detectType(dir)).toBe(type);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
