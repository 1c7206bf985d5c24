// Refuses a Secret committed in plain text: neither Argo CD nor Flux stops that mistake.
import { TetherError } from "../errors.ts";
import type { Manifest } from "../api/types.ts";

export const ALLOW_PLAINTEXT_ANNOTATION = "tether.dev/allow-plaintext-secrets";

/** Throws PlaintextSecret for a Secret that did not pass through decryption, unless the app opted out. */
export function checkPlaintextSecrets(
  objects: readonly { readonly manifest: Manifest; readonly file: string; readonly decrypted: boolean }[],
  appAnnotations: Readonly<Record<string, string>> | undefined,
): void {
  if (appAnnotations?.[ALLOW_PLAINTEXT_ANNOTATION] === "true") return;
  const plain = objects.find((o) => o.manifest.kind === "Secret" && o.manifest.apiVersion === "v1" && !o.decrypted);
  if (plain) {
    const where = `Secret/${plain.manifest.metadata.name ?? "?"}`;
    throw new TetherError("PlaintextSecret",
      `${plain.file}: ${where} is not SOPS-encrypted and was not applied; encrypt it with \`tether secret encrypt ${plain.file}\` ` +
      `(or set annotation ${ALLOW_PLAINTEXT_ANNOTATION}: "true" on the Application to allow plain Secrets)`, { object: where });
  }
}
