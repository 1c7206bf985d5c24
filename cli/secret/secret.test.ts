// `tether secret` against the real sops and age-keygen (no cluster: see test/secrets for --kubeconfig).
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ageKey, type AgeKey } from "../../agent/decrypt/testdata/keys.ts";
import { toolPath } from "../../test/harness/paths.ts";
import { ConflictError, UsageError } from "../errors.ts";
import { createSecret, encryptFile } from "./encrypt.ts";
import { keygen } from "./keygen.ts";

const TOKEN = "tok-7d1c0e9a-only-in-memory";
const SECRET_YAML = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\nstringData:\n  password: hunter2-plain\n";

let key: AgeKey;
let repo: string;
/** sops' and our own temporary files would land here: it must stay empty. */
let scratch: string;
const savedTmp = process.env.TMPDIR;
const sops = () => ({ sopsPath: toolPath("sops") });

beforeAll(async () => {
  key = await ageKey();
  scratch = await mkdtemp(join(tmpdir(), "tether-secret-test-tmp-"));
  process.env.TMPDIR = scratch;
});

beforeEach(async () => {
  repo = await mkdtemp(join(scratch, "..", "tether-secret-test-repo-"));
  await writeFile(join(repo, ".sops.yaml"), `creation_rules:\n  - path_regex: \\.(ya?ml|json)$\n    age: ${key.recipient}\n`);
});

afterEach(async () => {
  expect(await readdir(scratch)).toEqual([]);
  await rm(repo, { recursive: true, force: true });
});

afterAll(async () => {
  process.env.TMPDIR = savedTmp;
  await rm(scratch, { recursive: true, force: true });
});

interface PlainSecret {
  readonly metadata: { readonly name: string };
  readonly data: Record<string, string>;
  readonly stringData: Record<string, string>;
}

async function decrypt(file: string, identity = key.identity): Promise<PlainSecret> {
  const { stdout } = await execa(toolPath("sops"), ["decrypt", file], { env: { SOPS_AGE_KEY: identity } });
  return (file.endsWith(".json") ? JSON.parse(stdout) : parse(stdout)) as PlainSecret;
}

