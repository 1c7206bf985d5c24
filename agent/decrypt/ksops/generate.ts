// What a KSOPS generator (`apiVersion: viaduct.ai/v1`, `kind: ksops`) produces, following KSOPS v4's
// `generate()` (github.com/viaduct-ai/kustomize-sops, ksops.go) field for field, so that kustomize
// builds the same objects from it: `files:` are decrypted and passed through as manifests;
// each `secretFrom:` entry becomes one Secret with `stringData` from `files` and `envs`, `data`
// (base64) from `binaryFiles`, and the given `metadata` and `type`.
import { realpath } from "node:fs/promises";
import { basename, isAbsolute, relative, resolve, sep } from "node:path";
import { parseAllDocuments, parse as parseYaml, stringify } from "yaml";
import { TetherError, errorMessage } from "../../errors.ts";
import { safeJoin } from "../../source/safe-join.ts";
import { formatForPath, type SopsFileFormat } from "../sops.ts";
import { DotenvError, parseDotenv } from "./dotenv.ts";

/** Decrypts the bytes of one file; `file` is relative to the repository root. */
export type DecryptFileFn = (ciphertext: Buffer, file: string, format: SopsFileFormat) => Promise<Buffer>;

export interface KsopsContext {
  /** The directory of the kustomization that lists the generator: KSOPS' paths are relative to it. */
  readonly cwd: string;
  /** The checkout root: no file outside it is read, whatever the generator says. */
  readonly root: string;
  readonly decrypt: DecryptFileFn;
  readonly readFile: (path: string) => Promise<Buffer>;
}

/** The metadata KSOPS copies onto a generated Secret (kustomize's types.ObjectMeta). */
interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface SecretFrom {
  readonly files: readonly string[];
  readonly binaryFiles: readonly string[];
  readonly envs: readonly string[];
  readonly metadata: ObjectMeta;
  readonly type: string;
}

interface KsopsConfig {
  readonly files: readonly string[] | undefined;
  readonly secretFrom: readonly SecretFrom[] | undefined;
  /** The generator's own name, for messages. */
  readonly name: string;
}

/**
 * The YAML stream KSOPS prints for the generator config `configText`. Throws TetherError:
 * `DecryptionFailed` for a file that cannot be decrypted, `RenderFailed` for a bad config or a path
 * outside the repository.
 */
export async function generate(configText: string, ctx: KsopsContext): Promise<string> {
  const config = parseConfig(configText);
  const root = await realpath(ctx.root);
  const read = async (file: string): Promise<Buffer> => {
    const { path, rel } = await repoPath({ root, cwd: ctx.cwd, file, generator: config.name });
    return ctx.decrypt(await ctx.readFile(path), rel, formatForPath(file));
  };
  const files = config.files ?? [];
  const secretFrom = config.secretFrom ?? [];
  const decrypted = await Promise.all(files.map(async (file) => checkManifests(await read(file), file)));
  let output = "";
  decrypted.forEach((data, i) => {
    output += data;
    // As KSOPS: no separator after the last document, or kustomize would parse an empty one.
    if (i < files.length + secretFrom.length - 1) output += "\n---\n";
  });
  for (const [i, sf] of secretFrom.entries()) {
    output += stringify(await secretOf(sf, read), { lineWidth: 0 });
    if (i < secretFrom.length - 1) output += "---\n";
  }
  return output;
}

async function secretOf(sf: SecretFrom, read: (file: string) => Promise<Buffer>): Promise<Record<string, unknown>> {
  const stringData: Record<string, string> = {};
  const data: Record<string, string> = {};
  for (const entry of sf.files) {
    const [key, file] = fileKeyPath(entry);
    stringData[key] = (await read(file)).toString("utf8");
  }
  for (const entry of sf.binaryFiles) {
    const [key, file] = fileKeyPath(entry);
    data[key] = (await read(file)).toString("base64");
  }
  for (const file of sf.envs) {
    Object.assign(stringData, envOf((await read(file)).toString("utf8"), file));
  }
  // KSOPS marshals a Go struct through sigs.k8s.io/yaml: keys sorted, empty fields left out.
  const secret: Record<string, unknown> = { apiVersion: "v1" };
  if (Object.keys(data).length > 0) secret.data = sorted(data);
  secret.kind = "Secret";
  secret.metadata = sf.metadata;
  if (Object.keys(stringData).length > 0) secret.stringData = sorted(stringData);
  if (sf.type !== "") secret.type = sf.type;
  return secret;
}

function envOf(text: string, file: string): Record<string, string> {
  try {
    return parseDotenv(text);
  } catch (err) {
    if (!(err instanceof DotenvError)) throw err;
    throw new TetherError("RenderFailed", `${file}: the decrypted env file is not valid: ${err.message}`, { object: file });
  }
}

/** `key=path` names the Secret key; a bare path uses the file's base name. */
function fileKeyPath(entry: string): [string, string] {
  const parts = entry.split("=");
  if (parts.length === 1) return [basename(entry), entry];
  if (parts.length > 2) throw new TetherError("RenderFailed", `invalid format in file generator ${entry}: use KEY=PATH`, { object: entry });
  return [parts[0]!, parts[1]!];
}

