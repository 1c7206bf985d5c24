// The CRDs of tether.dev/v1alpha1, defined once: `tether install`, the agent's tests and the Pulumi
// bootstrap all apply these objects.

import { Type } from "@sinclair/typebox";
import {
  ApplicationSetSpecSchema, ApplicationSetStatusSchema, ApplicationSpecSchema, ApplicationStatusSchema, AppProjectSpecSchema, AppProjectStatusSchema, OperationSchema, resourceSchema,
} from "./schema.ts";
import { GROUP, VERSION, type Manifest } from "./types.ts";
import {
  FreightFields, ProjectSpecSchema, ProjectStatusSchema, PromotionSpecSchema, PromotionStatusSchema, StageSpecSchema, StageStatusSchema,
  WarehouseSpecSchema, WarehouseStatusSchema,
} from "./promotion.ts";

/** OpenAPI v3 schema as the API server reads it (wire names, unlike client-node's camel-cased model). */
type V1JSONSchemaProps = { readonly [key: string]: unknown };
type Columns = readonly { name: string; type: string; jsonPath: string; priority?: number }[];

const applicationSchema = resourceSchema({
  spec: ApplicationSpecSchema, operation: Type.Optional(OperationSchema), status: Type.Optional(ApplicationStatusSchema),
}, ["spec"]);

const appProjectSchema = resourceSchema({ spec: Type.Optional(AppProjectSpecSchema), status: Type.Optional(AppProjectStatusSchema) }, []);

const applicationSetSchema = resourceSchema({ spec: ApplicationSetSpecSchema, status: Type.Optional(ApplicationSetStatusSchema) }, ["spec"]);

const SHORT_NAMES: Record<string, string[]> = { Application: ["app", "apps"], AppProject: ["appproj"], ApplicationSet: ["appset", "appsets"] };

/** Kargo's Project is cluster-scoped: its name is the namespace of its Warehouses, Stages and Freight. */
const CLUSTER_SCOPED = new Set(["Project"]);

function crd(kind: string, plural: string, schema: V1JSONSchemaProps, columns: Columns): Manifest {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: CLUSTER_SCOPED.has(kind) ? "Cluster" : "Namespaced",
      // No empty shortNames: the API server drops an empty list, and `pulumi preview` would then show a change forever.
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List`, categories: ["tether"],
        ...(SHORT_NAMES[kind] ? { shortNames: SHORT_NAMES[kind] } : {}) },
      versions: [{
        name: VERSION, served: true, storage: true, schema: { openAPIV3Schema: schema },
        subresources: kind === "AppProject" ? {} : { status: {} },
        additionalPrinterColumns: columns,
      }],
    },
  };
}

/** The Application CRD: sync and health columns as Argo CD shows them. */
export const applicationCrd = crd("Application", "applications", applicationSchema, [
  { name: "Sync", type: "string", jsonPath: ".status.sync.status" },
  { name: "Health", type: "string", jsonPath: ".status.health.status" },
  { name: "Revision", type: "string", jsonPath: ".status.sync.revision", priority: 1 },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
]);

/** The AppProject CRD. */
export const appProjectCrd = crd("AppProject", "appprojects", appProjectSchema, [
  { name: "Description", type: "string", jsonPath: ".spec.description" },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
]);

/** The ApplicationSet CRD: how many Applications it generated and whether generation worked, as `kubectl get appset` shows. */
export const applicationSetCrd = crd("ApplicationSet", "applicationsets", applicationSetSchema, [
  { name: "Generated", type: "string", jsonPath: ".status.conditions[?(@.type==\"ParametersGenerated\")].status" },
  { name: "UpToDate", type: "string", jsonPath: ".status.conditions[?(@.type==\"ResourcesUpToDate\")].status" },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
]);

const age = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

/** The promotion kinds (agent/promote), with the columns `kargo get` prints. */
export const promotionCrds: readonly Manifest[] = [
  crd("Warehouse", "warehouses", resourceSchema({ spec: WarehouseSpecSchema, status: Type.Optional(WarehouseStatusSchema) }, ["spec"]), [
    { name: "Freight", type: "string", jsonPath: ".status.lastFreight.name" }, age,
  ]),
  crd("Freight", "freights", resourceSchema(FreightFields, ["warehouse", "images"]), [
    { name: "Alias", type: "string", jsonPath: ".alias" }, { name: "Warehouse", type: "string", jsonPath: ".warehouse" }, age,
  ]),
  crd("Stage", "stages", resourceSchema({ spec: StageSpecSchema, status: Type.Optional(StageStatusSchema) }, ["spec"]), [
    { name: "Freight", type: "string", jsonPath: ".status.currentFreight.name" },
    { name: "Health", type: "string", jsonPath: ".status.health.status" },
    { name: "Phase", type: "string", jsonPath: ".status.phase" }, age,
  ]),
  crd("Promotion", "promotions", resourceSchema({ spec: PromotionSpecSchema, status: Type.Optional(PromotionStatusSchema) }, ["spec"]), [
    { name: "Stage", type: "string", jsonPath: ".spec.stage" }, { name: "Freight", type: "string", jsonPath: ".spec.freight" },
    { name: "Phase", type: "string", jsonPath: ".status.phase" }, age,
  ]),
  crd("Project", "projects", resourceSchema({ spec: Type.Optional(ProjectSpecSchema), status: Type.Optional(ProjectStatusSchema) }, []), [
    { name: "Phase", type: "string", jsonPath: ".status.phase" }, age,
  ]),
];

export const crds: readonly Manifest[] = [applicationCrd, appProjectCrd, applicationSetCrd, ...promotionCrds];
