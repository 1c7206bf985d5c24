// Test helpers: real age identities from `age-keygen` and files encrypted by the real `sops`.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { toolPath } from "../../../test/harness/paths.ts";
import type { SopsFileFormat } from "../sops.ts";

export interface AgeKey {
  /** `AGE-SECRET-KEY-1...` */
  readonly identity: string;
  /** `age1...` */
  readonly recipient: string;
}

/** A fresh age identity from the real age-keygen. */
export async function ageKey(): Promise<AgeKey> {
  const { stdout } = await execa(toolPath("age-keygen"));
  const identity = /AGE-SECRET-KEY-1[0-9A-Z]+/.exec(stdout)?.[0];
  const recipient = /public key: (age1[0-9a-z]+)/.exec(stdout)?.[1];
  if (identity === undefined || recipient === undefined) throw new Error(`unexpected age-keygen output`);
  return { identity, recipient };
}

export interface EncryptOptions {
  readonly recipient: string;
  readonly format: SopsFileFormat;
  /** Encrypt only matching keys (`^(data|stringData)$` keeps metadata readable). */
  readonly encryptedRegex?: string;
}

const EXTENSIONS: Record<SopsFileFormat, string> = { yaml: "yaml", json: "json", dotenv: "env", ini: "ini", binary: "bin" };

/** `plaintext` encrypted by the real sops, as `sops encrypt` writes it to a file. */
export async function encrypt(plaintext: string | Uint8Array, opts: EncryptOptions): Promise<string> {
  // An empty working directory: no .sops.yaml of this repository applies.
  const cwd = await mkdtemp(join(tmpdir(), "tether-sops-test-"));
  try {
    const args = ["encrypt", "--age", opts.recipient, "--input-type", opts.format, "--output-type", opts.format];
    if (opts.encryptedRegex !== undefined) args.push("--encrypted-regex", opts.encryptedRegex);
    // From stdin sops needs a file name; the extension matches the format, nothing else is read.
    args.push("--filename-override", join(cwd, `input.${EXTENSIONS[opts.format]}`));
    const { stdout } = await execa(toolPath("sops"), args, { input: plaintext, cwd, stripFinalNewline: false });
    return stdout;
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}
