// What a cluster needs before the agent can run: CRDs, the agent namespace, its identity and RBAC,
// and the `default` AppProject. `tether install` applies these; the Pulumi bootstrap declares them.
import type { KubernetesObject } from "@kubernetes/client-node";
import { crds } from "./crds.ts";
import { DEFAULT_KEY_SECRET } from "./sources.ts";
import { API_VERSION, DEFAULT_NAMESPACE, type AppProject } from "./types.ts";

export const AGENT_NAME = "tether-agent";

export interface InstallOptions {
  readonly namespace?: string;
  /**
   * `cluster` (default): one ClusterRoleBinding to `clusterRole`. `namespaced`: no cluster-wide rights at
   * all; RoleBindings in the agent namespace (its own resources) and in each of `namespaces` (the
   * built-in `admin` role there, and impersonation of that namespace's ServiceAccounts).
   */
  readonly mode?: "cluster" | "namespaced";
  /** Namespaced mode: where Applications may deploy (default: the agent namespace only). */
  readonly namespaces?: readonly string[];
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
      // Beyond Argo CD: a key Secret is scoped to the projects that list it; the default key to `default`.
      decryptionKeys: [DEFAULT_KEY_SECRET],
      // As permissive as the rest of `default`: its app-of-apps may place children in any project.
      childProjects: ["*"],
    },
  };
}

const labels = { "app.kubernetes.io/name": "tether", "app.kubernetes.io/component": "agent" };
const RBAC = "rbac.authorization.k8s.io";

/** The agent's rights in its own namespace in namespaced mode: its resources, keys, events, lease. */
export const NAMESPACED_AGENT_ROLE = `${AGENT_NAME}-namespaced`;
/** Impersonation of a namespace's ServiceAccounts (destinationServiceAccounts), bound per namespace. */
export const IMPERSONATE_ROLE = `${AGENT_NAME}-impersonate`;

/** Objects in apply order: CRDs and the namespace first. */
export function installManifests(opts: InstallOptions = {}): KubernetesObject[] {
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  return [
    ...crds,
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: AGENT_NAME, namespace, labels } },
    ...rbacManifests(namespace, opts),
    defaultProject(namespace),
  ];
}

/** The agent's RBAC for the chosen mode. */
export function rbacManifests(namespace: string, opts: InstallOptions): KubernetesObject[] {
  const subjects = [{ kind: "ServiceAccount", name: AGENT_NAME, namespace }];
  if (opts.mode !== "namespaced") {
    const role = opts.clusterRole ?? "cluster-admin";
    return [{
      apiVersion: `${RBAC}/v1`, kind: "ClusterRoleBinding", metadata: { name: clusterBindingName(role), labels },
      roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: role }, subjects,
    } as KubernetesObject];
  }
  const binding = (ns: string, name: string, role: string) => ({
    apiVersion: `${RBAC}/v1`, kind: "RoleBinding", metadata: { name, namespace: ns, labels },
    roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: role }, subjects,
  }) as KubernetesObject;
  const targets = [...new Set(opts.namespaces?.length ? opts.namespaces : [namespace])];
  return [
    namespacedAgentRole(),
    { apiVersion: `${RBAC}/v1`, kind: "ClusterRole", metadata: { name: IMPERSONATE_ROLE, labels },
      rules: [{ apiGroups: [""], resources: ["serviceaccounts"], verbs: ["impersonate"] }] } as KubernetesObject,
    binding(namespace, NAMESPACED_AGENT_ROLE, NAMESPACED_AGENT_ROLE),
    ...targets.flatMap((ns) => [binding(ns, AGENT_NAME, "admin"), binding(ns, IMPERSONATE_ROLE, IMPERSONATE_ROLE)]),
  ];
}

/**
 * The agent's ClusterRoleBinding is named after the role it binds (`tether-agent` for the default
 * cluster-admin, `tether-agent-ROLE` otherwise): roleRef cannot change in place, so another role is
 * another binding, created before the old one is deleted, and the agent is never without one.
 */
export function clusterBindingName(role: string): string {
  return role === "cluster-admin" ? AGENT_NAME : `${AGENT_NAME}-${role}`;
}

/** A ClusterRole bound only by RoleBinding, so it grants nothing outside the agent namespace. */
function namespacedAgentRole(): KubernetesObject {
  return {
    apiVersion: `${RBAC}/v1`, kind: "ClusterRole", metadata: { name: NAMESPACED_AGENT_ROLE, labels },
    rules: [
      { apiGroups: ["tether.dev"], resources: ["applications", "applications/status", "appprojects", "applicationsets", "applicationsets/status"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] },
      { apiGroups: [""], resources: ["secrets", "configmaps"], verbs: ["get", "list", "watch"] },
      // The SSO and project-token signing key (Secret tether-server-key), made on first use.
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "list", "watch", "create", "update", "patch"] },
    ],
  } as KubernetesObject;
}

/** A binding's identity and the role it grants: what decides whether an existing one must go. */
export interface BindingState {
  readonly kind: "ClusterRoleBinding" | "RoleBinding";
  readonly name: string;
  readonly namespace?: string;
  readonly roleRef: string;
}

/** The agent's bindings an install deletes, and when. */
export interface StaleBindings {
  /** Same name, another role: roleRef cannot change in place, so these go before the apply. */
  readonly before: BindingState[];
  /**
   * No longer declared (the ClusterRoleBinding of another role, or of cluster mode when going
   * namespaced): these go after the apply, once the new bindings exist.
   */
  readonly after: BindingState[];
}

/**
 * Sorts the agent's live bindings (`live`: its labelled ClusterRoleBindings and the RoleBindings it
 * declares) against the ones `desired` declares. Without this a re-install with a narrower role would
 * leave the agent as wide as before.
 */
export function staleBindings(live: readonly BindingState[], desired: readonly KubernetesObject[]): StaleBindings {
  const wanted = new Map(desired.filter((o) => o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding").map((o) => [
    `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`, (o as { roleRef: { name: string } }).roleRef.name,
  ]));
  const role = (b: BindingState) => wanted.get(`${b.kind}/${b.namespace ?? ""}/${b.name}`);
  return {
    before: live.filter((b) => role(b) !== undefined && role(b) !== b.roleRef),
    after: live.filter((b) => role(b) === undefined && b.kind === "ClusterRoleBinding"),
  };
}
