// The Secret manifest `tether secret create` builds in memory, and how to tell a file sops already
// encrypted. Pure functions: nothing here reads or writes a file.
import { parseAllDocuments, stringify } from "yaml";
import type { SopsFileFormat } from "../../agent/decrypt/sops.ts";
import { isRecord } from "../../agent/render/tool.ts";
import { UsageError } from "../errors.ts";

/** One `data` entry of the Secret. */
export interface SecretEntry {
  readonly key: string;
  readonly value: Uint8Array;
}

export interface SecretSpec {
  readonly name: string;
  /** Omitted: the Application's destination namespace applies, as for any object without one. */
  readonly namespace?: string;
  readonly type: string;
  readonly entries: readonly SecretEntry[];
}

// Kubernetes' own rules (IsDNS1123Subdomain, IsConfigMapKey).
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** `--from-literal KEY=VALUE`: the value is everything after the first `=`, and may be empty. */
export function parseLiteral(arg: string): SecretEntry {
  const at = arg.indexOf("=");
  if (at <= 0) throw new UsageError(`--from-literal ${redact(arg)}: expected KEY=VALUE`);
  return { key: checkKey(arg.slice(0, at), "--from-literal"), value: Buffer.from(arg.slice(at + 1), "utf8") };
}

/** `--from-file [KEY=]PATH`, as kubectl takes it: the key defaults to the file's base name. */
export function parseFileSource(arg: string): { readonly key: string; readonly path: string } {
  const at = arg.indexOf("=");
  const file = at === -1 ? arg : arg.slice(at + 1);
  if (file === "") throw new UsageError(`--from-file ${arg}: expected [KEY=]PATH`);
  const key = at === -1 ? (file.split(/[\\/]/).pop() ?? file) : arg.slice(0, at);
  return { key: checkKey(key, "--from-file"), path: file };
}

function checkKey(key: string, flag: string): string {
  if (!SECRET_KEY.test(key) || key === "." || key === ".." || key.length > 253) {
    throw new UsageError(`${flag}: key "${key}" is not a valid Secret key; use letters, digits, '-', '_' and '.'`);
  }
  return key;
}

/** A literal's value never appears in a message, in case the key was forgotten (`--from-literal s3cr3t`). */
function redact(arg: string): string {
  const at = arg.indexOf("=");
  return at > 0 ? `${arg.slice(0, at)}=…` : "(value hidden)";
}

/** A `v1` Secret with base64 `data`, as `kubectl create secret generic` makes it. */
export function secretManifest(spec: SecretSpec): Record<string, unknown> {
  if (spec.name.length > 253 || !DNS_SUBDOMAIN.test(spec.name)) {
    throw new UsageError(`secret name ${spec.name} is not a valid name: lower-case letters, digits, '-' and '.', at most 253 characters`);
  }
  if (spec.namespace !== undefined && (spec.namespace.length > 63 || !DNS_LABEL.test(spec.namespace))) {
    throw new UsageError(`--namespace ${spec.namespace} is not a valid namespace name (a DNS-1123 label)`);
  }
  if (spec.entries.length === 0) throw new UsageError("nothing to put in the Secret: give at least one --from-literal KEY=VALUE or --from-file [KEY=]PATH");
  const data: Record<string, string> = {};
  for (const { key, value } of spec.entries) {
    if (key in data) throw new UsageError(`key ${key} is given twice`);
    data[key] = Buffer.from(value).toString("base64");
  }
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: spec.name, ...(spec.namespace === undefined ? {} : { namespace: spec.namespace }) },
    type: spec.type,
    data,
  };
}

/** The manifest as the file's format writes it. */
export function renderManifest(manifest: Record<string, unknown>, format: "yaml" | "json"): string {
  return format === "json" ? `${JSON.stringify(manifest, null, 2)}\n` : stringify(manifest);
}

/**
 * Whether sops has already encrypted this text: a top-level `sops` entry (YAML documents, JSON, a
 * binary file's JSON envelope) or `sops_` keys (dotenv, INI), exactly what sops itself refuses.
 */
export function isSopsEncrypted(text: string, format: SopsFileFormat): boolean {
  if (format === "dotenv" || format === "ini") return /^\s*sops_\w+\s*=/m.test(text);
  if (format === "yaml") {
    return parseAllDocuments(text).some((doc) => doc.errors.length === 0 && hasSops(doc.toJS()));
  }
  try {
    return hasSops(JSON.parse(text));
  } catch {
    return false;
  }
}

/** Whether sops encrypted any value of a manifest (its own `sops:` block, with the MAC, aside). */
export function hasEncryptedValue(ciphertext: string, format: "yaml" | "json"): boolean {
  const docs: unknown[] = format === "json" ? [JSON.parse(ciphertext)] : parseAllDocuments(ciphertext).map((d) => d.toJS() as unknown);
  return docs.some((doc) => isRecord(doc) && Object.entries(doc).some(([key, value]) => key !== "sops" && JSON.stringify(value).includes("ENC[")));
}

function hasSops(value: unknown): boolean {
  return isRecord(value) && isRecord(value.sops);
}
