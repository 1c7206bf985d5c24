// Settings stage: ConfigMap `tether-cm` (Argo CD's argocd-cm keys) in, typed settings out. See README.md.
export {
  CUSTOMIZATIONS_KEY, EMPTY_SETTINGS, matchesPattern, overrideFor, parseSettings, patternOf, SETTINGS_CONFIGMAP,
  type ParsedSettings, type ResourceOverride, type SettingsProblem, type TetherSettings,
} from "./settings.ts";
export { readSettings, SettingsStore, watchSettings, type SettingsListener, type SettingsWatch, type SettingsWatchOptions } from "./watch.ts";
