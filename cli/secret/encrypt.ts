// `tether secret create` and `tether secret encrypt`: manifests encrypted by the real `sops` following
// the nearest `.sops.yaml`. Plaintext goes to sops on stdin; only ciphertext is written.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { argv, runTool } from "../../agent/exec.ts";
import { formatForPath, recipients, type SopsFileFormat } from "../../agent/decrypt/sops.ts";
import { ConflictError, UsageError } from "../errors.ts";
import { installHint, notInstalled } from "../tools.ts";
import { hasEncryptedValue, isSopsEncrypted, parseFileSource, parseLiteral, renderManifest, secretManifest, type SecretEntry } from "./manifest.ts";
import { DEFAULT_ENCRYPTED_REGEX, findSopsConfig, matchCreationRule, SOPS_CONFIG } from "./sopsconfig.ts";

export interface SopsTool {
  /** The sops binary; found on PATH by default. */
  readonly sopsPath?: string;
}

/** What was encrypted, for the command's output. */
export interface Encrypted {
  readonly file: string;
  readonly sopsConfig: string;
  readonly recipients: readonly string[];
}

export interface CreateOptions extends SopsTool {
  readonly name: string;
  readonly namespace?: string;
  readonly type: string;
  /** `KEY=VALUE` */
  readonly literals: readonly string[];
  /** `[KEY=]PATH` */
  readonly files: readonly string[];
  /** Where the encrypted manifest goes (.yaml, .yml or .json). */
  readonly output: string;
  /** Replace an existing file: a new value for a Secret that is already in Git. */
  readonly force: boolean;
}

/** Builds the Secret in memory, encrypts it for the `.sops.yaml` rule of `output`, writes the ciphertext. */
export async function createSecret(o: CreateOptions): Promise<Encrypted & { readonly keys: readonly string[] }> {
  const file = path.resolve(o.output);
  const format = formatForPath(file);
  if (format !== "yaml" && format !== "json") throw new UsageError(`-o ${o.output}: the manifest file must end in .yaml, .yml or .json`);
  if (!o.force && existsSync(file)) {
    throw new ConflictError(`${o.output} already exists; pass --force to replace it with the new Secret`);
  }
  const entries: SecretEntry[] = o.literals.map(parseLiteral);
  for (const source of o.files.map(parseFileSource)) entries.push({ key: source.key, value: await readSource(source.path) });
  const manifest = secretManifest({ name: o.name, type: o.type, entries, ...(o.namespace === undefined ? {} : { namespace: o.namespace }) });

  const encrypted = await encryptText(renderManifest(manifest, format), { file, format, ...tool(o) });
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, encrypted.ciphertext, { flag: o.force ? "w" : "wx" });
  return { file, sopsConfig: encrypted.sopsConfig, recipients: encrypted.recipients, keys: entries.map((e) => e.key) };
}

/** Encrypts a file in place; a file sops already encrypted is refused, and left as it is. */
export async function encryptFile(input: string, opts: SopsTool = {}): Promise<Encrypted> {
  const file = path.resolve(input);
  const format = formatForPath(file);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new UsageError(`${input} cannot be read; give the path of a manifest to encrypt`);
  }
  if (isSopsEncrypted(text, format)) {
    throw new ConflictError(`${input} is already encrypted by sops (it has a sops: block); ` +
      `change a value with \`sops edit ${input}\`, or re-encrypt it for the recipients of .sops.yaml with \`sops updatekeys ${input}\``);
  }
  const encrypted = await encryptText(text, { file, format, ...tool(opts) });
  await writeFile(file, encrypted.ciphertext);
  return { file, sopsConfig: encrypted.sopsConfig, recipients: encrypted.recipients };
}

const tool = (o: SopsTool): SopsTool => (o.sopsPath === undefined ? {} : { sopsPath: o.sopsPath });

async function readSource(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch {
    throw new UsageError(`--from-file ${file}: cannot read the file`);
  }
}

interface EncryptInput extends SopsTool {
  /** Absolute path the ciphertext is meant for: it picks the `.sops.yaml` and its creation rule. */
  readonly file: string;
  readonly format: SopsFileFormat;
}

