// What the web UI shows of ApplicationSets: each set, whether it is up to date (or why not), and the
// Applications it generated with their sync and health, each a link to its page. Pure.
import type { ApplicationSet } from "../api/types.ts";

export interface AppSetSummary {
  readonly name: string;
  /** The generator kinds: `list`, `git`, `matrix`... */
  readonly generators: readonly string[];
  readonly upToDate: "True" | "False" | "Unknown";
  /** The ErrorOccurred message, or the rollout step running; empty when all is well. */
  readonly message: string;
  readonly strategy: string;
  readonly applications: readonly { readonly name: string; readonly sync: string; readonly health: string }[];
}

export function summarizeAppSet(set: ApplicationSet): AppSetSummary {
  const condition = (type: string) => set.status?.conditions?.find((c) => c.type === type);
  const error = condition("ErrorOccurred");
  const rollout = condition("RolloutProgressing");
  return {
    name: set.metadata?.name ?? "",
    generators: set.spec.generators.map((g) => Object.keys(g).find((k) => k !== "selector" && k !== "template") ?? "?"),
    upToDate: condition("ResourcesUpToDate")?.status ?? "Unknown",
    message: error?.status === "True" ? error.message : rollout?.status === "True" ? rollout.message : "",
    strategy: set.spec.strategy?.type ?? "AllAtOnce",
    applications: (set.status?.resources ?? []).map((r) => ({ name: r.name, sync: r.status ?? "Unknown", health: r.health?.status ?? "Unknown" })),
  };
}
