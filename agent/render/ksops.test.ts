import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { pathWithTools } from "../../test/harness/paths.ts";
import { ageKey, encrypt, type AgeKey } from "../decrypt/testdata/keys.ts";
import { TetherError } from "../errors.ts";
import { renderKustomize } from "./kustomize.ts";
import { TESTDATA, copyFixture, emptyCheckout, writeTree } from "./testdata/checkout.ts";

let key: AgeKey;
let stranger: AgeKey;
/** The renderers' scratch space for this file: checked empty (and free of plaintext) after each test. */
let scratchRoot: string;
/** Where this file's checkouts live: not in the scratch space. */
let checkoutParent: string;
const checkouts: (() => Promise<void>)[] = [];

beforeAll(async () => {
  process.env.PATH = pathWithTools();
  checkoutParent = await mkdtemp(join(tmpdir(), "tether-ksops-test-checkouts-"));
  scratchRoot = await mkdtemp(join(tmpdir(), "tether-ksops-test-tmp-"));
  process.env.TMPDIR = scratchRoot;
  [key, stranger] = await Promise.all([ageKey(), ageKey()]);
});

afterEach(async () => {
  // Every scratch directory of a render is gone once it returns, whether it failed or not.
  expect(await readdir(scratchRoot)).toEqual([]);
});

afterAll(async () => {
  for (const cleanup of checkouts) await cleanup();
  await rm(scratchRoot, { recursive: true, force: true });
  await rm(checkoutParent, { recursive: true, force: true });
});

async function checkoutOf(fixture: string, opts: { to?: string } = {}): Promise<string> {
  const { root, cleanup } = await emptyCheckout(checkoutParent);
  checkouts.push(cleanup);
  await copyFixture(fixture, root, { ...opts, recipient: key.recipient });
  return root;
}

async function want(fixture: string): Promise<unknown[]> {
  return parseAllDocuments(await readFile(join(TESTDATA, fixture, "want.yaml"), "utf8")).map((d) => d.toJS() as unknown);
}

function name(manifest: unknown): string {
  return (manifest as { metadata: { name: string } }).metadata.name;
}

async function renderError(promise: Promise<unknown>): Promise<TetherError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  return err as TetherError;
}

