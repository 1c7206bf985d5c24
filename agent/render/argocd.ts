// Argo CD manifests unchanged: `argoproj.io/v1alpha1` Applications, AppProjects and ApplicationSets that a Tether app
// renders (an app-of-apps chart such as argocd-example-apps' `apps/`, argocd-autopilot's layout) are
// taken as Tether's own. Pure: rendered objects in, the same objects with those mapped out, plus one
// warning per thing Tether does not do, which the reconcile shows as a condition (never a silent drop).
import type { TSchema } from "@sinclair/typebox";
import { API_VERSION, FINALIZER, GROUP, type Manifest } from "../api/types.ts";
import { ApplicationSetSpecSchema, ApplicationSpecSchema, AppProjectSpecSchema } from "../api/schema.ts";
import type { RenderedObject } from "./types.ts";

export const ARGOCD_API_VERSION = "argoproj.io/v1alpha1";
const ARGOCD_GROUP = "argoproj.io";
/** Argo CD's cascade finalizer, with its `/background` and `/foreground` variants. */
const ARGOCD_FINALIZER = /^resources-finalizer\.argocd\.argoproj\.io(\/(background|foreground))?$/;
/** The namespace Argo CD's own objects live in; Tether's live in the agent's namespace. */
const ARGOCD_NAMESPACE = "argocd";

export interface AdoptOptions {
  /** The agent's namespace, where Tether's Applications and AppProjects live. */
  readonly namespace: string;
}

export interface Adopted {
  readonly objects: RenderedObject[];
  /** `Application/argocd/x: spec.source.plugin is not implemented by Tether; the field is ignored`. */
  readonly warnings: string[];
}

/**
 * Maps the Argo CD Applications and AppProjects among `rendered` to Tether's: apiVersion
 * `tether.dev/v1alpha1`, namespace `argocd` (or none) → the agent's, `resources-finalizer.argocd.argoproj.io`
 * → Tether's cascade finalizer, annotations and labels kept, `status` dropped (the agent writes it),
 * `ignoreDifferences` on `argoproj.io` Applications pointed at Tether's. Spec fields Tether does not
 * implement are removed and each named in a warning. ApplicationSets are taken the same way (their
 * generators and template kept as written, for agent/appset to check). Other `argoproj.io` kinds are
 * kept, with a warning, so applying them fails loudly.
 */
export function adoptArgoCdManifests(rendered: readonly RenderedObject[], opts: AdoptOptions): Adopted {
  const warnings: string[] = [];
  const objects = rendered.map((r) => {
    const m = r.manifest;
    if (m.apiVersion !== ARGOCD_API_VERSION) return r;
    if (m.kind === "Application" || m.kind === "AppProject" || m.kind === "ApplicationSet") {
      const mapped = adoptOne(m, opts);
      warnings.push(...mapped.warnings);
      return { ...r, manifest: mapped.manifest };
    }
    warnings.push(`${m.kind}/${m.metadata.name ?? ""} (${r.file}): ${ARGOCD_API_VERSION} ${m.kind} is not implemented by Tether; write the Applications it would generate`);
    return r;
  });
  return { objects, warnings };
}

function adoptOne(m: Manifest, opts: AdoptOptions): { manifest: Manifest; warnings: string[] } {
  const name = m.metadata.name ?? "";
  const from = m.metadata.namespace;
  const label = `${m.kind}/${from ?? ARGOCD_NAMESPACE}/${name}`;
  const warnings: string[] = [];
  if (from !== undefined && from !== ARGOCD_NAMESPACE && from !== opts.namespace) {
    warnings.push(`${label}: metadata.namespace ${from} is taken as ${opts.namespace}: Tether keeps every ${m.kind} in the agent's namespace`);
  }
  const schema = m.kind === "Application" ? ApplicationSpecSchema : m.kind === "ApplicationSet" ? ApplicationSetSpecSchema : AppProjectSpecSchema;
  const spec = prune(m.spec, schema, "spec", (path) => warnings.push(`${label}: ${path} is not implemented by Tether; the field is ignored`));
  const manifest: Manifest = {
    ...withoutStatus(m),
    apiVersion: API_VERSION,
    metadata: { ...m.metadata, namespace: opts.namespace, ...finalizers(m.metadata.finalizers, m.kind === "ApplicationSet") },
    ...(spec === undefined ? {} : { spec: m.kind === "Application" ? retargetIgnoreDifferences(spec) : spec }),
  };
  return { manifest, warnings };
}

/** Argo CD's status fields (autopilot writes empty ones) are the agent's to write. */
function withoutStatus(m: Manifest): Manifest {
  const copy = { ...m };
  delete copy.status;
  return copy;
}

/** Argo CD's cascade finalizer → Tether's; on an ApplicationSet it goes (the set controller adds its own when its policy needs one). */
function finalizers(value: unknown, appSet: boolean): { finalizers?: string[] } {
  if (!Array.isArray(value)) return {};
  const strings = value.filter((f): f is string => typeof f === "string");
  const mapped = appSet ? strings.filter((f) => !ARGOCD_FINALIZER.test(f)) : strings.map((f) => (ARGOCD_FINALIZER.test(f) ? FINALIZER : f));
  return { finalizers: [...new Set(mapped)] };
}

/** An app-of-apps ignoring differences on its child `argoproj.io` Applications means Tether's now. */
function retargetIgnoreDifferences(spec: Record<string, unknown>): Record<string, unknown> {
  const rules = spec.ignoreDifferences;
  if (!Array.isArray(rules)) return spec;
  return {
    ...spec,
    ignoreDifferences: rules.map((rule: unknown) => (isRecord(rule) && rule.group === ARGOCD_GROUP && (rule.kind === "Application" || rule.kind === "AppProject") ? { ...rule, group: GROUP } : rule)),
  };
}

/**
 * `value` with every field `schema` does not declare removed, each reported by its path
 * (`spec.source.plugin`, `spec.sources[1].helm.parameters`). Objects the schema keeps as written
 * (Helm `valuesObject`, string maps) are not looked into.
 */
export function prune(value: unknown, schema: TSchema, path: string, report: (path: string) => void): Record<string, unknown> | undefined {
  const pruned = pruneValue(value, schema, path, report);
  return isRecord(pruned) ? pruned : undefined;
}

function pruneValue(value: unknown, schema: TSchema, path: string, report: (path: string) => void): unknown {
  const s = schema as { properties?: Record<string, TSchema>; items?: TSchema };
  if (Array.isArray(value) && s.items !== undefined) {
    const items = s.items;
    return value.map((item: unknown, i) => pruneValue(item, items, `${path}[${i}]`, report));
  }
  if (!isRecord(value) || s.properties === undefined) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const childSchema = s.properties[key];
    if (childSchema === undefined) {
      report(`${path}.${key}`);
      continue;
    }
    out[key] = pruneValue(child, childSchema, `${path}.${key}`, report);
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
