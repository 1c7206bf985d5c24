// What a cluster needs before the agent can run: CRDs, the agent namespace, its identity and RBAC,
// and the `default` AppProject. `tether install` applies these; the Pulumi bootstrap declares them.
import type { KubernetesObject } from "@kubernetes/client-node";
import { crds } from "./crds.ts";
import { API_VERSION, DEFAULT_NAMESPACE, type AppProject } from "./types.ts";

export const AGENT_NAME = "tether-agent";

export interface InstallOptions {
  readonly namespace?: string;
  /**
   * cluster-admin by default, because an agent that applies arbitrary manifests from Git needs to
   * create whatever kinds Git holds; a narrower ClusterRole can be named instead.
   */
  readonly clusterRole?: string;
}

/** The `default` AppProject: any repository, any destination, any kind (as in Argo CD). */
export function defaultProject(namespace = DEFAULT_NAMESPACE): AppProject {
  return {
    apiVersion: API_VERSION,
    kind: "AppProject",
    metadata: { name: "default", namespace },
    spec: {
      description: "Default project: every repository, destination and kind is allowed.",
      sourceRepos: ["*"],
      destinations: [{ server: "*", namespace: "*" }],
      clusterResourceWhitelist: [{ group: "*", kind: "*" }],
    },
  };
}

/** Objects in apply order: CRDs and the namespace first. */
export function installManifests(opts: InstallOptions = {}): KubernetesObject[] {
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  const labels = { "app.kubernetes.io/name": "tether", "app.kubernetes.io/component": "agent" };
  return [
    ...crds,
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: AGENT_NAME, namespace, labels } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: AGENT_NAME, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: opts.clusterRole ?? "cluster-admin" },
      subjects: [{ kind: "ServiceAccount", name: AGENT_NAME, namespace }],
    } as KubernetesObject,
    defaultProject(namespace),
  ];
}
