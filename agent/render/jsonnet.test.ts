import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathWithTools } from "../../test/harness/paths.ts";
import { TetherError } from "../errors.ts";
import { renderDirectory } from "./directory.ts";
import type { RenderedObject } from "./types.ts";
import { jsonnetError } from "./jsonnet.ts";
import { copyFixture } from "./testdata/checkout.ts";

let work: string;
let counter = 0;

beforeAll(async () => {
  process.env.PATH = pathWithTools();
  work = await mkdtemp(join(tmpdir(), "tether-jsonnet-"));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function tree(files: Record<string, string>): Promise<string> {
  const root = join(work, `tree-${++counter}`);
  await mkdir(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

async function fixture(name: string): Promise<string> {
  const root = join(work, `fixture-${++counter}`);
  await copyFixture(`jsonnet/${name}`, root, { to: name, recipient: "" });
  return root;
}

function summary(objects: RenderedObject[]): string[] {
  return objects.map((o) => `${o.file}: ${o.manifest.kind}/${o.manifest.metadata.name ?? ""}`);
}

async function failure(promise: Promise<unknown>): Promise<TetherError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  return err as TetherError;
}

describe("Jsonnet in directory sources", () => {
  it("renders argocd-example-apps' jsonnet-guestbook (an array importing a libsonnet) as Argo CD does", async () => {
    const root = await fixture("jsonnet-guestbook");
    const objects = await renderDirectory({ root, path: "jsonnet-guestbook" });
    expect(summary(objects)).toEqual([
      "jsonnet-guestbook/guestbook-ui.jsonnet: Service/jsonnet-guestbook-ui",
      "jsonnet-guestbook/guestbook-ui.jsonnet: Deployment/jsonnet-guestbook-ui",
    ]);
    expect(objects[1]?.manifest).toMatchObject({ spec: { replicas: 1, template: { spec: { containers: [{ image: "gcr.io/google-samples/gb-frontend:v5" }] } } } });
  });

  it("passes directory.jsonnet.tlas as strings or code (jsonnet-guestbook-tla)", async () => {
    const root = await fixture("jsonnet-guestbook-tla");
    const objects = await renderDirectory({
      root, path: "jsonnet-guestbook-tla",
      directory: { jsonnet: { tlas: [{ name: "name", value: "shop" }, { name: "replicas", value: "3", code: true }] } },
    });
    expect(summary(objects)).toEqual(["jsonnet-guestbook-tla/guestbook-ui.jsonnet: Service/shop", "jsonnet-guestbook-tla/guestbook-ui.jsonnet: Deployment/shop"]);
    expect(objects[1]?.manifest).toMatchObject({ spec: { replicas: 3 } });
  });

  it("reads extVars and finds imports in directory.jsonnet.libs (relative to the repository root)", async () => {
    const root = await tree({
      "vendor/k.libsonnet": "{ cm(name, v):: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: name }, data: { v: v } } }\n",
      "app/main.jsonnet": "local k = import 'k.libsonnet';\nk.cm(std.extVar('env'), std.toString(std.extVar('n') + 1))\n",
      "app/plain.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n",
    });
    const objects = await renderDirectory({
      root, path: "app",
      directory: { jsonnet: { libs: ["vendor"], extVars: [{ name: "env", value: "prod" }, { name: "n", value: "41", code: true }] } },
    });
    expect(summary(objects)).toEqual(["app/main.jsonnet: ConfigMap/prod", "app/plain.yaml: ConfigMap/plain"]);
    expect(objects[0]?.manifest.data).toEqual({ v: "42" });
  });

  it("leaves .libsonnet files to imports and applies include/exclude to .jsonnet files", async () => {
    const root = await tree({
      "a.jsonnet": "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }\n",
      "b.jsonnet": "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } }\n",
      "lib.libsonnet": "error 'never evaluated on its own'\n",
    });
    const objects = await renderDirectory({ root, path: ".", directory: { exclude: "b.jsonnet" } });
    expect(summary(objects)).toEqual(["a.jsonnet: ConfigMap/a"]);
  });

  it("reports a syntax error with the file and line", async () => {
    const root = await tree({ "app/broken.jsonnet": "{\n  a: 1,\n  b: ,\n}\n" });
    const err = await failure(renderDirectory({ root, path: "app" }));
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).toMatch(/^app\/broken\.jsonnet:3: /);
    expect(err.object).toBe("app/broken.jsonnet");
  });

  it("reports a runtime error in an imported file at that file's line", async () => {
    const root = await tree({
      "app/main.jsonnet": "local l = import 'l.libsonnet';\nl.x\n",
      "app/l.libsonnet": "{\n  x: error 'values.replicas must be set',\n}\n",
    });
    const err = await failure(renderDirectory({ root, path: "app" }));
    expect(err.message).toBe("app/l.libsonnet:2: values.replicas must be set");
  });

  it("refuses imports outside the repository, by absolute path or symlink", async () => {
    const outside = await tree({ "secret.txt": "agent-only\n" });
    const root = await tree({ "app/a.jsonnet": `{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { s: importstr '${join(outside, "secret.txt")}' } }\n` });
    const err = await failure(renderDirectory({ root, path: "app" }));
    expect(err.message).toMatch(/^app\/a\.jsonnet:1: import .* is outside the repository/);
    expect(err.message).not.toContain("agent-only");

    const linked = await tree({ "app/b.jsonnet": "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' }, data: { s: importstr 'l.txt' } }\n" });
    await symlink(join(outside, "secret.txt"), join(linked, "app/l.txt"));
    const viaLink = await failure(renderDirectory({ root: linked, path: "app" }));
    expect(viaLink.message).toMatch(/outside the repository/);
  });

  it("refuses a value that is not a manifest, naming the file", async () => {
    const root = await tree({ "x.jsonnet": "[1]\n" });
    const err = await failure(renderDirectory({ root, path: "." }));
    expect(err.message).toMatch(/^x\.jsonnet:1: document 1 is not a Kubernetes object/);
  });

  it("refuses a library directory outside the checkout", async () => {
    const root = await tree({ "a.jsonnet": "{}\n" });
    const err = await failure(renderDirectory({ root, path: ".", directory: { jsonnet: { libs: ["../elsewhere"] } } }));
    expect(err.reason).toBe("RenderFailed");
  });
});

describe("jsonnetError", () => {
  it.each([
    ["STATIC", "app/x.jsonnet:3:6-7 Unexpected: \",\" while parsing terminal\n\n  b: ,\n", "app/x.jsonnet:3: Unexpected: \",\" while parsing terminal"],
    ["RUNTIME", "RUNTIME ERROR: boom\n\tapp/x.jsonnet:2:5-17\tobject <anonymous>\n\tField \"a\"\n", "app/x.jsonnet:2: boom"],
  ])("turns a %s error into file:line: message", (_kind, stderr, message) => {
    expect(jsonnetError(stderr, "app/x.jsonnet").message).toBe(message);
  });
});