describe("tether secret create", () => {
  it("writes a Secret whose values are ciphertext and whose kind, name and namespace stay readable", async () => {
    await writeFile(join(repo, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    const out = join(repo, "apps", "shop", "api.enc.yaml");
    const done = await createSecret({
      name: "api", namespace: "shop", type: "Opaque", literals: [`TOKEN=${TOKEN}`], files: [`ca.crt=${join(repo, "ca.pem")}`],
      output: out, force: false, ...sops(),
    });
    expect(done).toMatchObject({ file: out, sopsConfig: join(repo, ".sops.yaml"), recipients: [key.recipient], keys: ["TOKEN", "ca.crt"] });

    const text = await readFile(out, "utf8");
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(Buffer.from(TOKEN).toString("base64"));
    const stored = parse(text);
    expect(stored).toMatchObject({ apiVersion: "v1", kind: "Secret", metadata: { name: "api", namespace: "shop" }, type: "Opaque" });
    expect(stored.data.TOKEN).toMatch(/^ENC\[AES256_GCM,/);
    expect(stored.sops.encrypted_regex).toBe("^(data|stringData)$");

    const plain = await decrypt(out);
    expect(Buffer.from(plain.data.TOKEN!, "base64").toString()).toBe(TOKEN);
    expect(Buffer.from(plain.data["ca.crt"]!, "base64").toString()).toBe("-----BEGIN CERTIFICATE-----\n");
    expect(await readdir(join(repo, "apps", "shop"))).toEqual(["api.enc.yaml"]);
  });

  it("writes JSON for a .json file", async () => {
    const out = join(repo, "token.json");
    await createSecret({ name: "t", type: "Opaque", literals: [`TOKEN=${TOKEN}`], files: [], output: out, force: false, ...sops() });
    expect(JSON.parse(await readFile(out, "utf8")).data.TOKEN).toMatch(/^ENC\[/);
    expect((await decrypt(out)).data.TOKEN).toBe(Buffer.from(TOKEN).toString("base64"));
  });

  it("follows the nearest .sops.yaml, its first matching rule, and that rule's own choice of keys", async () => {
    const other = await ageKey();
    await mkdir(join(repo, "prod"));
    await writeFile(join(repo, "prod", ".sops.yaml"),
      `creation_rules:\n  - path_regex: ^db/\n    unencrypted_regex: ^(apiVersion|kind)$\n    age: ${other.recipient}\n  - age: ${key.recipient}\n`);
    const out = join(repo, "prod", "db", "secret.yaml");
    const done = await createSecret({ name: "db", type: "Opaque", literals: ["password=p4ss"], files: [], output: out, force: false, ...sops() });
    expect(done.recipients).toEqual([other.recipient]);
    const stored = parse(await readFile(out, "utf8"));
    expect(stored.kind).toBe("Secret");
    expect(JSON.stringify(stored.metadata)).toMatch(/ENC\[/);
    expect((await decrypt(out, other.identity)).metadata.name).toBe("db");
  });

  it("says to run keygen when no .sops.yaml or no rule covers the file, and writes nothing", async () => {
    await writeFile(join(repo, ".sops.yaml"), `creation_rules:\n  - path_regex: ^prod/\n    age: ${key.recipient}\n`);
    const out = join(repo, "dev", "secret.yaml");
    const attempt = createSecret({ name: "db", type: "Opaque", literals: ["password=p4ss"], files: [], output: out, force: false, ...sops() });
    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(/no creation rule in .*\.sops\.yaml matches .*dev\/secret\.yaml; run `tether secret keygen`/);
    await rm(join(repo, ".sops.yaml"));
    await expect(createSecret({ name: "db", type: "Opaque", literals: ["p=x"], files: [], output: out, force: false, ...sops() }))
      .rejects.toThrow(/no \.sops\.yaml in .* or any directory above it .*run `tether secret keygen/);
    expect(await readdir(repo)).toEqual([]);
  });

  it("keeps an existing file unless forced", async () => {
    const out = join(repo, "token.enc.yaml");
    const create = (value: string, force: boolean) =>
      createSecret({ name: "t", type: "Opaque", literals: [`TOKEN=${value}`], files: [], output: out, force, ...sops() });
    await create("first", false);
    await expect(create("second", false)).rejects.toThrow(ConflictError);
    expect(Buffer.from((await decrypt(out)).data.TOKEN!, "base64").toString()).toBe("first");
    await create("second", true);
    expect(Buffer.from((await decrypt(out)).data.TOKEN!, "base64").toString()).toBe("second");
  });
});

describe("tether secret encrypt", () => {
  it("encrypts a plain manifest in place, only data and stringData", async () => {
    const file = join(repo, "secret.yaml");
    await writeFile(file, SECRET_YAML);
    expect((await encryptFile(file, sops())).recipients).toEqual([key.recipient]);
    const text = await readFile(file, "utf8");
    expect(text).not.toContain("hunter2-plain");
    expect(parse(text).metadata).toEqual({ name: "db", namespace: "shop" });
    expect((await decrypt(file)).stringData.password).toBe("hunter2-plain");
  });

  it("refuses a file sops already encrypted, and leaves it as it was", async () => {
    const file = join(repo, "secret.yaml");
    await writeFile(file, SECRET_YAML);
    await encryptFile(file, sops());
    const once = await readFile(file, "utf8");
    const again = encryptFile(file, sops());
    await expect(again).rejects.toThrow(ConflictError);
    await expect(again).rejects.toThrow(/is already encrypted by sops .*sops updatekeys/);
    expect(await readFile(file, "utf8")).toBe(once);
  });

  it("refuses a manifest with nothing to encrypt instead of writing a file that only looks encrypted", async () => {
    const file = join(repo, "configmap.yaml");
    const text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n";
    await writeFile(file, text);
    await expect(encryptFile(file, sops())).rejects.toThrow(/nothing in .*configmap\.yaml matches which keys rule 1/);
    expect(await readFile(file, "utf8")).toBe(text);
  });
});

describe("tether secret keygen without a cluster", () => {
  const ageKeygenPath = () => toolPath("age-keygen");

  it("writes the identity to --out with mode 0600 and puts its recipient in .sops.yaml", async () => {
    const out = join(repo, "keys", "tether.agekey");
    const config = join(repo, ".sops.yaml");
    const { report, identity } = await keygen({ out, sopsConfig: config, pathRegex: "\\.(ya?ml|json)$", append: false, printed: false, ageKeygenPath: ageKeygenPath() });
    expect(report).toEqual({ recipient: expect.stringMatching(/^age1[0-9a-z]{58}$/), identityFile: out, sopsConfig: { file: config, change: "updated" } });
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect(await readFile(out, "utf8")).toBe(identity);
    const { stdout } = await execa(ageKeygenPath(), ["-y", out]);
    expect(stdout.trim()).toBe(report.recipient);
    expect(parse(await readFile(config, "utf8")).creation_rules[0]).toEqual({
      path_regex: "\\.(ya?ml|json)$", age: report.recipient, encrypted_regex: "^(data|stringData)$",
    });
    // What is encrypted for the new recipient opens with the new identity.
    const secret = join(repo, "s.enc.yaml");
    await createSecret({ name: "s", type: "Opaque", literals: ["a=b"], files: [], output: secret, force: false, ...sops() });
    expect((await decrypt(secret, identity)).data.a).toBe("Yg==");
  });

  it("refuses to make a key that would be kept nowhere, before touching anything", async () => {
    const config = join(repo, ".sops.yaml");
    const before = await readFile(config, "utf8");
    await expect(keygen({ sopsConfig: config, pathRegex: "x", append: false, printed: false, ageKeygenPath: ageKeygenPath() }))
      .rejects.toThrow(/the private key would be kept nowhere: pass --kubeconfig K .* --out FILE .* --out -/);
    expect(await readFile(config, "utf8")).toBe(before);
  });

  it("never writes over an existing identity file", async () => {
    const out = join(repo, "tether.agekey");
    await writeFile(out, "AGE-SECRET-KEY-1EXISTING\n");
    await expect(keygen({ out, pathRegex: "x", append: false, printed: false, ageKeygenPath: ageKeygenPath() })).rejects.toThrow(ConflictError);
    expect(await readFile(out, "utf8")).toBe("AGE-SECRET-KEY-1EXISTING\n");
  });
});