/** Every file under `dir` whose content holds `needle`. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(needle)) found.push(path);
  }
  return found;
}

describe("KSOPS generators render what KSOPS renders", () => {
  it("decrypts `files:` (KSOPS v4 KRM style) and marks only those objects decrypted", async () => {
    const root = await checkoutOf("ksops/files", { to: "apps/shop" });
    const objects = await renderKustomize({ root, path: "apps/shop", ageKeys: [key.identity] });
    expect(objects.map((o) => [o.manifest.kind, o.manifest.metadata.name, o.file, o.decrypted])).toEqual([
      ["ConfigMap", "settings", "apps/shop/configmap.yaml", false],
      ["Secret", "committed-in-plaintext", "apps/shop/plain-secret.yaml", false],
      ["Secret", "mysecret", "apps/shop/secret-generator.yaml", true],
    ]);
    expect(objects.find((o) => o.decrypted)?.manifest).toEqual((await want("ksops/files"))[0]);
  });

  it("runs generators of a base for an overlay, which transforms their output like any object", async () => {
    const root = await checkoutOf("ksops/files", { to: "apps/shop/base" });
    await writeTree(root, { "apps/shop/prod/kustomization.yaml": "resources:\n- ../base\nnamespace: prod\n" });
    const objects = await renderKustomize({ root, path: "apps/shop/prod", ageKeys: [key.identity] });
    expect(objects.map((o) => [o.manifest.metadata.name, o.manifest.metadata.namespace, o.file, o.decrypted])).toEqual([
      ["settings", "prod", "apps/shop/base/configmap.yaml", false],
      ["committed-in-plaintext", "prod", "apps/shop/base/plain-secret.yaml", false],
      ["mysecret", "prod", "apps/shop/base/secret-generator.yaml", true],
    ]);
  });

  it("builds the Secrets of `secretFrom:` (files, key=path, binaryFiles, envs, metadata, type) as KSOPS does", async () => {
    const root = await checkoutOf("ksops/secret-from");
    const objects = await renderKustomize({ root, path: ".", ageKeys: [key.identity] });
    const byName = (a: unknown, b: unknown): number => name(a).localeCompare(name(b));
    expect(objects.map((o) => o.manifest).sort(byName)).toEqual((await want("ksops/secret-from")).sort(byName));
    expect(objects.every((o) => o.decrypted && o.file === "generate-resources.yaml")).toBe(true);
  });

  it("gives a generated Secret marked needs-hash the name suffix KSOPS's own test expects", async () => {
    const root = await checkoutOf("ksops/hash");
    const objects = await renderKustomize({ root, path: ".", ageKeys: [key.identity] });
    expect(objects.map((o) => o.manifest)).toEqual(await want("ksops/hash"));
    expect(objects[0]?.manifest.metadata.name).toBe("mysecret-hash-h55dbmfg7b");
  });

  it("replaces a base Secret with the behavior annotation", async () => {
    const root = await checkoutOf("ksops/behaviors");
    const objects = await renderKustomize({ root, path: "overlay", ageKeys: [key.identity] });
    expect(objects.map((o) => o.manifest)).toEqual(await want("ksops/behaviors"));
    expect(objects[0]?.decrypted).toBe(true);
  });

  it("runs KSOPS' own KRM corpus generator of apiVersion viaduct.ai/v2 (test/krm/behaviors) as KSOPS does", async () => {
    const root = await checkoutOf("ksops/behaviors-v2");
    const objects = await renderKustomize({ root, path: ".", ageKeys: [key.identity] });
    expect(objects.map((o) => o.manifest)).toEqual(await want("ksops/behaviors-v2"));
    expect(objects[0]?.decrypted).toBe(true);
  });

  it("applies the Application's kustomize options to generated Secrets too", async () => {
    const root = await checkoutOf("ksops/hash");
    const objects = await renderKustomize({ root, path: ".", ageKeys: [key.identity], kustomize: { namePrefix: "prod-", commonLabels: { team: "shop" } } });
    expect(objects[0]?.manifest.metadata).toMatchObject({ name: expect.stringMatching(/^prod-mysecret-hash-[a-z0-9]{10}$/) as unknown, labels: { team: "shop" } });
  });

  it("leaves KSOPS generator files without their exec-function annotation and nothing else changed", async () => {
    const root = await checkoutOf("ksops/files");
    await renderKustomize({ root, path: ".", ageKeys: [key.identity] });
    const generator = await readFile(join(root, "secret-generator.yaml"), "utf8");
    expect(generator).not.toContain("config.kubernetes.io/function");
    expect(generator).toContain("- ./secret.enc.yaml");
  });
});

describe("KSOPS failures", () => {
  it("without a key: DecryptionFailed naming the file and its recipient", async () => {
    const root = await checkoutOf("ksops/files", { to: "apps/shop" });
    const err = await renderError(renderKustomize({ root, path: "apps/shop", ageKeys: [] }));
    expect(err.reason).toBe("DecryptionFailed");
    expect(err.object).toBe("apps/shop/secret.enc.yaml");
    expect(err.message).toContain("apps/shop/secret.enc.yaml: is SOPS-encrypted for");
    expect(err.message).toContain(key.recipient);
  });

  it("with the wrong key: DecryptionFailed naming the file and its recipient", async () => {
    const root = await checkoutOf("ksops/secret-from");
    const err = await renderError(renderKustomize({ root, path: ".", ageKeys: [stranger.identity] }));
    expect(err.reason).toBe("DecryptionFailed");
    expect(err.message).toMatch(/^secret\.enc\.(yaml|env): none of the 1 configured age key can decrypt it; it is encrypted for /);
    expect(err.message).toContain(key.recipient);
  });

  it("refuses a tampered file (MAC mismatch)", async () => {
    const root = await checkoutOf("ksops/files");
    const file = join(root, "secret.enc.yaml");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(file, (await readFile(file, "utf8")).replace("name: mysecret", "name: mysecret2"));
    const err = await renderError(renderKustomize({ root, path: ".", ageKeys: [key.identity] }));
    expect(err.reason).toBe("DecryptionFailed");
    expect(err.message).toContain("secret.enc.yaml: was modified after it was encrypted (MAC mismatch)");
  });

  it("refuses a generator that reads a file outside the repository", async () => {
    const { root, cleanup } = await emptyCheckout(checkoutParent);
    checkouts.push(cleanup);
    await writeTree(root, {
      "app/kustomization.yaml": "generators:\n- gen.yaml\n",
      "app/gen.yaml": "apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: escape\nfiles:\n- ../../../../../../etc/hostname\n",
    });
    const err = await renderError(renderKustomize({ root, path: "app", ageKeys: [key.identity] }));
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).toContain("is outside the repository");
  });

  it("does not run other exec functions a repository asks for", async () => {
    const { root, cleanup } = await emptyCheckout(checkoutParent);
    checkouts.push(cleanup);
    await writeTree(root, {
      "kustomization.yaml": "generators:\n- gen.yaml\n",
      "gen.yaml": "apiVersion: example.com/v1\nkind: Anything\nmetadata:\n  name: x\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: /bin/sh\n",
    });
    const err = await renderError(renderKustomize({ root, path: ".", ageKeys: [key.identity] }));
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).not.toContain(root);
  });
});

describe("plaintext never leaks", () => {
  const password = `pw-${randomBytes(12).toString("hex")}`;
  const env = `env-${randomBytes(12).toString("hex")}`;

  async function leakyCheckout(): Promise<string> {
    const { root, cleanup } = await emptyCheckout(checkoutParent);
    checkouts.push(cleanup);
    const secret = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ${password}\n`;
    await writeTree(root, {
      "app/kustomization.yaml": "resources:\n- whole-file.enc.yaml\ngenerators:\n- gen.yaml\n",
      "app/gen.yaml": "apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: gen\nfiles:\n- db.enc.yaml\nsecretFrom:\n- metadata:\n    name: from-env\n  envs:\n  - app.enc.env\n",
      "app/db.enc.yaml": await encrypt(secret, { recipient: key.recipient, format: "yaml", encryptedRegex: "^(data|stringData)$" }),
      "app/whole-file.enc.yaml": await encrypt(secret.replace("name: db", "name: db-resource"), { recipient: key.recipient, format: "yaml", encryptedRegex: "^(data|stringData)$" }),
      "app/app.enc.env": await encrypt(`TOKEN=${env}\n`, { recipient: key.recipient, format: "dotenv" }),
    });
    return root;
  }

  it("decrypts in memory only: no file in the checkout or the scratch space holds plaintext", async () => {
    const root = await leakyCheckout();
    const objects = await renderKustomize({ root, path: "app", ageKeys: [key.identity] });
    expect(JSON.stringify(objects)).toContain(password);
    expect(JSON.stringify(objects)).toContain(env);
    for (const needle of [password, env]) {
      expect(await filesContaining(root, needle)).toEqual([]);
      expect(await filesContaining(scratchRoot, needle)).toEqual([]);
    }
  });

  it("marks a whole-file encrypted resource decrypted, with kustomize's changes kept", async () => {
    const root = await leakyCheckout();
    const objects = await renderKustomize({ root, path: "app", ageKeys: [key.identity], kustomize: { namePrefix: "x-" } });
    const resource = objects.find((o) => o.manifest.metadata.name === "x-db-resource");
    expect(resource).toMatchObject({ file: "app/whole-file.enc.yaml", decrypted: true, manifest: { stringData: { password } } });
    expect(resource?.manifest).not.toHaveProperty("sops");
  });

  it("puts no plaintext in any failure message", async () => {
    const root = await leakyCheckout();
    const failures = await Promise.all([
      renderError(renderKustomize({ root, path: "app", ageKeys: [] })),
      renderError(renderKustomize({ root, path: "app", ageKeys: [stranger.identity] })),
    ]);
    for (const err of failures) {
      expect(err.message).not.toContain(password);
      expect(err.message).not.toContain(env);
      expect(err.message).not.toContain(scratchRoot);
      expect(err.message).not.toContain(root);
    }
    expect(await stat(join(root, "app", "db.enc.yaml")).then((s) => s.isFile())).toBe(true);
  });
});
