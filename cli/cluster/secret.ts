// Cluster Secrets in Argo CD's declarative format, which the agent reads to reach other clusters.
// Pure: values in, manifests out.
import type { Manifest } from "../../agent/api/types.ts";

export const CLUSTER_LABEL = "tether.dev/secret-type";
export const ARGOCD_CLUSTER_LABEL = "argocd.argoproj.io/secret-type";
/** The ServiceAccount `tether cluster add` creates in the target cluster (Argo CD's is argocd-manager). */
export const MANAGER = "tether-manager";
export const MANAGER_NAMESPACE = "kube-system";

/** Argo CD's `config` field: how the agent authenticates to the cluster. */
export interface ClusterConfig {
  readonly bearerToken?: string;
  readonly tlsClientConfig?: { readonly caData?: string; readonly insecure?: boolean; readonly serverName?: string };
}

export interface ClusterEntry {
  readonly name: string;
  readonly server: string;
  /** The agent's namespace, where the Secret lives. */
  readonly namespace: string;
  readonly config: ClusterConfig;
}

/** `cluster-NAME`: one Secret per cluster name, so adding a cluster again updates it. */
export const secretName = (cluster: string) => `cluster-${cluster}`;

/** The Secret the agent reads, with both labels so Argo CD's tooling recognises it too. */
export function clusterSecret(entry: ClusterEntry): Manifest {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: secretName(entry.name),
      namespace: entry.namespace,
      labels: { [CLUSTER_LABEL]: "cluster", [ARGOCD_CLUSTER_LABEL]: "cluster" },
    },
    type: "Opaque",
    stringData: { name: entry.name, server: entry.server, config: JSON.stringify(entry.config) },
  };
}

/** What the agent needs in the target cluster: a ServiceAccount, cluster-admin for it, and a long-lived token. */
export function managerObjects(clusterRole = "cluster-admin"): Manifest[] {
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: MANAGER, namespace: MANAGER_NAMESPACE } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: `${MANAGER}-role-binding` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
      subjects: [{ kind: "ServiceAccount", name: MANAGER, namespace: MANAGER_NAMESPACE }],
    },
    {
      apiVersion: "v1", kind: "Secret", type: "kubernetes.io/service-account-token",
      metadata: { name: `${MANAGER}-token`, namespace: MANAGER_NAMESPACE, annotations: { "kubernetes.io/service-account.name": MANAGER } },
    },
  ];
}

/** A cluster Secret as `tether cluster list` shows it: never the token. */
export interface ClusterSummary {
  readonly name: string;
  readonly server: string;
  readonly secret: string;
  readonly auth: string;
  readonly insecure: boolean;
}

const decode = (v: string | undefined) => Buffer.from(v ?? "", "base64").toString("utf8");

/** Reads a cluster Secret as the API returns it (base64 `data`). */
export function summarize(secret: { metadata?: { name?: string }; data?: Record<string, string> }): ClusterSummary {
  let config: ClusterConfig & { execProviderConfig?: unknown; username?: string } = {};
  try {
    config = JSON.parse(decode(secret.data?.config) || "{}") as typeof config;
  } catch {
    config = {};
  }
  const auth = config.bearerToken ? "bearer token" : config.execProviderConfig ? "exec" : config.username ? "basic" : "none";
  return {
    name: decode(secret.data?.name) || (secret.metadata?.name ?? ""),
    server: decode(secret.data?.server),
    secret: secret.metadata?.name ?? "",
    auth,
    insecure: config.tlsClientConfig?.insecure === true,
  };
}
