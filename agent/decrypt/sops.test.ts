import { describe, expect, it, beforeAll } from "vitest";
import { parse } from "yaml";
import { toolPath } from "../../test/harness/paths.ts";
import { TetherError } from "../errors.ts";
import { decryptBytes, decryptText, formatForPath, recipients, sopsDecryptor, type SopsFileFormat } from "./sops.ts";
import { ageKey, encrypt, type AgeKey } from "./testdata/keys.ts";

const PASSWORD = "s3cr3t-hunter2-plaintext";

const SECRET_YAML = `apiVersion: v1
kind: Secret
metadata:
  name: db-credentials
  namespace: shop
type: Opaque
stringData:
  username: admin
  password: ${PASSWORD}
`;

const SECRET_JSON = JSON.stringify(parse(SECRET_YAML), null, 2);

let owner: AgeKey;
let stranger: AgeKey;
let sopsPath: string;

beforeAll(async () => {
  [owner, stranger] = await Promise.all([ageKey(), ageKey()]);
  sopsPath = toolPath("sops");
});

async function failure(promise: Promise<unknown>): Promise<TetherError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  return err as TetherError;
}

describe("decrypting files with the real sops", () => {
  it.each<[string, SopsFileFormat, string, string | undefined]>([
    ["a YAML Secret with only data/stringData encrypted", "yaml", SECRET_YAML, "^(data|stringData)$"],
    ["a YAML Secret encrypted whole", "yaml", SECRET_YAML, undefined],
    ["a JSON Secret with only data/stringData encrypted", "json", SECRET_JSON, "^(data|stringData)$"],
    ["a JSON Secret encrypted whole", "json", SECRET_JSON, undefined],
  ])("decrypts %s", async (_name, format, plaintext, encryptedRegex) => {
    const ciphertext = await encrypt(plaintext, { recipient: owner.recipient, format, ...(encryptedRegex ? { encryptedRegex } : {}) });
    expect(ciphertext).not.toContain(PASSWORD);
    const decrypted = await decryptText(ciphertext, { file: `secret.${format}`, format, ageKeys: [owner.identity], sopsPath });
    expect(parse(decrypted)).toEqual(parse(plaintext));
  });

  it("keeps metadata readable when encrypted_regex limits encryption to data and stringData", async () => {
    const ciphertext = await encrypt(SECRET_YAML, { recipient: owner.recipient, format: "yaml", encryptedRegex: "^(data|stringData)$" });
    expect(ciphertext).toContain("name: db-credentials");
  });

  it("decrypts dotenv files and binary files byte for byte", async () => {
    const env = await encrypt(`USER=admin\nPASSWORD=${PASSWORD}\n`, { recipient: owner.recipient, format: "dotenv" });
    expect((await decryptBytes(env, { file: "app.env", format: "dotenv", ageKeys: [owner.identity], sopsPath })).toString()).toBe(`USER=admin\nPASSWORD=${PASSWORD}\n`);
    const bytes = Buffer.from([0, 1, 2, 250, 255, 10, 13]);
    const binary = await encrypt(bytes, { recipient: owner.recipient, format: "binary" });
    expect(await decryptBytes(binary, { file: "keystore.p12", format: "binary", ageKeys: [owner.identity], sopsPath })).toEqual(bytes);
  });

  it("tries every configured key", async () => {
    const ciphertext = await encrypt(SECRET_YAML, { recipient: owner.recipient, format: "yaml" });
    const decrypt = sopsDecryptor({ ageKeys: [stranger.identity, owner.identity], sopsPath });
    expect(await decrypt(ciphertext, "secret.yaml", "yaml")).toContain(PASSWORD);
  });
});

