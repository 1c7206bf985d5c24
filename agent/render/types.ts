// What every renderer (directory, kustomize, helm) returns, and the decryption boundary it calls.
import type { Manifest } from "../api/types.ts";

/** One object produced by a render. */
export interface RenderedObject {
  readonly manifest: Manifest;
  /** The file it came from, relative to the repository root with `/` separators: for messages and status. */
  readonly file: string;
  /** Whether it came out of a SOPS-encrypted file: its content must never be logged or persisted. */
  readonly decrypted: boolean;
}

/** The file formats SOPS distinguishes; it must be told, since it decides the MAC layout. */
export type SopsFormat = "yaml" | "json";

/**
 * Turns the whole text of a SOPS-encrypted file into its plaintext. `file` is the path relative to
 * the repository root, for messages. The decrypt stage provides the real one; it throws
 * `TetherError("DecryptionFailed")`.
 */
export type DecryptFn = (text: string, file: string, format: SopsFormat) => Promise<string>;

/**
 * What Helm's `.Capabilities` describes, as Argo CD passes it to `helm template`: the destination's
 * version (`--kube-version`) and every API it serves (`--api-versions`), each `group/version` and
 * `group/version/Kind` (core: `v1`, `v1/Pod`). Absent without a cluster (`tether preview`): Helm's defaults.
 */
export interface Capabilities {
  /** The API server's gitVersion, e.g. `v1.37.2`. */
  readonly kubeVersion: string;
  /** Sorted, unique. */
  readonly apiVersions: readonly string[];
}