/**
 * Decrypted `files:` go to kustomize as they are; they are checked here first, since kustomize's
 * own errors about a malformed object would print the object.
 */
function checkManifests(data: Buffer, file: string): string {
  const text = data.toString("utf8");
  for (const [i, doc] of parseAllDocuments(text, { merge: true }).entries()) {
    const error = doc.errors[0];
    if (error !== undefined) throw notManifest(file, `document ${i + 1} is not valid YAML (${error.code})`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const meta = isRecord(value) ? value.metadata : undefined;
    if (!isRecord(value) || typeof value.apiVersion !== "string" || typeof value.kind !== "string" || !isRecord(meta) || typeof meta.name !== "string") {
      throw notManifest(file, `document ${i + 1} is not a Kubernetes object with apiVersion, kind and metadata.name`);
    }
  }
  return text;
}

function notManifest(file: string, why: string): TetherError {
  return new TetherError("RenderFailed", `${file}: decrypted, but ${why}; KSOPS \`files:\` must be manifests (use secretFrom for other files)`, { object: file });
}

interface RepoPathInput {
  readonly root: string;
  readonly cwd: string;
  readonly file: string;
  readonly generator: string;
}

/** A generator path, resolved from the kustomization directory and confined to the repository. */
async function repoPath({ root, cwd, file, generator }: RepoPathInput): Promise<{ path: string; rel: string }> {
  const rel = relative(root, resolve(await realpath(cwd).catch(() => cwd), file));
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new TetherError("RenderFailed", `ksops generator ${generator}: ${file} is outside the repository; KSOPS files must be committed next to the generator`, { object: file });
  }
  return { path: await safeJoin(root, rel), rel: rel.split(sep).join("/") };
}

function parseConfig(text: string): KsopsConfig {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new TetherError("RenderFailed", `ksops generator: the config is not valid YAML: ${errorMessage(err)}`);
  }
  if (!isRecord(value)) throw new TetherError("RenderFailed", "ksops generator: the config is not a mapping");
  const meta = isRecord(value.metadata) ? value.metadata : {};
  const name = typeof meta.name === "string" ? meta.name : "(unnamed)";
  const files = optionalStrings(value.files, `ksops generator ${name}: files`);
  const secretFrom = value.secretFrom === undefined || value.secretFrom === null ? undefined : listOf(value.secretFrom, `ksops generator ${name}: secretFrom`)
    .map((entry, i) => secretFromOf(entry, `ksops generator ${name}: secretFrom[${i}]`));
  if (files === undefined && secretFrom === undefined) {
    throw new TetherError("RenderFailed", `ksops generator ${name}: missing the required 'files' or 'secretFrom' key`, { object: name });
  }
  return { files, secretFrom, name };
}

function secretFromOf(value: unknown, where: string): SecretFrom {
  if (!isRecord(value)) throw new TetherError("RenderFailed", `${where} is not a mapping`);
  return {
    files: optionalStrings(value.files, `${where}.files`) ?? [],
    binaryFiles: optionalStrings(value.binaryFiles, `${where}.binaryFiles`) ?? [],
    envs: optionalStrings(value.envs, `${where}.envs`) ?? [],
    metadata: objectMeta(value.metadata, `${where}.metadata`),
    type: value.type === undefined || value.type === null ? "" : stringOf(value.type, `${where}.type`),
  };
}

function objectMeta(value: unknown, where: string): ObjectMeta {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new TetherError("RenderFailed", `${where} is not a mapping`);
  const meta: ObjectMeta = {};
  // Only the fields of kustomize's ObjectMeta survive KSOPS' unmarshalling, in its key order.
  const annotations = stringMap(value.annotations, `${where}.annotations`);
  if (annotations) meta.annotations = annotations;
  const labels = stringMap(value.labels, `${where}.labels`);
  if (labels) meta.labels = labels;
  if (value.name !== undefined && value.name !== null && value.name !== "") meta.name = stringOf(value.name, `${where}.name`);
  if (value.namespace !== undefined && value.namespace !== null && value.namespace !== "") meta.namespace = stringOf(value.namespace, `${where}.namespace`);
  return meta;
}

function stringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw new TetherError("RenderFailed", `${where} is not a mapping`);
  const entries = Object.entries(value).map(([k, v]) => [k, stringOf(v, `${where}.${k}`)] as const);
  return entries.length > 0 ? sorted(Object.fromEntries(entries)) : undefined;
}

function optionalStrings(value: unknown, where: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  return listOf(value, where).map((v, i) => stringOf(v, `${where}[${i}]`));
}

function listOf(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new TetherError("RenderFailed", `${where} is not a list`);
  return value as unknown[];
}

function stringOf(value: unknown, where: string): string {
  if (typeof value !== "string") throw new TetherError("RenderFailed", `${where} is not a string: quote it`);
  return value;
}

function sorted<T>(map: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
