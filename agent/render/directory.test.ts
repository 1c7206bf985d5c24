import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorySource } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { compileGlob } from "./glob.ts";
import { renderDirectory, type DecryptFn, type RenderedObject } from "./index.ts";

let work: string;
let counter = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "tether-render-"));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Writes a fixture tree into a fresh directory and returns that directory. */
async function tree(files: Record<string, string>): Promise<string> {
  const root = join(work, `tree-${++counter}`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  await mkdir(root, { recursive: true });
  return root;
}

function configMap(name: string): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  key: value\n`;
}

/** `file: Kind/name`, the shape a reader of a render result cares about. */
function summary(objects: RenderedObject[]): string[] {
  return objects.map((o) => `${o.file}: ${o.manifest.kind}/${o.manifest.metadata.name ?? ""}`);
}

async function renderError(promise: Promise<unknown>): Promise<TetherError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  return err as TetherError;
}

// A small app laid out the way components/ apps are: manifests, a nested folder, non-manifests.
const APP = {
  "components/app/deploy.yaml": configMap("deploy"),
  "components/app/service.yml": configMap("service"),
  "components/app/extra.json": JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "extra" } }),
  "components/app/README.md": "# not a manifest\n",
  "components/app/.sops.yaml": "creation_rules: []\n",
  "components/app/.hidden/x.yaml": configMap("hidden"),
  "components/app/overlays/prod/patch.yaml": configMap("prod"),
  "components/app/overlays/staging.yaml": configMap("staging"),
  "components/other/elsewhere.yaml": configMap("elsewhere"),
};

describe("renderDirectory: which files", () => {
  it.each<{ name: string; directory?: DirectorySource; expected: string[] }>([
    {
      name: "reads only the top level without recurse, and skips hidden and non-manifest files",
      expected: ["deploy.yaml: ConfigMap/deploy", "extra.json: ConfigMap/extra", "service.yml: ConfigMap/service"],
    },
    {
      name: "descends into subdirectories with recurse, in path order",
      directory: { recurse: true },
      expected: [
        "deploy.yaml: ConfigMap/deploy",
        "extra.json: ConfigMap/extra",
        "overlays/prod/patch.yaml: ConfigMap/prod",
        "overlays/staging.yaml: ConfigMap/staging",
        "service.yml: ConfigMap/service",
      ],
    },
    {
      name: "keeps only included files, with '*' crossing directories as in Argo CD",
      directory: { recurse: true, include: "*.yaml" },
      expected: ["deploy.yaml: ConfigMap/deploy", "overlays/prod/patch.yaml: ConfigMap/prod", "overlays/staging.yaml: ConfigMap/staging"],
    },
    {
      name: "accepts a {a,b} list of globs",
      directory: { recurse: true, include: "{deploy.yaml,overlays/prod/*}" },
      expected: ["deploy.yaml: ConfigMap/deploy", "overlays/prod/patch.yaml: ConfigMap/prod"],
    },
    {
      name: "drops excluded files",
      directory: { recurse: true, exclude: "overlays/*" },
      expected: ["deploy.yaml: ConfigMap/deploy", "extra.json: ConfigMap/extra", "service.yml: ConfigMap/service"],
    },
    {
      name: "lets exclude win over include",
      directory: { include: "{deploy.yaml,service.yml}", exclude: "service.yml" },
      expected: ["deploy.yaml: ConfigMap/deploy"],
    },
  ])("$name", async ({ directory, expected }) => {
    const root = await tree(APP);
    const objects = await renderDirectory({ root, path: "components/app", directory });
    expect(summary(objects)).toEqual(expected.map((line) => `components/app/${line}`));
    expect(objects.every((o) => !o.decrypted)).toBe(true);
  });

  it("reads the repository root for an empty path or '.'", async () => {
    const root = await tree({ "a.yaml": configMap("a"), "sub/b.yaml": configMap("b") });
    expect(summary(await renderDirectory({ root, path: "" }))).toEqual(["a.yaml: ConfigMap/a"]);
    expect(summary(await renderDirectory({ root, path: "./", directory: { recurse: true } })))
      .toEqual(["a.yaml: ConfigMap/a", "sub/b.yaml: ConfigMap/b"]);
  });

  it("reads a symlinked file inside the repository but refuses one that leads outside", async () => {
    const root = await tree({ "shared/cm.yaml": configMap("shared"), "app/own.yaml": configMap("own") });
    await symlink("../shared/cm.yaml", join(root, "app/linked.yaml"));
    expect(summary(await renderDirectory({ root, path: "app" }))).toEqual(["app/linked.yaml: ConfigMap/shared", "app/own.yaml: ConfigMap/own"]);

    await writeFile(join(work, "secret.yaml"), configMap("stolen"));
    await symlink(join(work, "secret.yaml"), join(root, "app/steal.yaml"));
    const err = await renderError(renderDirectory({ root, path: "app" }));
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).toContain("'app/steal.yaml'");
    expect(err.message).toContain("outside the repository");
  });

  it.each([
    ["a '..' escape", "../elsewhere", /leaves the repository/],
    ["a missing path", "components/nope", /path 'components\/nope' does not exist at this revision: fix spec\.source\.path/],
    ["a file instead of a directory", "components/app/deploy.yaml", /is not a directory/],
  ])("refuses %s as the source path", async (_name, path, message) => {
    const root = await tree(APP);
    const err = await renderError(renderDirectory({ root, path }));
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).toMatch(message);
  });
});

describe("renderDirectory: what is in a file", () => {
  it.each<{ name: string; files: Record<string, string>; expected: string[] }>([
    {
      name: "splits multi-document YAML and skips empty and comment-only documents",
      files: { "all.yaml": `---\n${configMap("one")}---\n---\n# just a note\n---\n${configMap("two")}\n...\n` },
      expected: ["all.yaml: ConfigMap/one", "all.yaml: ConfigMap/two"],
    },
    {
      name: "reads a JSON object and a JSON List",
      files: {
        "list.json": JSON.stringify({
          apiVersion: "v1",
          kind: "List",
          items: [
            { apiVersion: "v1", kind: "Namespace", metadata: { name: "web" } },
            { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "web", namespace: "web" } },
          ],
        }, null, "\t"),
        "one.json": JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" } }),
      },
      expected: ["list.json: Namespace/web", "list.json: ServiceAccount/web", "one.json: Secret/s"],
    },
    {
      name: "reads JSON objects, one per document, in a YAML stream",
      files: { "cms.yaml": `${JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } })}\n---\n${configMap("b")}--- `
        + `${JSON.stringify({ apiVersion: "v1", kind: "List", items: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }] })}\n` },
      expected: ["cms.yaml: ConfigMap/a", "cms.yaml: ConfigMap/b", "cms.yaml: ConfigMap/c"],
    },
    {
      name: "flattens a YAML *List",
      files: { "cms.yaml": `apiVersion: v1\nkind: ConfigMapList\nitems:\n- ${configMap("a").replaceAll("\n", "\n  ").trimEnd()}\n` },
      expected: ["cms.yaml: ConfigMap/a"],
    },
    {
      name: "accepts generateName, as hooks use it",
      files: { "hook.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n" },
      expected: ["hook.yaml: Job/"],
    },
    {
      name: "resolves anchors and merge keys",
      files: { "m.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\n  labels: &l {app: web}\n  annotations:\n    <<: *l\n" },
      expected: ["m.yaml: ConfigMap/m"],
    },
  ])("$name", async ({ files, expected }) => {
    const root = await tree(files);
    expect(summary(await renderDirectory({ root, path: "" }))).toEqual(expected);
  });

  it("keeps the content of a document as written", async () => {
    const root = await tree({ "m.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\n  labels: &l {app: web}\n  annotations:\n    <<: *l\ndata:\n  on: 'on'\n  port: \"8080\"\n" });
    const [object] = await renderDirectory({ root, path: "" });
    expect(object!.manifest).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "m", labels: { app: "web" }, annotations: { app: "web" } },
      data: { on: "on", port: "8080" },
    });
  });

  it.each<{ name: string; files: Record<string, string>; message: RegExp }>([
    {
      name: "a YAML syntax error, with file and line",
      files: { "components/app/deploy.yaml": `${configMap("ok")}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n   labels: {}\n` },
      message: /^components\/app\/deploy\.yaml:11: /,
    },
    {
      name: "a JSON syntax error, with file and line",
      files: { "components/app/x.json": "{\n  \"apiVersion\": \"v1\",\n  \"kind\": [\n}\n" },
      message: /^components\/app\/x\.json:4: /,
    },
    {
      name: "a document without kind, with file, line and document number",
      files: { "components/app/deploy.yaml": `${configMap("ok")}---\napiVersion: v1\nmetadata:\n  name: nokind\n` },
      message: /^components\/app\/deploy\.yaml:8: document 2 has no kind: every manifest needs apiVersion, kind and metadata\.name$/,
    },
    {
      name: "a JSON document without kind after a YAML one, with the line its object starts on",
      files: { "components/app/deploy.yaml": `${configMap("ok")}---\n\n{"apiVersion":"v1","metadata":{"name":"nokind"}}\n` },
      message: /^components\/app\/deploy\.yaml:9: document 2 has no kind: /,
    },
    {
      name: "a JSON object with a key twice, as the YAML parser refuses it",
      files: { "components/app/x.json": '{"apiVersion":"v1","kind":"ConfigMap",\n"kind":"Secret","metadata":{"name":"x"}}' },
      message: /^components\/app\/x\.json:\d+: .*unique/,
    },
    {
      name: "a document without apiVersion and name",
      files: { "components/app/deploy.yaml": "kind: ConfigMap\nmetadata: {}\n" },
      message: /^components\/app\/deploy\.yaml:1: document 1 has no apiVersion, metadata\.name: /,
    },
    {
      name: "a List item without a name",
      files: { "components/app/list.yaml": "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {}\n" },
      message: /^components\/app\/list\.yaml:1: document 1, item 1 has no metadata\.name/,
    },
    {
      name: "a document that is not a mapping",
      files: { "components/app/x.yaml": "- just\n- a list\n" },
      message: /^components\/app\/x\.yaml:1: document 1 is not a Kubernetes object/,
    },
  ])("reports $name as RenderFailed", async ({ files, message }) => {
    const root = await tree(files);
    const err = await renderError(renderDirectory({ root, path: "components/app" }));
    expect(err.reason).toBe("RenderFailed");
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain(root);
  });

  it("reports a malformed include glob with the field to fix", async () => {
    const root = await tree(APP);
    const err = await renderError(renderDirectory({ root, path: "components/app", directory: { include: "{a.yaml,b.yaml" } }));
    expect(err.message).toBe("spec.source.directory.include '{a.yaml,b.yaml' has a '{' without its '}': fix the pattern");
  });
});

