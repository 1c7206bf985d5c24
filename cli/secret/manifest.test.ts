import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.ts";
import { hasEncryptedValue, isSopsEncrypted, parseFileSource, parseLiteral, secretManifest } from "./manifest.ts";

describe("--from-literal and --from-file", () => {
  it("splits a literal at the first '=' and keeps the rest of the value as it is", () => {
    expect(parseLiteral("url=postgres://u:p@db/x?a=b")).toEqual({ key: "url", value: Buffer.from("postgres://u:p@db/x?a=b") });
    expect(parseLiteral("EMPTY=")).toEqual({ key: "EMPTY", value: Buffer.from("") });
  });

  it("never repeats a literal's value in its error", () => {
    expect(() => parseLiteral("s3cr3t")).toThrow(UsageError);
    expect(() => parseLiteral("s3cr3t")).not.toThrow(/s3cr3t/);
    expect(() => parseLiteral("=s3cr3t")).not.toThrow(/s3cr3t/);
  });

  it("names a file's entry after the file unless a key is given, as kubectl does", () => {
    expect(parseFileSource("./certs/tls.crt")).toEqual({ key: "tls.crt", path: "./certs/tls.crt" });
    expect(parseFileSource("ca.crt=./certs/root.pem")).toEqual({ key: "ca.crt", path: "./certs/root.pem" });
  });

  it.each(["bad key=x", "a/b=x", "..=x"])("refuses the invalid Secret key in %s", (arg) => {
    expect(() => parseLiteral(arg)).toThrow(/is not a valid Secret key/);
  });
});

describe("secretManifest", () => {
  it("builds a v1 Secret with base64 data, like kubectl create secret generic", () => {
    expect(secretManifest({ name: "api-token", namespace: "shop", type: "Opaque", entries: [{ key: "TOKEN", value: Buffer.from("abc") }] })).toEqual({
      apiVersion: "v1", kind: "Secret", metadata: { name: "api-token", namespace: "shop" }, type: "Opaque", data: { TOKEN: "YWJj" },
    });
  });

  it("leaves the namespace out when none is given, so the Application's destination applies", () => {
    expect(secretManifest({ name: "t", type: "Opaque", entries: [{ key: "a", value: Buffer.from("b") }] }).metadata).toEqual({ name: "t" });
  });

  it.each([
    ["an invalid name", { name: "Api_Token" }, /secret name Api_Token is not a valid name/],
    ["an invalid namespace", { namespace: "shop.prod" }, /--namespace shop.prod is not a valid namespace/],
    ["no entries", { entries: [] }, /give at least one --from-literal/],
    ["a key given twice", { entries: [{ key: "a", value: Buffer.from("1") }, { key: "a", value: Buffer.from("2") }] }, /key a is given twice/],
  ])("refuses %s", (_, override, message) => {
    expect(() => secretManifest({ name: "t", type: "Opaque", entries: [{ key: "a", value: Buffer.from("b") }], ...override })).toThrow(message);
  });
});

describe("isSopsEncrypted", () => {
  it.each([
    ["a YAML manifest with a sops block", "kind: Secret\ndata: {a: 'ENC[x]'}\nsops: {mac: 'ENC[y]', version: 3.13.3}\n", "yaml", true],
    ["the second document of a YAML stream", "kind: ConfigMap\n---\nkind: Secret\nsops: {version: 3.13.3}\n", "yaml", true],
    ["a plain YAML Secret", "kind: Secret\nstringData: {sops: not metadata}\n", "yaml", false],
    ["JSON with a sops block", '{"data": {"a": "ENC[x]"}, "sops": {"version": "3.13.3"}}', "json", true],
    ["plain JSON", '{"kind": "Secret"}', "json", false],
    ["a dotenv file sops encrypted", "TOKEN=ENC[x]\nsops_version=3.13.3\n", "dotenv", true],
    ["a plain dotenv file", "TOKEN=abc\n", "dotenv", false],
    ["a binary file", "\u0000\u0001", "binary", false],
  ] as const)("tells %s", (_, text, format, expected) => {
    expect(isSopsEncrypted(text, format)).toBe(expected);
  });
});

describe("hasEncryptedValue", () => {
  it("does not count the MAC in the sops block as an encrypted value", () => {
    expect(hasEncryptedValue("kind: ConfigMap\nsops: {mac: 'ENC[AES256_GCM,data:x]'}\n", "yaml")).toBe(false);
    expect(hasEncryptedValue("kind: Secret\ndata: {a: 'ENC[AES256_GCM,data:x]'}\nsops: {mac: 'ENC[y]'}\n", "yaml")).toBe(true);
  });
});
