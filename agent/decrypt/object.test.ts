import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { pathWithTools, toolPath } from "../../test/harness/paths.ts";
import type { Manifest } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { decryptObject, isSopsEncrypted, plaintextsOf, withPlaintexts } from "./object.ts";
import { ageKey, encrypt, type AgeKey } from "./testdata/keys.ts";

// Field order as people write it (type before stringData), not the order kustomize prints.
const SECRET = `apiVersion: v1
kind: Secret
metadata:
  name: api-token
  labels:
    app: shop
type: Opaque
stringData:
  token: tok-8c1f-plaintext
  retries: "3"
`;

let key: AgeKey;
let work: string;

beforeAll(async () => {
  process.env.PATH = pathWithTools();
  key = await ageKey();
  work = await mkdtemp(join(tmpdir(), "tether-object-test-"));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** What `kustomize build` prints for a kustomization listing `file`, with `namePrefix`. */
async function kustomizeBuild(file: string, namePrefix: string): Promise<Manifest> {
  const dir = join(work, `k-${Math.random().toString(36).slice(2)}`);
  await mkdir(dir);
  await writeFile(join(dir, "secret.enc.yaml"), file);
  await writeFile(join(dir, "kustomization.yaml"), `namePrefix: ${namePrefix}\nresources:\n- secret.enc.yaml\n`);
  const { stdout } = await execa(toolPath("kustomize"), ["build", dir]);
  return parse(stdout) as Manifest;
}

describe("decrypting one object after a build", () => {
  it.each([["encrypted_regex", "^(data|stringData)$"], ["whole-file", undefined]])(
    "verifies the MAC of a %s YAML file re-serialized to JSON, as Flux does", async (_name, encryptedRegex) => {
      const ciphertext = await encrypt(SECRET, { recipient: key.recipient, format: "yaml", ...(encryptedRegex ? { encryptedRegex } : {}) });
      const object = parse(ciphertext) as Manifest;
      expect(isSopsEncrypted(object)).toBe(true);
      expect(await decryptObject(object, { file: "secret.enc.yaml", ageKeys: [key.identity] })).toEqual(parse(SECRET));
    });

  it("cannot verify kustomize's output by itself: kustomize reorders fields, which the MAC covers", async () => {
    const ciphertext = await encrypt(SECRET, { recipient: key.recipient, format: "yaml", encryptedRegex: "^(data|stringData)$" });
    const built = await kustomizeBuild(ciphertext, "");
    const err = await decryptObject(built, { file: "secret.enc.yaml", ageKeys: [key.identity] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TetherError);
    expect((err as TetherError).message).toContain("MAC mismatch");
  });

  it("decrypts kustomize's output from the committed file, keeping what kustomize changed", async () => {
    const ciphertext = await encrypt(SECRET, { recipient: key.recipient, format: "yaml", encryptedRegex: "^(data|stringData)$" });
    const built = await kustomizeBuild(ciphertext, "prod-");
    const plaintexts = await plaintextsOf({ file: "apps/shop/secret.enc.yaml", text: ciphertext, ageKeys: [key.identity] });
    const decrypted = withPlaintexts(built, plaintexts, "apps/shop/secret.enc.yaml");
    expect(decrypted).toEqual({ ...parse(SECRET), metadata: { name: "prod-api-token", labels: { app: "shop" } } });
    expect(decrypted).not.toHaveProperty("sops");
  });

  it("refuses an encrypted value that is not from the committed file (changed or copied by a patch)", async () => {
    const ciphertext = await encrypt(SECRET, { recipient: key.recipient, format: "yaml", encryptedRegex: "^(data|stringData)$" });
    const other = parse(await encrypt(SECRET, { recipient: key.recipient, format: "yaml", encryptedRegex: "^(data|stringData)$" })) as Manifest;
    const built = await kustomizeBuild(ciphertext, "prod-");
    const patched = { ...built, stringData: { ...(built.stringData as object), token: (other.stringData as { token: string }).token } };
    const plaintexts = await plaintextsOf({ file: "secret.enc.yaml", text: ciphertext, ageKeys: [key.identity] });
    expect(() => withPlaintexts(patched, plaintexts, "secret.enc.yaml")).toThrow(/secret\.enc\.yaml: an encrypted value was changed by kustomize/);
  });

  it("refuses a committed file that was tampered with", async () => {
    const ciphertext = await encrypt(SECRET, { recipient: key.recipient, format: "yaml", encryptedRegex: "^(data|stringData)$" });
    const tampered = ciphertext.replace("app: shop", "app: evil");
    const err = await plaintextsOf({ file: "secret.enc.yaml", text: tampered, ageKeys: [key.identity] }).catch((e: unknown) => e);
    expect((err as TetherError).reason).toBe("DecryptionFailed");
    expect((err as TetherError).message).toContain("MAC mismatch");
  });
});
