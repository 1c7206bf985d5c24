// Objects that come out of `kustomize build` still carrying their `sops:` block: a file encrypted
// whole and listed under `resources:` is passed through by kustomize untouched, as Flux expects.
import { parseAllDocuments } from "yaml";
import type { Manifest } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { decryptText, type SopsOptions } from "./sops.ts";

/** Where an encrypted object came from, for messages. */
export interface ObjectSource extends SopsOptions {
  /** The file, relative to the repository root. */
  readonly file: string;
}

/** The encrypted file an object was read from, as written in Git. */
export interface EncryptedFile extends ObjectSource {
  readonly text: string;
}

/** Whether a parsed object carries SOPS metadata. */
export function isSopsEncrypted(value: unknown): boolean {
  return isRecord(value) && isRecord(value.sops);
}

/**
 * Decrypts one object by serialising it to JSON and handing it to `sops --input-type json`, as Flux
 * does. The MAC covers every value in document order, so this verifies only while the object keeps
 * its fields in the order and with the values they were encrypted with: YAML to JSON is fine,
 * kustomize's output is not (it sorts fields and may rename): {@link plaintextsOf} handles that.
 */
export async function decryptObject(object: Manifest, source: ObjectSource): Promise<Manifest> {
  const plaintext = await decryptText(JSON.stringify(object), { ...source, format: "json" });
  return parseDecrypted(plaintext, source.file);
}

/**
 * The plaintext of every encrypted value of a file, keyed by its `ENC[...]` ciphertext. sops
 * decrypts the file as committed, so its MAC is verified on what is in Git; {@link withPlaintexts}
 * then decrypts what kustomize built from it, keeping what kustomize changed around the secrets
 * (name prefixes, labels, namespace, field order).
 */
export async function plaintextsOf(file: EncryptedFile): Promise<Map<string, unknown>> {
  const format = file.file.endsWith(".json") ? "json" : "yaml";
  const plaintext = await decryptText(file.text, { ...file, format });
  const encrypted = documents(file.text, file.file, false);
  const decrypted = documents(plaintext, file.file, true);
  if (encrypted.length !== decrypted.length) {
    throw new TetherError("DecryptionFailed", `${file.file}: sops returned ${decrypted.length} documents for ${encrypted.length}`, { object: file.file });
  }
  const byCiphertext = new Map<string, unknown>();
  encrypted.forEach((doc, i) => pair(doc, decrypted[i], byCiphertext));
  return byCiphertext;
}

/** Walks an encrypted document and its plaintext side by side; the structure is the same. */
function pair(encrypted: unknown, plain: unknown, into: Map<string, unknown>): void {
  if (typeof encrypted === "string") {
    if (isCiphertext(encrypted)) into.set(encrypted, plain);
  } else if (Array.isArray(encrypted) && Array.isArray(plain)) {
    encrypted.forEach((item, i) => pair(item, plain[i], into));
  } else if (isRecord(encrypted) && isRecord(plain)) {
    for (const [key, value] of Object.entries(encrypted)) {
      if (key !== "sops") pair(value, plain[key], into);
    }
  }
}

/**
 * `object` with each `ENC[...]` value replaced by its plaintext from {@link plaintextsOf} and the
 * `sops:` block removed; a ciphertext that is not in `plaintexts` is refused.
 */
export function withPlaintexts(object: Manifest, plaintexts: ReadonlyMap<string, unknown>, file: string): Manifest {
  const replace = (value: unknown): unknown => {
    if (typeof value === "string" && isCiphertext(value)) {
      if (!plaintexts.has(value)) {
        throw new TetherError("DecryptionFailed",
          `${file}: an encrypted value was changed by kustomize (a name prefix, label or patch on an encrypted field); ` +
          "encrypt only the secret fields (encrypted_regex: ^(data|stringData)$) or use a KSOPS generator", { object: file });
      }
      return plaintexts.get(value);
    }
    if (Array.isArray(value)) return value.map(replace);
    if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replace(v)]));
    return value;
  };
  const rest: Record<string, unknown> = { ...object };
  delete rest.sops;
  return replace(rest) as Manifest;
}

function isCiphertext(value: string): boolean {
  return value.startsWith("ENC[") && value.endsWith("]");
}

/** The non-empty documents of a file; for plaintext, errors name only the error code. */
function documents(text: string, file: string, plaintext: boolean): unknown[] {
  const docs = parseAllDocuments(text, { merge: true, prettyErrors: false });
  return docs.map((doc) => {
    const error = doc.errors[0];
    if (error !== undefined) {
      const why = plaintext ? `the decrypted content is not valid YAML (${error.code})` : error.message;
      throw new TetherError("RenderFailed", `${file}: ${why}`, { object: file });
    }
    return doc.toJS() as unknown;
  }).filter((value) => value !== null && value !== undefined);
}

function parseDecrypted(plaintext: string, file: string): Manifest {
  try {
    return JSON.parse(plaintext) as Manifest;
  } catch {
    throw new TetherError("DecryptionFailed", `${file}: sops returned an object that is not valid JSON`, { object: file });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
