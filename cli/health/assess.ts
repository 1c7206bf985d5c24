// What `tether health` does, without the terminal: objects and tether-cm in, verdicts out, through the
// very function the agent uses (agent/health's explainHealth with the rules tether-cm gives).
import { parseAllDocuments } from "yaml";
import type { Manifest } from "../../agent/api/types.ts";
import { explainHealth, healthRules, kindKey, type HealthRule } from "../../agent/health/index.ts";
import type { HealthStatusCode } from "../../agent/api/types.ts";
import { parseSettings, type SettingsProblem, type TetherSettings } from "../../agent/settings/index.ts";
import { UsageError } from "../errors.ts";

/** One object's verdict, as `tether health -o json` prints it. */
export interface Verdict {
  readonly kind: string;
  readonly name: string;
  readonly status: HealthStatusCode;
  readonly message?: string;
}

export interface AssessInput {
  /** Files' texts (YAML or JSON, several documents, `kind: List` unwrapped), each with its name for errors. */
  readonly files: readonly { readonly name: string; readonly text: string }[];
  /** A tether-cm ConfigMap manifest (or bare `data:` map): the customizations the agent would use. */
  readonly config?: { readonly name: string; readonly text: string };
  /** `--lua`: a health.lua that judges every object given, as `resource.customizations.health.<its kind>`. */
  readonly lua?: string;
  /** `--use-open-libs`: the script gets Argo CD's open libraries (resource.customizations.useOpenLibs). */
  readonly openLibs?: boolean;
}

export interface AssessOutput {
  readonly verdicts: readonly (Verdict & { readonly rule: HealthRule })[];
  readonly problems: readonly SettingsProblem[];
}

export function assess(input: AssessInput): AssessOutput {
  const objects = input.files.flatMap((f) => objectsOf(f.name, f.text));
  const parsed = parseSettings(input.config ? configData(input.config.name, input.config.text) : undefined);
  const settings = input.lua === undefined ? parsed.settings : withLua(parsed.settings, objects, input.lua, input.openLibs ?? false);
  const { rules, problems } = healthRules(settings);
  const verdicts = objects.map((obj) => {
    const { result, rule } = explainHealth(obj, { rules });
    return { kind: obj.kind, name: obj.metadata.name ?? "", status: result.status, ...(result.message ? { message: result.message } : {}), rule };
  });
  return { verdicts, problems: [...parsed.problems, ...problems] };
}

/** Every object in a file; a document that is not a Kubernetes object is a usage error naming the file and document. */
export function objectsOf(name: string, text: string): Manifest[] {
  const out: Manifest[] = [];
  // Duplicate keys are kept (the last wins), as kubectl and Go's YAML decoding accept them.
  parseAllDocuments(text, { uniqueKeys: false }).forEach((doc, i) => {
    if (doc.errors.length > 0) throw new UsageError(`${name}: document ${i + 1} is not valid YAML: ${doc.errors[0]?.message.split("\n")[0] ?? ""}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) return;
    for (const obj of unwrapList(value)) {
      if (!isManifest(obj)) throw new UsageError(`${name}: document ${i + 1} is not a Kubernetes object (it needs apiVersion and kind)`);
      out.push({ ...obj, metadata: obj.metadata ?? {} });
    }
  });
  return out;
}

function unwrapList(value: unknown): unknown[] {
  const v = value as { kind?: unknown; items?: unknown };
  if (typeof v === "object" && typeof v.kind === "string" && v.kind.endsWith("List") && Array.isArray(v.items)) return v.items as unknown[];
  return [value];
}

function isManifest(value: unknown): value is Manifest {
  const v = value as Partial<Manifest> | null;
  return typeof v === "object" && v !== null && typeof v.apiVersion === "string" && typeof v.kind === "string"
    && (v.metadata === undefined || (typeof v.metadata === "object" && v.metadata !== null));
}

/** The `data` of a ConfigMap manifest, or a bare map of keys; values must be strings, as in a ConfigMap. */
function configData(name: string, text: string): Record<string, string> {
  let doc: unknown;
  try {
    doc = parseAllDocuments(text)[0]?.toJS();
  } catch (err) {
    throw new UsageError(`${name}: not valid YAML: ${(err as Error).message.split("\n")[0] ?? ""}`);
  }
  const cm = doc as { kind?: unknown; data?: unknown } | undefined;
  const data = cm?.kind === "ConfigMap" ? cm.data ?? {} : cm;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UsageError(`${name}: expected a ConfigMap (kind: ConfigMap with data:) such as tether-cm`);
  }
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === "string" ? v : String(v)]));
}

/** The `--lua` script as every given kind's customization, over whatever the config says for those kinds. */
function withLua(settings: TetherSettings, objects: readonly Manifest[], script: string, openLibs: boolean): TetherSettings {
  const overrides = new Map(settings.overrides);
  for (const key of new Set(objects.map(kindKey))) overrides.set(key, { ...overrides.get(key), healthLua: script, useOpenLibs: openLibs });
  return { ...settings, overrides };
}
