// Diff stage: desired and live objects in, Synced/OutOfSync and a readable diff out. See README.md.
export { compare, isSynced, type CompareInput, type CompareResult } from "./compare.ts";
export { normalize, type NormalizeOptions } from "./normalize.ts";
export {
  DECRYPTED_PATHS_ANNOTATION, decryptedIn, decryptedPaths, markDecrypted, maskDecrypted, maskForView, maskLive, maskSecret, maskSecrets, SECRET_MASK,
} from "./secret.ts";
export { unifiedDiff, type DiffOptions } from "./unified.ts";
