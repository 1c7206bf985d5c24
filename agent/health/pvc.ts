import type { Manifest } from "../api/types.ts";
import { str } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/** PersistentVolumeClaim health from its phase: Bound, Pending (waiting for a volume) or Lost (its volume is gone). */
export function persistentVolumeClaimHealth(obj: Manifest): HealthResult {
  const phase = str(obj, "status", "phase");
  switch (phase) {
    case "Bound":
      return health("Healthy");
    case "Pending":
      return health("Progressing", "Waiting for a volume to be bound");
    case "Lost":
      return health("Degraded", "The bound PersistentVolume no longer exists; the data it held is unavailable");
    default:
      return health("Unknown", phase === undefined ? "The claim has no phase yet" : `Unexpected phase "${phase}"`);
  }
}
