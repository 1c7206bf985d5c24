// Test helpers: fixture trees copied into a fresh throwaway checkout, as the source stage makes one.
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encrypt } from "../../decrypt/testdata/keys.ts";
import { formatForPath } from "../../decrypt/sops.ts";

/** agent/render/testdata */
export const TESTDATA = dirname(fileURLToPath(import.meta.url));

/** A fresh empty directory standing for a checkout, under `parent`; `cleanup` removes it. */
export async function emptyCheckout(parent = tmpdir()): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(parent, "tether-checkout-test-"));
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Writes `files` (path -> content) under `root`. */
export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/**
 * Copies `testdata/<fixture>` to `root/<to>`, leaving out `want.yaml` and READMEs, and encrypting
 * every `*.enc.*` file for `recipient` with the real sops (manifests with
 * `encrypted_regex: ^(data|stringData)$`, as KSOPS's examples do, other files whole).
 */
export async function copyFixture(fixture: string, root: string, opts: { to?: string; recipient: string }): Promise<void> {
  const from = join(TESTDATA, fixture);
  const to = join(root, opts.to ?? "");
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name === "want.yaml" || entry.name === "README.md") continue;
    const rel = join(entry.parentPath, entry.name).slice(from.length + 1);
    const target = join(to, rel);
    await mkdir(dirname(target), { recursive: true });
    if (!entry.name.includes(".enc.")) {
      await cp(join(from, rel), target);
      continue;
    }
    const plaintext = await readFile(join(from, rel), "utf8");
    const format = formatForPath(entry.name);
    const manifest = format === "yaml" && /^apiVersion:/m.test(plaintext);
    await writeFile(target, await encrypt(plaintext, { recipient: opts.recipient, format, ...(manifest ? { encryptedRegex: "^(data|stringData)$" } : {}) }));
  }
}