// Keys named in the environment would make sops ignore the rules of .sops.yaml.
const KEY_ENVIRONMENT = ["SOPS_AGE_RECIPIENTS", "SOPS_PGP_FP", "SOPS_KMS_ARN", "SOPS_GCP_KMS_IDS", "SOPS_AZURE_KEYVAULT_URLS",
  "SOPS_VAULT_URIS", "SOPS_HUAWEICLOUD_KMS_IDS"];

/**
 * `sops encrypt` with the plaintext on stdin and the ciphertext on stdout, following the rule of
 * the nearest `.sops.yaml` above the file. A rule that does not say which keys to encrypt gets
 * `encrypted_regex: ^(data|stringData)$` for manifests, so metadata stays readable.
 */
async function encryptText(plaintext: string, input: EncryptInput): Promise<{ ciphertext: string; sopsConfig: string; recipients: string[] }> {
  const display = path.relative(process.cwd(), input.file) || input.file;
  const sopsConfig = await findSopsConfig(path.dirname(input.file));
  if (sopsConfig === undefined) {
    throw new UsageError(`no ${SOPS_CONFIG} in ${path.dirname(display) || "."} or any directory above it says whom to encrypt ${display} for; ` +
      "run `tether secret keygen --kubeconfig K` (or --out FILE) in the repository first");
  }
  const rule = matchCreationRule(await readFile(sopsConfig, "utf8"), sopsConfig, input.file);
  if (rule === undefined) {
    throw new UsageError(`no creation rule in ${sopsConfig} matches ${display}; ` +
      "run `tether secret keygen` to add one, or add a path_regex that matches the file");
  }
  const manifest = input.format === "yaml" || input.format === "json";
  // No file argument: the plaintext comes on stdin; every value the user chose is an option's own (`--opt=value`).
  const args = argv({ options: [`--config=${sopsConfig}`, "encrypt", `--input-type=${input.format}`, `--output-type=${input.format}`,
    ...(manifest && !rule.choosesKeys ? [`--encrypted-regex=${DEFAULT_ENCRYPTED_REGEX}`] : []), `--filename-override=${input.file}`] });

  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of KEY_ENVIRONMENT) delete env[name];
  const result = await runTool(input.sopsPath ?? "sops", args, {
    input: plaintext, reject: false, extendEnv: false, env, stripFinalNewline: false, timeout: 60_000,
  });
  if (result.failed || result.exitCode !== 0) throw encryptFailure(result, { display, sopsConfig, rule: rule.index });
  // A rule whose encrypted_regex matches nothing gives a "ciphertext" that is the plaintext.
  if (manifest && !hasEncryptedValue(result.stdout, input.format)) {
    throw new UsageError(`nothing in ${display} matches which keys rule ${rule.index + 1} of ${sopsConfig} encrypts ` +
      `(for a Secret: data or stringData); nothing was written`);
  }
  return { ciphertext: result.stdout, sopsConfig, recipients: recipients(result.stdout) };
}

interface SopsRun {
  readonly stderr: string;
  readonly exitCode?: number | undefined;
  /** `ENOENT` when the binary is missing. */
  readonly code?: string | undefined;
}

/** sops' message about why it did not encrypt, turned into what to do. Only its first line is kept. */
function encryptFailure(run: SopsRun, where: { display: string; sopsConfig: string; rule: number }): Error {
  if (notInstalled(run)) return new Error(installHint("sops", "https://github.com/getsops/sops/releases"));
  const { stderr } = run;
  if (stderr.includes("no matching creation rules")) {
    return new UsageError(`no creation rule in ${where.sopsConfig} matches ${where.display}; run \`tether secret keygen\` to add one`);
  }
  if (stderr.includes("empty key group") || stderr.includes("no keys provided")) {
    return new UsageError(`rule ${where.rule + 1} of ${where.sopsConfig} names no key to encrypt ${where.display} for; ` +
      "run `tether secret keygen` to add an age recipient");
  }
  const firstLine = stderr.split("\n").find((l) => l.trim() !== "")?.trim() ?? "no message";
  return new Error(`sops could not encrypt ${where.display} (exit ${run.exitCode ?? "?"}): ${firstLine}`);
}
