// The agent's settings ConfigMap `tether-cm`, read with Argo CD's `argocd-cm` keys so an Argo CD user
// carries the configuration over by renaming the ConfigMap. Pure: data in, settings and problems out.
import YAML from "yaml";

/** The ConfigMap the agent reads its settings from, in its own namespace. */
export const SETTINGS_CONFIGMAP = "tether-cm";

/** Prefix of every per-kind key; also the legacy block's own key. */
export const CUSTOMIZATIONS_KEY = "resource.customizations";

/**
 * What `tether-cm` says about one group/kind pattern, as Argo CD's `ResourceOverride`. The texts stay as
 * written (Lua, YAML): each stage that uses one parses it and reports its own errors.
 */
export interface ResourceOverride {
  /** `health.lua`: a Lua script returning `{status, message}`. */
  readonly healthLua?: string;
  /** Whether that script gets the full standard libraries (string, math…) instead of Argo's safe set. */
  readonly useOpenLibs?: boolean;
  /** Flux-style `healthCheckExprs` as YAML: `current`, `inProgress`, `failed` CEL expressions (Tether's key). */
  readonly healthCEL?: string;
  /** `actions`: YAML with `discovery.lua` and `definitions` (agent/actions, when present). */
  readonly actions?: string;
  /** `ignoreDifferences`: YAML with `jsonPointers`, `jqPathExpressions`, `managedFieldsManagers`. */
  readonly ignoreDifferences?: string;
  /** `ignoreResourceUpdates`: same shape as `ignoreDifferences`. */
  readonly ignoreResourceUpdates?: string;
  /** `knownTypeFields`, kept so that a carried-over ConfigMap is not reported as broken. */
  readonly knownTypeFields?: string;
}

/** Everything the agent reads from `tether-cm`. */
export interface TetherSettings {
  /**
   * Overrides keyed by pattern `group/Kind` (`Kind` for the core group; `*` wildcards allowed, as in
   * Argo CD 2.x; `all` is `*\/*`). Later keys win over the legacy block for the same field, as in Argo CD.
   */
  readonly overrides: ReadonlyMap<string, ResourceOverride>;
  /** The ConfigMap's raw data, for settings a later stage reads itself. */
  readonly data: Readonly<Record<string, string>>;
}

/** One key that could not be read: it is left out, the rest still applies. */
export interface SettingsProblem {
  readonly key: string;
  readonly message: string;
}

export interface ParsedSettings {
  readonly settings: TetherSettings;
  readonly problems: readonly SettingsProblem[];
}

export const EMPTY_SETTINGS: TetherSettings = { overrides: new Map(), data: {} };

type Field = keyof ResourceOverride;

/** The `<type>` part of `resource.customizations.<type>.<group_kind>` and the field it sets. */
const SPLIT_KEY_FIELDS: Readonly<Record<string, Field>> = {
  health: "healthLua",
  useOpenLibs: "useOpenLibs",
  healthCEL: "healthCEL",
  actions: "actions",
  ignoreDifferences: "ignoreDifferences",
  ignoreResourceUpdates: "ignoreResourceUpdates",
  knownTypeFields: "knownTypeFields",
};

/** The fields of one entry of the legacy `resource.customizations` block, in Argo CD's spelling. */
const LEGACY_FIELDS: Readonly<Record<string, Field>> = {
  "health.lua": "healthLua",
  "health.lua.useOpenLibs": "useOpenLibs",
  "health.cel": "healthCEL",
  actions: "actions",
  ignoreDifferences: "ignoreDifferences",
  ignoreResourceUpdates: "ignoreResourceUpdates",
  knownTypeFields: "knownTypeFields",
};

/**
 * Reads the data of `tether-cm`. A key that cannot be read is reported and left out; everything else
 * still applies, so one typo does not switch off every other customization.
 */
export function parseSettings(data: Readonly<Record<string, string>> | undefined): ParsedSettings {
  const problems: SettingsProblem[] = [];
  const overrides = new Map<string, Record<string, unknown>>();
  const entry = (key: string) => overrides.get(key) ?? overrides.set(key, {}).get(key)!;
  const legacy = data?.[CUSTOMIZATIONS_KEY];
  if (legacy) readLegacy(legacy, entry, problems);
  for (const [key, value] of Object.entries(data ?? {})) {
    if (!key.startsWith(`${CUSTOMIZATIONS_KEY}.`)) continue;
    const split = splitKey(key);
    if (typeof split === "string") {
      problems.push({ key, message: split });
      continue;
    }
    const set = setField(entry(split.pattern), split.field, value);
    if (set) problems.push({ key, message: set });
  }
  return { settings: { overrides, data: { ...data } }, problems };
}

