// Decryption through the real `sops` binary: ciphertext on stdin, plaintext on stdout, age keys in
// the child's environment only. Plaintext is never written to disk.
import { execa } from "execa";
import { TetherError } from "../errors.ts";
import type { DecryptFn, SopsFormat } from "../render/types.ts";

export interface SopsOptions {
  /** age identities (`AGE-SECRET-KEY-1...`). */
  readonly ageKeys: readonly string[];
  /** The sops binary; found on PATH by default. */
  readonly sopsPath?: string;
}

/** A DecryptFn bound to a set of keys. */
export function sopsDecryptor(opts: SopsOptions): DecryptFn {
  return (text, file, format) => decrypt(text, { file, format, ...opts });
}

async function decrypt(text: string, opts: SopsOptions & { file: string; format: SopsFormat }): Promise<string> {
  if (opts.ageKeys.length === 0) {
    throw new TetherError("DecryptionFailed",
      `${opts.file}: is SOPS-encrypted for ${recipients(text).join(", ") || "unknown recipients"} but no age key is configured; ` +
      "store the identity in Secret tether-sops (entry NAME.agekey) in the agent namespace, or run `tether secret keygen --kubeconfig K`",
      { object: opts.file });
  }
  const result = await execa(opts.sopsPath ?? "sops", ["decrypt", "--input-type", opts.format, "--output-type", opts.format, "/dev/stdin"], {
    input: text, reject: false, extendEnv: false,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", SOPS_AGE_KEY: opts.ageKeys.join("\n") },
  });
  if (result.exitCode === 0) return result.stdout;
  const why = result.stderr.includes("MAC mismatch")
    ? "the file was modified after it was encrypted (MAC mismatch); re-encrypt it with `tether secret encrypt`"
    : `none of the configured age keys can decrypt it (it is encrypted for ${recipients(text).join(", ") || "unknown recipients"}); add the matching identity to Secret tether-sops`;
  throw new TetherError("DecryptionFailed", `${opts.file}: ${why}`, { object: opts.file });
}

/** The age recipients a SOPS file names, for messages. */
export function recipients(text: string): string[] {
  return [...new Set([...text.matchAll(/"?recipient"?\s*:\s*"?(age1[0-9a-z]+)/g)].map((m) => m[1]!))];
}
