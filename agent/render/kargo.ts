// Kargo manifests unchanged: `kargo.akuity.io/v1alpha1` Warehouses, Stages, Promotions, Freight and
// Projects that a Tether app renders are taken as Tether's own promotion kinds (agent/promote), as
// argocd.ts takes Argo CD's. Pure: rendered objects in, the same objects with those mapped out, plus one
// warning per field Tether does not implement (never a silent drop).
import type { TSchema } from "@sinclair/typebox";
import { Type } from "@sinclair/typebox";
import { API_VERSION, type Manifest } from "../api/types.ts";
import {
  FreightFields, KARGO_API_VERSION, PROMOTION_KINDS, ProjectSpecSchema, PromotionSpecSchema, StageSpecSchema, WarehouseSpecSchema,
} from "../api/promotion.ts";
import { prune, type Adopted } from "./argocd.ts";
import type { RenderedObject } from "./types.ts";

const SPEC_SCHEMAS: Record<string, TSchema> = {
  Warehouse: WarehouseSpecSchema, Stage: StageSpecSchema, Promotion: PromotionSpecSchema, Project: ProjectSpecSchema,
};
const FREIGHT_SCHEMA = Type.Object({ alias: FreightFields.alias, warehouse: FreightFields.warehouse, images: FreightFields.images });

/**
 * Maps Kargo's objects among `rendered` to Tether's: apiVersion `tether.dev/v1alpha1`, the namespace kept
 * (a Kargo project's namespace), `status` dropped (the agent writes it), spec fields Tether does not
 * implement (git and chart subscriptions, pull requests, verification with Argo Rollouts analysis...)
 * removed and each named in a warning. Other `kargo.akuity.io` kinds are kept, with a warning, so applying
 * them fails loudly.
 */
export function adoptKargoManifests(rendered: readonly RenderedObject[]): Adopted {
  const warnings: string[] = [];
  const objects = rendered.map((r) => {
    const m = r.manifest;
    if (m.apiVersion !== KARGO_API_VERSION) return r;
    if (!(PROMOTION_KINDS as readonly string[]).includes(m.kind)) {
      warnings.push(`${m.kind}/${m.metadata.name ?? ""} (${r.file}): ${KARGO_API_VERSION} ${m.kind} is not implemented by Tether`);
      return r;
    }
    return { ...r, manifest: adoptOne(m, (path) => warnings.push(`${m.kind}/${labelOf(m)}: ${path} is not implemented by Tether; the field is ignored`)) };
  });
  return { objects, warnings };
}

function labelOf(m: Manifest): string {
  return m.metadata.namespace ? `${m.metadata.namespace}/${m.metadata.name ?? ""}` : m.metadata.name ?? "";
}

function adoptOne(m: Manifest, report: (path: string) => void): Manifest {
  const copy: Record<string, unknown> = { ...m, apiVersion: API_VERSION };
  delete copy.status;
  if (m.kind === "Freight") {
    const { apiVersion, kind, metadata, ...fields } = copy;
    return { apiVersion, kind, metadata, ...prune(fields, FREIGHT_SCHEMA, "", (p) => report(p.slice(1))) } as Manifest;
  }
  // Kargo's subscriptions[].git / .chart are dropped here; the Warehouse names what is left in a condition.
  const spec = prune(m.spec, SPEC_SCHEMAS[m.kind]!, "spec", report);
  if (spec !== undefined) copy.spec = spec;
  return copy as Manifest;
}