describe("renderDirectory: SOPS files", () => {
  const encrypted = [
    "apiVersion: v1",
    "kind: Secret",
    "metadata:",
    "    name: db",
    "stringData:",
    "    password: ENC[AES256_GCM,data:Zm9v,iv:aXY=,tag:dGFn,type:str]",
    "sops:",
    "    age:",
    "        - recipient: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq",
    "    mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]",
    "    version: 3.9.0",
    "",
  ].join("\n");
  const plaintext = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n";

  it("hands the whole original file to decrypt and renders the plaintext, marked decrypted", async () => {
    const root = await tree({ "app/secret.enc.yaml": encrypted, "app/cm.yaml": configMap("plain") });
    const calls: [string, string, string][] = [];
    const decrypt: DecryptFn = (text, file, format) => {
      calls.push([text, file, format]);
      return Promise.resolve(plaintext);
    };
    const objects = await renderDirectory({ root, path: "app", decrypt });
    expect(calls).toEqual([[encrypted, "app/secret.enc.yaml", "yaml"]]);
    expect(objects.map((o) => [o.file, o.decrypted])).toEqual([["app/cm.yaml", false], ["app/secret.enc.yaml", true]]);
    expect(objects[1]!.manifest.stringData).toEqual({ password: "hunter2" });
  });

  it("tells decrypt that a .json file is JSON", async () => {
    const json = JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "j" }, data: { k: "ENC[...]" }, sops: { version: "3.9.0" } });
    const root = await tree({ "s.json": json });
    const formats: string[] = [];
    const decrypt: DecryptFn = (_text, _file, format) => {
      formats.push(format);
      return Promise.resolve(JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "j" }, data: { k: "dg==" } }));
    };
    const objects = await renderDirectory({ root, path: "", decrypt });
    expect(formats).toEqual(["json"]);
    expect(objects[0]!.decrypted).toBe(true);
  });

  it("refuses an encrypted file when no decryption is configured, naming the file", async () => {
    const root = await tree({ "app/secret.enc.yaml": encrypted });
    const err = await renderError(renderDirectory({ root, path: "app" }));
    expect(err.reason).toBe("DecryptionFailed");
    expect(err.object).toBe("app/secret.enc.yaml");
    expect(err.message).toMatch(/^app\/secret\.enc\.yaml is encrypted with SOPS but no decryption is configured/);
  });

  it("names the file when decryption fails", async () => {
    const root = await tree({ "app/secret.enc.yaml": encrypted });
    const decrypt: DecryptFn = () => Promise.reject(new Error("no matching age identity"));
    const err = await renderError(renderDirectory({ root, path: "app", decrypt }));
    expect(err.reason).toBe("DecryptionFailed");
    expect(err.message).toBe("app/secret.enc.yaml: cannot decrypt: no matching age identity");
  });

  it("never quotes decrypted text in a parse error", async () => {
    const root = await tree({ "app/secret.enc.yaml": encrypted });
    const decrypt: DecryptFn = () => Promise.resolve("apiVersion: v1\nkind: Secret\nstringData:\n  password: hunter2\n   broken: [\n");
    const err = await renderError(renderDirectory({ root, path: "app", decrypt }));
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).toMatch(/^app\/secret\.enc\.yaml:\d+: the decrypted content is not valid YAML \([A-Z_]+\)$/);
    expect(err.message).not.toContain("hunter2");
  });
});

describe("include/exclude globs (Argo CD semantics)", () => {
  it.each([
    ["*.yaml", "a.yaml", true],
    ["*.yaml", "sub/dir/a.yaml", true],
    ["*.yaml", "a.json", false],
    ["config.json", "sub/config.json", false],
    ["{a.yaml,b.yaml}", "b.yaml", true],
    ["{a.yaml,b.yaml}", "c.yaml", false],
    ["{env-*/*,base/{x,y}.yaml}", "base/y.yaml", true],
    ["deploy-?.yaml", "deploy-1.yaml", true],
    ["deploy-[0-9].yaml", "deploy-a.yaml", false],
    ["deploy-[!0-9].yaml", "deploy-a.yaml", true],
    ["a.(yaml)", "a.(yaml)", true],
    ["\\{x\\}.yaml", "{x}.yaml", true],
  ])("'%s' against '%s' is %s", (glob, path, matches) => {
    expect(compileGlob(glob, "include").test(path)).toBe(matches);
  });
});
