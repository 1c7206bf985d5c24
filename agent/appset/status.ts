// An ApplicationSet's status, decided without I/O: Argo CD's conditions (ParametersGenerated,
// ErrorOccurred, ResourcesUpToDate, RolloutProgressing) with its reasons, and `resources` with each
// generated Application's sync and health.
import { API_VERSION, type AppSetCondition, type AppSetResourceStatus, type Application, type ApplicationSetStatus } from "../api/types.ts";
import { splitApiVersion } from "../api/gvk.ts";

/** Argo CD's reasons (ApplicationSetReasonType). */
export type AppSetReason = "ApplicationSetUpToDate" | "ParametersGenerated" | "ErrorOccurred" | "ApplicationGenerationFromParamsError"
  | "RenderTemplateParamsError" | "ApplicationValidationError" | "CreateApplicationError" | "UpdateApplicationError"
  | "DeleteApplicationError" | "RefreshApplicationError";

/** How one reconcile of a set ended. */
export type AppSetOutcome =
  /** The generators or templates failed: nothing was created, updated or deleted. */
  | { readonly kind: "generation-failed"; readonly reason: string; readonly message: string }
  /** Parameters generated; `error` when something was refused or a write failed (the rest was written). */
  | { readonly kind: "generated"; readonly error?: { readonly reason: AppSetReason; readonly message: string } };

export interface Rolling {
  readonly status: "True" | "False";
  readonly reason: string;
  readonly message: string;
  /** What is wrong with the steps (unknown operators, an app in two steps, empty steps): InvalidRolloutConfig. */
  readonly issues?: readonly string[];
}

/** The conditions after `outcome`, keeping each one's lastTransitionTime while its status stays. Pure. */
export function conditionsOf(outcome: AppSetOutcome, previous: readonly AppSetCondition[], now: string, rolling?: Rolling): AppSetCondition[] {
  const next: Omit<AppSetCondition, "lastTransitionTime">[] = [];
  if (outcome.kind === "generation-failed") {
    next.push({ type: "ErrorOccurred", status: "True", reason: outcome.reason, message: outcome.message });
    next.push({ type: "ParametersGenerated", status: "False", reason: "ErrorOccurred", message: outcome.message });
    next.push({ type: "ResourcesUpToDate", status: "False", reason: "ErrorOccurred", message: outcome.message });
  } else {
    next.push({ type: "ParametersGenerated", status: "True", reason: "ParametersGenerated", message: "Successfully generated parameters for all Applications" });
    if (outcome.error) {
      next.push({ type: "ErrorOccurred", status: "True", reason: outcome.error.reason, message: outcome.error.message });
      next.push({ type: "ResourcesUpToDate", status: "False", reason: "ErrorOccurred", message: outcome.error.message });
    } else {
      const message = "All applications have been generated successfully";
      next.push({ type: "ErrorOccurred", status: "False", reason: "ApplicationSetUpToDate", message });
      next.push({ type: "ResourcesUpToDate", status: "True", reason: "ApplicationSetUpToDate", message });
    }
  }
  if (rolling) {
    next.push({ type: "RolloutProgressing", status: rolling.status, reason: rolling.reason, message: rolling.message });
    const issues = rolling.issues ?? [];
    next.push(issues.length > 0
      ? { type: "InvalidRolloutConfig", status: "True", reason: "ApplicationSetInvalidRolloutConfig", message: issues.join("; ") }
      : { type: "InvalidRolloutConfig", status: "False", reason: "ApplicationSetValidRolloutConfig", message: "Rolling Sync Configured correctly" });
  } else if (outcome.kind === "generation-failed") {
    // A failed generation says nothing about the rollout: its conditions stay as they were.
    next.push(...previous.filter((c) => c.type === "RolloutProgressing" || c.type === "InvalidRolloutConfig"));
  }
  const order = ["ErrorOccurred", "ParametersGenerated", "ResourcesUpToDate", "RolloutProgressing", "InvalidRolloutConfig"];
  return next.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type)).map((c) => {
    const before = previous.find((p) => p.type === c.type);
    return { ...c, lastTransitionTime: before?.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : now };
  });
}

/** `status.resources`: each Application the set owns, with its sync and health, sorted by name. Pure. */
export function resourcesOf(apps: readonly Application[]): AppSetResourceStatus[] {
  const { group, version } = splitApiVersion(API_VERSION);
  return apps.map((a) => ({
    group, version, kind: "Application", name: a.metadata?.name ?? "", namespace: a.metadata?.namespace ?? "",
    status: a.status?.sync?.status ?? "Unknown",
    health: { status: a.status?.health?.status ?? "Unknown", ...(a.status?.health?.message ? { message: a.status.health.message } : {}) },
  })).sort((a, b) => a.name.localeCompare(b.name));
}

/** The status to write, from its parts; fields with nothing in them left out. */
export function statusOf(parts: { conditions: AppSetCondition[]; resources?: AppSetResourceStatus[];
  applicationStatus?: ApplicationSetStatus["applicationStatus"] }): ApplicationSetStatus {
  return {
    conditions: parts.conditions,
    ...(parts.resources ? { resources: parts.resources } : {}),
    ...(parts.applicationStatus && parts.applicationStatus.length > 0 ? { applicationStatus: parts.applicationStatus } : {}),
  };
}
