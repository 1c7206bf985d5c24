// Decryption through the real `sops` binary: ciphertext on stdin, plaintext on stdout, age keys in
// the child's environment only. Plaintext is never written to disk and never put in a message.
import { TetherError } from "../errors.ts";
import { argv, runTool } from "../exec.ts";
import type { DecryptFn } from "../render/types.ts";

/** The file formats SOPS knows; it must be told, since it decides how the MAC is laid out. */
export type SopsFileFormat = "yaml" | "json" | "dotenv" | "ini" | "binary";

export interface SopsOptions {
  /** age identities (`AGE-SECRET-KEY-1...`). */
  readonly ageKeys: readonly string[];
  /** The sops binary; found on PATH by default. */
  readonly sopsPath?: string;
}

export interface SopsInput extends SopsOptions {
  /** The file's path relative to the repository root: messages name it. */
  readonly file: string;
  readonly format: SopsFileFormat;
}

// sops also looks for identities in ~/.ssh and ~/.config/sops/age: a home directory that does not
// exist keeps the agent's own SSH key or a developer's keys.txt from decrypting what the
// Application's key Secret cannot.
const NO_HOME = "/nonexistent/tether-sops-home";

/** The exit codes of `sops` that have a meaning for the user (sops' cmd/sops/codes). */
const MAC_MISMATCH = 51;
const MAC_NOT_FOUND = 52;
const DATA_KEY_NOT_FOUND = 128;

/** The format SOPS itself infers from a file name (`formats.FormatForPath`), as KSOPS uses it. */
export function formatForPath(file: string): SopsFileFormat {
  if (file.endsWith(".yaml") || file.endsWith(".yml")) return "yaml";
  if (file.endsWith(".json")) return "json";
  if (file.endsWith(".env")) return "dotenv";
  if (file.endsWith(".ini")) return "ini";
  return "binary";
}

/**
 * Decrypts the whole text of a SOPS-encrypted file and returns the plaintext bytes (binary files
 * stay bytes). Throws `TetherError("DecryptionFailed")` naming the file and its recipients.
 */
export async function decryptBytes(ciphertext: string | Uint8Array, input: SopsInput): Promise<Buffer> {
  const text = typeof ciphertext === "string" ? ciphertext : Buffer.from(ciphertext).toString("utf8");
  if (input.ageKeys.length === 0) {
    throw decryptionFailed(input.file,
      `is SOPS-encrypted for ${recipientList(text)} but no age key is configured; ` +
      "store the identity in Secret tether-sops (entry NAME.agekey) in the agent namespace, or run `tether secret keygen --kubeconfig K`, " +
      "and list the key Secret in the AppProject's spec.decryptionKeys");
  }
  // No file argument: the ciphertext comes on stdin.
  const args = argv({ options: ["decrypt", `--input-type=${input.format}`, `--output-type=${input.format}`] });
  const result = await runTool(input.sopsPath ?? "sops", args, {
    input: ciphertext, reject: false, extendEnv: false, encoding: "buffer", stripFinalNewline: false, timeout: 60_000,
    env: { PATH: process.env.PATH ?? "", HOME: NO_HOME, XDG_CONFIG_HOME: NO_HOME, SOPS_AGE_KEY: input.ageKeys.join("\n") },
  });
  if (result.exitCode === 0 && !result.failed) return Buffer.from(result.stdout);
  throw failure({ exitCode: result.exitCode, stderr: Buffer.from(result.stderr).toString("utf8"), text, input });
}

/** {@link decryptBytes} for text formats. */
export async function decryptText(ciphertext: string, input: SopsInput): Promise<string> {
  return (await decryptBytes(ciphertext, input)).toString("utf8");
}

/** The directory renderer's DecryptFn, bound to a set of keys. */
export function sopsDecryptor(opts: SopsOptions): DecryptFn {
  return (text, file, format) => decryptText(text, { ...opts, file, format });
}

/** The age recipients a SOPS file names (YAML, JSON, dotenv or INI metadata), for messages. */
export function recipients(text: string): string[] {
  return [...new Set([...text.matchAll(/recipient"?\s*[:=]\s*"?(age1[0-9a-z]+)/g)].map((m) => m[1]!))];
}

function recipientList(text: string): string {
  const found = recipients(text);
  return found.length > 0 ? found.join(", ") : "no age recipient (other key types are not supported)";
}

interface FailedRun {
  readonly exitCode: number | undefined;
  readonly stderr: string;
  readonly text: string;
  readonly input: SopsInput;
}

/**
 * The message for a failed `sops decrypt`. sops only ever prints errors about the ciphertext it was
 * given (plaintext exists only once the MAC has been verified), and only its first line is kept.
 */
function failure({ exitCode, stderr, text, input }: FailedRun): TetherError {
  const { file } = input;
  if (exitCode === MAC_MISMATCH || exitCode === MAC_NOT_FOUND || stderr.includes("MAC mismatch")) {
    return decryptionFailed(file,
      "was modified after it was encrypted (MAC mismatch) and is refused; restore it from Git history or re-encrypt it with `tether secret encrypt " + file + "`");
  }
  if (exitCode === DATA_KEY_NOT_FOUND || stderr.includes("Failed to get the data key")) {
    const n = input.ageKeys.length;
    return decryptionFailed(file,
      `none of the ${n} configured age key${n === 1 ? "" : "s"} can decrypt it; it is encrypted for ${recipientList(text)}: ` +
      "add the matching identity to Secret tether-sops (entry NAME.agekey), or re-encrypt the file for your key");
  }
  if (stderr.includes("sops metadata not found")) {
    return decryptionFailed(file, `has no sops metadata: it is not a SOPS-encrypted ${input.format} file (encrypt it with \`tether secret encrypt ${file}\`)`);
  }
  if (exitCode === undefined) return decryptionFailed(file, "sops did not finish (timed out or could not be started); check that the sops binary is installed");
  const firstLine = stderr.split("\n").find((l) => l.trim() !== "")?.trim() ?? "no message";
  return decryptionFailed(file, `sops cannot decrypt it as ${input.format} (exit ${exitCode}): ${firstLine}`);
}

function decryptionFailed(file: string, why: string): TetherError {
  return new TetherError("DecryptionFailed", `${file}: ${why}`, { object: file, retryable: false });
}
