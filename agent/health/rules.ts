// The health customizations in force: tether-cm's Lua and CEL checks, compiled once per settings
// change. The agent installs them with useHealthRules when tether-cm changes; every assessment
// (sync waves, hooks, app health, the UI) then reads the same rules, as Argo CD's controller does.
import { CUSTOMIZATIONS_KEY, EMPTY_SETTINGS, overrideFor, type SettingsProblem, type TetherSettings } from "../settings/index.ts";
import { compileCel, type CelCheck } from "./cel.ts";

/** A user's check for one kind, found in tether-cm. */
export type CustomCheck =
  | { readonly kind: "lua"; readonly pattern: string; readonly script: string; readonly openLibs: boolean }
  | { readonly kind: "cel"; readonly pattern: string; readonly check: CelCheck }
  | { readonly kind: "invalid"; readonly pattern: string; readonly message: string };

export interface HealthRules {
  readonly settings: TetherSettings;
  /** CEL bodies compiled, by pattern; a string is why one did not compile. */
  readonly cel: ReadonlyMap<string, CelCheck | string>;
}

/** Compiles tether-cm's health customizations; a CEL body that does not compile is reported and judged Unknown. */
export function healthRules(settings: TetherSettings): { readonly rules: HealthRules; readonly problems: readonly SettingsProblem[] } {
  const cel = new Map<string, CelCheck | string>();
  const problems: SettingsProblem[] = [];
  for (const [pattern, override] of settings.overrides) {
    if (override.healthCEL === undefined) continue;
    const compiled = compileCel(override.healthCEL);
    cel.set(pattern, compiled);
    if (typeof compiled === "string") problems.push({ key: `${CUSTOMIZATIONS_KEY}.healthCEL.${keyOf(pattern)}`, message: compiled });
  }
  return { rules: { settings, cel }, problems };
}

/** The user's check for `key` (`group/Kind`): Lua first, then CEL, each exact key before wildcards. */
export function customCheck(rules: HealthRules, key: string): CustomCheck | undefined {
  const lua = overrideFor(rules.settings, key, (o) => o.healthLua !== undefined && o.healthLua !== "");
  if (lua) return { kind: "lua", pattern: lua.pattern, script: lua.override.healthLua ?? "", openLibs: lua.override.useOpenLibs ?? false };
  const cel = overrideFor(rules.settings, key, (o) => o.healthCEL !== undefined);
  if (!cel) return undefined;
  const compiled = rules.cel.get(cel.pattern) ?? compileCel(cel.override.healthCEL ?? "");
  if (typeof compiled === "string") {
    return { kind: "invalid", pattern: cel.pattern, message: `${CUSTOMIZATIONS_KEY}.healthCEL.${keyOf(cel.pattern)} in tether-cm: ${compiled}` };
  }
  return { kind: "cel", pattern: cel.pattern, check: compiled };
}

/** `cert-manager.io/Certificate` → `cert-manager.io_Certificate`, the key's spelling in tether-cm. */
function keyOf(pattern: string): string {
  return pattern === "*/*" ? "all" : pattern.replace("/", "_");
}

export const NO_RULES: HealthRules = healthRules(EMPTY_SETTINGS).rules;

let inUse: HealthRules = NO_RULES;

/** Installs the rules every assessment without explicit rules uses (the agent, on each tether-cm change). */
export function useHealthRules(rules: HealthRules): void {
  inUse = rules;
}

export function healthRulesInUse(): HealthRules {
  return inUse;
}