describe("decryption failures", () => {
  let ciphertext: string;
  beforeAll(async () => {
    ciphertext = await encrypt(SECRET_YAML, { recipient: owner.recipient, format: "yaml", encryptedRegex: "^(data|stringData)$" });
  });

  it("without any key names the file and the recipients it is encrypted for", async () => {
    const err = await failure(decryptText(ciphertext, { file: "apps/shop/secret.enc.yaml", format: "yaml", ageKeys: [], sopsPath }));
    expect(err.reason).toBe("DecryptionFailed");
    expect(err.object).toBe("apps/shop/secret.enc.yaml");
    expect(err.message).toContain("apps/shop/secret.enc.yaml");
    expect(err.message).toContain(owner.recipient);
    expect(err.message).toContain("no age key is configured");
  });

  it("with the wrong key names the file and the recipients it is encrypted for", async () => {
    const err = await failure(decryptText(ciphertext, { file: "apps/shop/secret.enc.yaml", format: "yaml", ageKeys: [stranger.identity], sopsPath }));
    expect(err.reason).toBe("DecryptionFailed");
    expect(err.message).toMatch(/^apps\/shop\/secret\.enc\.yaml: none of the 1 configured age key can decrypt it; it is encrypted for age1/);
    expect(err.message).toContain(owner.recipient);
    expect(err.message).not.toContain(stranger.identity);
  });

  it("refuses a file changed after encryption (MAC mismatch)", async () => {
    const tampered = ciphertext.replace("name: db-credentials", "name: db-credentials-v2");
    const err = await failure(decryptText(tampered, { file: "secret.enc.yaml", format: "yaml", ageKeys: [owner.identity], sopsPath }));
    expect(err.reason).toBe("DecryptionFailed");
    expect(err.message).toContain("was modified after it was encrypted (MAC mismatch)");
  });

  it("refuses a file whose MAC was removed", async () => {
    const noMac = ciphertext.split("\n").filter((l) => !l.trimStart().startsWith("mac:")).join("\n");
    const err = await failure(decryptText(noMac, { file: "secret.enc.yaml", format: "yaml", ageKeys: [owner.identity], sopsPath }));
    expect(err.message).toContain("MAC mismatch");
  });

  it("says so when a file is not encrypted at all", async () => {
    const err = await failure(decryptText(SECRET_YAML, { file: "secret.yaml", format: "yaml", ageKeys: [owner.identity], sopsPath }));
    expect(err.message).toContain("secret.yaml: has no sops metadata");
  });

  it("never puts plaintext or a key in a message", async () => {
    const tampered = ciphertext.replace("namespace: shop", "namespace: other");
    const messages = await Promise.all([
      failure(decryptText(ciphertext, { file: "s.yaml", format: "yaml", ageKeys: [], sopsPath })),
      failure(decryptText(ciphertext, { file: "s.yaml", format: "yaml", ageKeys: [stranger.identity], sopsPath })),
      failure(decryptText(tampered, { file: "s.yaml", format: "yaml", ageKeys: [owner.identity], sopsPath })),
    ]);
    for (const err of messages) {
      expect(err.message).not.toContain(PASSWORD);
      expect(err.message).not.toContain("AGE-SECRET-KEY");
    }
  });
});

describe("formatForPath and recipients", () => {
  it.each([
    ["secret.enc.yaml", "yaml"], ["secret.yml", "yaml"], ["secret.json", "json"], ["app.env", "dotenv"],
    ["config.ini", "ini"], ["tls.crt", "binary"], ["secret.yaml.txt", "binary"],
  ])("reads %s as %s, as sops does", (file, format) => {
    expect(formatForPath(file)).toBe(format);
  });

  it("finds the age recipients of YAML, JSON and dotenv files", async () => {
    for (const format of ["yaml", "json", "dotenv"] as const) {
      const plaintext = format === "dotenv" ? "A=b\n" : format === "json" ? '{"a":"b"}' : "a: b\n";
      const ciphertext = await encrypt(plaintext, { recipient: owner.recipient, format });
      expect(recipients(ciphertext)).toEqual([owner.recipient]);
    }
  });
});