/** `resource.customizations.<type>.<group_kind>` → the pattern and field, or why not. */
function splitKey(key: string): { pattern: string; field: Field } | string {
  const rest = key.slice(CUSTOMIZATIONS_KEY.length + 1);
  const dot = rest.indexOf(".");
  const type = dot < 0 ? rest : rest.slice(0, dot);
  const field = SPLIT_KEY_FIELDS[type];
  if (field === undefined) {
    return `unknown customization type "${type}"; expected one of ${Object.keys(SPLIT_KEY_FIELDS).join(", ")}`;
  }
  const pattern = dot < 0 ? undefined : patternOf(rest.slice(dot + 1));
  if (pattern === undefined) {
    return `expected resource.customizations.${type}.<group>_<kind> or resource.customizations.${type}.<kind>, `
      + `e.g. resource.customizations.${type}.cert-manager.io_Certificate`;
  }
  return { pattern, field };
}

/** `cert-manager.io_Certificate` → `cert-manager.io/Certificate`; `Pod` → `Pod`; `all` → `*\/*`. */
export function patternOf(groupKind: string): string | undefined {
  if (groupKind === "all") return "*/*";
  const parts = groupKind.split("_");
  if (parts.length === 2 && parts[0] !== "" && parts[1] !== "") return `${parts[0]}/${parts[1]}`;
  if (parts.length === 1 && groupKind !== "") return groupKind;
  return undefined;
}

function setField(target: Record<string, unknown>, field: Field, value: unknown): string | undefined {
  if (field === "useOpenLibs") {
    const flag = typeof value === "boolean" ? value : parseBool(String(value));
    if (flag === undefined) return `expected "true" or "false", got "${String(value)}"`;
    target[field] = flag;
    return undefined;
  }
  if (typeof value !== "string") return `expected a string (a block scalar, "|"), got ${typeof value}`;
  target[field] = value;
  return undefined;
}

/** Go's strconv.ParseBool, which Argo CD uses for `useOpenLibs`. */
function parseBool(value: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
  return undefined;
}

function readLegacy(text: string, entry: (key: string) => Record<string, unknown>, problems: SettingsProblem[]): void {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    problems.push({ key: CUSTOMIZATIONS_KEY, message: `not valid YAML: ${(err as Error).message.split("\n")[0] ?? ""}` });
    return;
  }
  if (doc === null || doc === undefined) return;
  if (typeof doc !== "object" || Array.isArray(doc)) {
    problems.push({ key: CUSTOMIZATIONS_KEY, message: "expected a map keyed by group/Kind (e.g. cert-manager.io/Certificate:)" });
    return;
  }
  for (const [groupKind, body] of Object.entries(doc as Record<string, unknown>)) {
    const key = `${CUSTOMIZATIONS_KEY}: ${groupKind}`;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      problems.push({ key, message: "expected a map with health.lua, actions, ignoreDifferences…" });
      continue;
    }
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      const field = LEGACY_FIELDS[name];
      if (field === undefined) {
        problems.push({ key: `${key}.${name}`, message: `unknown field; expected one of ${Object.keys(LEGACY_FIELDS).join(", ")}` });
        continue;
      }
      const set = setField(entry(groupKind), field, value);
      if (set) problems.push({ key: `${key}.${name}`, message: set });
    }
  }
}

/**
 * Whether `pattern` (with `*` wildcards, as Argo CD's glob) matches the key `group/Kind` or `Kind`.
 * `*` matches any run of characters, `/` included, as Argo CD's util/glob does.
 */
export function matchesPattern(pattern: string, key: string): boolean {
  if (!pattern.includes("*")) return pattern === key;
  const re = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`);
  return re.test(key);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The override for an object's `group/Kind` key: the exact key first, then the first wildcard
 * pattern (in key order, so the choice is stable) whose field `has` is set, as Argo CD looks up
 * health scripts.
 */
export function overrideFor(
  settings: TetherSettings, key: string, has: (o: ResourceOverride) => boolean,
): { readonly pattern: string; readonly override: ResourceOverride } | undefined {
  const exact = settings.overrides.get(key);
  if (exact && has(exact)) return { pattern: key, override: exact };
  const patterns = [...settings.overrides.keys()].filter((p) => p.includes("*")).sort();
  for (const pattern of patterns) {
    const override = settings.overrides.get(pattern)!;
    if (has(override) && matchesPattern(pattern, key)) return { pattern, override };
  }
  return undefined;
}
