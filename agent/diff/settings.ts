// Global diff settings from ConfigMap `tether-cm`, with Argo CD's argocd-cm keys:
//   resource.customizations.ignoreDifferences.<group>_<kind> | .<kind> | .all   (jsonPointers, jqPathExpressions, managedFieldsManagers)
//   resource.customizations.ignoreResourceUpdates.<group>_<kind> | .all         (same shape)
//   resource.ignoreResourceUpdatesEnabled: "false"                              (default true, as Argo CD 3.x)
//   resource.compareoptions: "ignoreDifferencesOnResourceUpdates: false"        (default true)
// Each becomes a rule of the same shape as an Application's `spec.ignoreDifferences`, so one
// implementation (ignore.ts) serves both. Pure: the settings loader's data in, rules and problems out.
import YAML from "yaml";
import type { ResourceIgnoreDifferences } from "../api/types.ts";
import { parseJq } from "./jq.ts";

/** What the diff reads of one `tether-cm` override (agent/settings' ResourceOverride fits). */
export interface DiffOverride {
  readonly ignoreDifferences?: string;
  readonly ignoreResourceUpdates?: string;
}

/** The part of the agent's settings the diff reads (agent/settings' TetherSettings fits). */
export interface DiffSettingsSource {
  /** Keyed by `group/Kind`, `Kind` (core group) or a `*` pattern; `*\/*` for `.all`. */
  readonly overrides: ReadonlyMap<string, DiffOverride>;
  readonly data: Readonly<Record<string, string>>;
}

export interface DiffSettings {
  /** Rules every app's comparison adds to its own `spec.ignoreDifferences`. */
  readonly ignoreDifferences: readonly ResourceIgnoreDifferences[];
  /**
   * Fields whose changes alone do not start a reconcile (the drift watches): `ignoreResourceUpdates`
   * rules, plus the `ignoreDifferences` ones unless `ignoreDifferencesOnResourceUpdates: false`.
   * Empty when `resource.ignoreResourceUpdatesEnabled` is false.
   */
  readonly ignoreResourceUpdates: readonly ResourceIgnoreDifferences[];
}

export const NO_DIFF_SETTINGS: DiffSettings = { ignoreDifferences: [], ignoreResourceUpdates: [] };

/** A key that could not be read: left out, the rest applies. */
export interface DiffSettingsProblem {
  readonly key: string;
  readonly message: string;
}

/** Reads the global diff rules; a rule that cannot be read is reported (key and fix) and left out. */
export function diffSettingsOf(source: DiffSettingsSource): { readonly settings: DiffSettings; readonly problems: readonly DiffSettingsProblem[] } {
  const problems: DiffSettingsProblem[] = [];
  const rules = (field: keyof DiffOverride) => [...source.overrides.entries()].flatMap(([pattern, override]) => {
    const text = override[field];
    if (text === undefined) return [];
    const read = ruleOf(pattern, text);
    if (typeof read === "string") {
      problems.push({ key: `resource.customizations.${field}.${keyOf(pattern)}`, message: read });
      return [];
    }
    return [read];
  });
  const ignoreDifferences = rules("ignoreDifferences");
  const updates = rules("ignoreResourceUpdates");
  const enabled = flag(source.data["resource.ignoreResourceUpdatesEnabled"], true, "resource.ignoreResourceUpdatesEnabled", problems);
  const withDifferences = onResourceUpdates(source.data["resource.compareoptions"], problems);
  return {
    settings: { ignoreDifferences, ignoreResourceUpdates: enabled ? [...updates, ...withDifferences ? ignoreDifferences : []] : [] },
    problems,
  };
}

/** `group/Kind` → `group_Kind`, `*\/*` → `all`: the key a user wrote, for messages. */
function keyOf(pattern: string): string {
  return pattern === "*/*" ? "all" : pattern.replace("/", "_");
}

/** One override's YAML as a rule for its group/kind pattern, or what is wrong with it. */
export function ruleOf(pattern: string, text: string): ResourceIgnoreDifferences | string {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    return `not valid YAML: ${(err as Error).message.split("\n")[0] ?? ""}`;
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return "expected a map with jsonPointers, jqPathExpressions or managedFieldsManagers";
  const body = doc as Record<string, unknown>;
  const lists: Record<string, string[]> = {};
  for (const field of ["jsonPointers", "jqPathExpressions", "managedFieldsManagers"] as const) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) return `${field}: expected a list of strings`;
    lists[field] = value as string[];
  }
  for (const expression of lists.jqPathExpressions ?? []) {
    try {
      parseJq(expression);
    } catch (err) {
      return `jqPathExpressions: ${(err as Error).message}`;
    }
  }
  const slash = pattern.indexOf("/");
  return { group: slash < 0 ? "" : pattern.slice(0, slash), kind: slash < 0 ? pattern : pattern.slice(slash + 1), ...lists };
}

function flag(value: string | undefined, fallback: boolean, key: string, problems: DiffSettingsProblem[]): boolean {
  if (value === undefined || value.trim() === "") return fallback;
  if (/^(1|t|true)$/i.test(value.trim())) return true;
  if (/^(0|f|false)$/i.test(value.trim())) return false;
  problems.push({ key, message: `expected "true" or "false", got "${value}"` });
  return fallback;
}

/** `resource.compareoptions`' `ignoreDifferencesOnResourceUpdates` (default true, as Argo CD). */
function onResourceUpdates(text: string | undefined, problems: DiffSettingsProblem[]): boolean {
  if (text === undefined || text.trim() === "") return true;
  try {
    const value = (YAML.parse(text) as Record<string, unknown> | null)?.ignoreDifferencesOnResourceUpdates;
    return value === undefined ? true : value === true || value === "true";
  } catch {
    problems.push({ key: "resource.compareoptions", message: "not valid YAML" });
    return true;
  }
}

/**
 * The settings store's `current` read as diff settings: parsed again only when the settings object
 * changes (the store replaces it on each edit of tether-cm), each problem logged once with its key.
 */
export function liveDiffSettings(current: () => DiffSettingsSource, log: (line: string) => void): () => DiffSettings {
  let seen: DiffSettingsSource | undefined;
  let value = NO_DIFF_SETTINGS;
  return () => {
    const source = current();
    if (source === seen) return value;
    seen = source;
    const read = diffSettingsOf(source);
    value = read.settings;
    for (const p of read.problems) log(`tether-cm: ${p.key} ignored: ${p.message}`);
    return value;
  };
}
