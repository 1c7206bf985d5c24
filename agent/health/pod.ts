import type { Manifest } from "../api/types.ts";
import { condition, field, list, num, str } from "./fields.ts";
import { health, type HealthResult } from "./result.ts";

/**
 * Pod health from its phase and container states, as Argo CD judges it. Pods that run to
 * completion (restartPolicy Never/OnFailure) are usually hooks: they are never Degraded while they
 * wait for an image, so a hook is not failed for a problem that later resolves itself.
 */
export function podHealth(obj: Manifest): HealthResult {
  const restartPolicy = str(obj, "spec", "restartPolicy") ?? "Always";
  const message = str(obj, "status", "message");
  if (restartPolicy === "Always") {
    const stuck = stuckContainers(obj);
    if (stuck.length > 0) return health("Degraded", stuck.join(", "));
  }
  switch (str(obj, "status", "phase")) {
    case "Pending":
      return health("Progressing", message);
    case "Succeeded":
      return health("Healthy", message);
    case "Failed":
      return health("Degraded", message ?? failureMessage(obj));
    case "Running":
      return runningPodHealth(obj, restartPolicy);
    default:
      return health("Unknown", message);
  }
}

function runningPodHealth(obj: Manifest, restartPolicy: string): HealthResult {
  const message = str(obj, "status", "message");
  // A finite pod that is still running is a hook at work, not a finished one.
  if (restartPolicy !== "Always") return health("Progressing", message);
  if (condition(obj, "Ready")?.status === "True") return health("Healthy", message);
  const restarted = containerStatuses(obj, "containerStatuses").some((c) => field(c, "lastState", "terminated") !== undefined);
  return health(restarted ? "Degraded" : "Progressing", message);
}

/** Containers waiting for a reason that does not fix itself: CrashLoopBackOff, ImagePullBackOff, ErrImagePull, CreateContainerConfigError... */
function stuckContainers(obj: Manifest): string[] {
  const all = [...containerStatuses(obj, "initContainerStatuses"), ...containerStatuses(obj, "containerStatuses")];
  return all.flatMap((c) => {
    const reason = str(c, "state", "waiting", "reason") ?? "";
    if (!(reason.startsWith("Err") || reason.endsWith("Error") || reason.endsWith("BackOff"))) return [];
    const detail = str(c, "state", "waiting", "message");
    return [`container "${str(c, "name") ?? ""}" is ${reason}${detail ? `: ${detail}` : ""}`];
  });
}

/** Why a failed pod failed, read from the first container that terminated badly. */
function failureMessage(obj: Manifest): string | undefined {
  for (const c of [...containerStatuses(obj, "initContainerStatuses"), ...containerStatuses(obj, "containerStatuses")]) {
    const message = str(c, "state", "terminated", "message");
    if (message) return message;
    if (str(c, "state", "terminated", "reason") === "OOMKilled") return "OOMKilled";
    const exitCode = num(c, "state", "terminated", "exitCode") ?? 0;
    if (exitCode !== 0) return `container "${str(c, "name") ?? ""}" failed with exit code ${exitCode}`;
  }
  return undefined;
}

function containerStatuses(obj: Manifest, key: "containerStatuses" | "initContainerStatuses"): readonly unknown[] {
  return list(obj, "status", key);
}
