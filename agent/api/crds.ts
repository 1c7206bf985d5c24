// The CRDs of tether.dev/v1alpha1, defined once: `tether install`, the agent's tests and the Pulumi
// bootstrap all apply these objects.

import { GROUP, VERSION, type Manifest } from "./types.ts";

/** OpenAPI v3 schema as the API server reads it (wire names, unlike client-node's camel-cased model). */
type V1JSONSchemaProps = { readonly [key: string]: unknown };
type Columns = readonly { name: string; type: string; jsonPath: string; priority?: number }[];

const str: V1JSONSchemaProps = { type: "string" };
const bool: V1JSONSchemaProps = { type: "boolean" };
const int: V1JSONSchemaProps = { type: "integer" };
const strings: V1JSONSchemaProps = { type: "array", items: str };
const stringMap: V1JSONSchemaProps = { type: "object", additionalProperties: str };
const free: V1JSONSchemaProps = { type: "object", "x-kubernetes-preserve-unknown-fields": true };
const obj = (properties: Record<string, V1JSONSchemaProps>, required?: string[]): V1JSONSchemaProps =>
  ({ type: "object", properties, ...(required ? { required } : {}) });
const list = (items: V1JSONSchemaProps): V1JSONSchemaProps => ({ type: "array", items });
const groupKind = list(obj({ group: str, kind: str }, ["group", "kind"]));

const source = obj({
  repoURL: { ...str, description: "Git repository URL (https://, file:// or a path)." },
  targetRevision: { ...str, description: "Branch, tag, commit SHA (full or short) or HEAD. Default HEAD." },
  path: { ...str, description: "Directory inside the repository. Default: the repository root." },
  directory: obj({ recurse: bool, include: str, exclude: str }),
  kustomize: obj({ namePrefix: str, nameSuffix: str, images: strings, commonLabels: stringMap }),
  helm: obj({ releaseName: str, valueFiles: strings, values: str, valuesObject: free }),
  decryption: obj({ secretRef: obj({ name: str }, ["name"]) }),
}, ["repoURL"]);

const objectRef = { group: str, version: str, kind: str, namespace: str, name: str };
const health = obj({ status: str, message: str });

const applicationSchema: V1JSONSchemaProps = obj({
  apiVersion: str,
  kind: str,
  metadata: { type: "object" },
  spec: obj({
    project: { ...str, default: "default" },
    source,
    destination: obj({ server: str, namespace: str }),
    syncPolicy: obj({
      automated: obj({ prune: bool, selfHeal: bool, allowEmpty: bool }),
      syncOptions: strings,
      retry: obj({ limit: int, backoff: obj({ duration: str, factor: int, maxDuration: str }) }),
    }),
    ignoreDifferences: list(obj({ group: str, kind: str, name: str, namespace: str, jsonPointers: strings }, ["kind"])),
    revisionHistoryLimit: { ...int, minimum: 0 },
  }, ["source", "destination"]),
  operation: free,
  status: obj({
    sync: obj({ status: str, revision: str }),
    health,
    resources: list(obj({ ...objectRef, status: str, health })),
    operationState: { ...obj({ phase: str, message: str, startedAt: str, finishedAt: str }), "x-kubernetes-preserve-unknown-fields": true },
    history: list(obj({ id: int, revision: str, deployedAt: str })),
    conditions: list(obj({ type: str, message: str, lastTransitionTime: str })),
    reconciledAt: str,
    inventory: strings,
    observedRenderKey: str,
  }),
}, ["spec"]);

const appProjectSchema: V1JSONSchemaProps = obj({
  apiVersion: str,
  kind: str,
  metadata: { type: "object" },
  spec: obj({
    description: str,
    sourceRepos: strings,
    destinations: list(obj({ server: str, namespace: str })),
    clusterResourceWhitelist: groupKind,
    clusterResourceBlacklist: groupKind,
    namespaceResourceWhitelist: groupKind,
    namespaceResourceBlacklist: groupKind,
  }),
});

function crd(kind: string, plural: string, schema: V1JSONSchemaProps, columns: Columns): Manifest {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List`, categories: ["tether"],
        shortNames: kind === "Application" ? ["app", "apps"] : ["appproj"] },
      versions: [{
        name: VERSION, served: true, storage: true, schema: { openAPIV3Schema: schema },
        subresources: kind === "Application" ? { status: {} } : {},
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

export const crds: readonly Manifest[] = [applicationCrd, appProjectCrd];
