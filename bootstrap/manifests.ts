// Tether in a cluster as plain manifests: the objects `tether install` applies (agent/api/install.ts),
// the key and repository Secrets, the agent Deployment and Service, and the root Application. The one
// source for both paths from an empty cluster: `tether bootstrap` applies these objects, and the
// Pulumi program (install.ts) declares one resource per object. Pure, and free of Pulumi, so the CLI
// bundle can carry it.
import { AGENT_NAME, installManifests } from "../agent/api/install.ts";
import { API_VERSION, FINALIZER, type Application, type ApplicationSpec, type Manifest } from "../agent/api/types.ts";
import { generateCa, issueServing, type KeyPair } from "./certificate.ts";

/** Port of the agent's HTTP surface (probes, /metrics, /version, /api/webhook) inside the pod. */
export const AGENT_PORT = 8080;
/** Git mirrors and throwaway checkouts; an emptyDir, as the root filesystem is read-only. */
export const CACHE_DIR = "/var/cache/tether";
export const KEY_SECRET = "tether-sops";
export const CREDENTIALS_SECRET = "tether-repository";
/** The agent's serving certificate (kubernetes.io/tls, with the CA in `ca.crt`), mounted at {@link TLS_DIR}. */
export const AGENT_TLS_SECRET = "tether-agent-tls";
/** The CA that signed it, key included: read only when the serving certificate is renewed, never mounted. */
export const AGENT_CA_SECRET = "tether-agent-ca";
export const TLS_DIR = "/etc/tether/tls";

/** Agent pods by default: a leader and a standby that takes over within the lease duration. */
export const DEFAULT_REPLICAS = 2;

/** As installManifests labels its objects. */
export const AGENT_LABELS = { "app.kubernetes.io/name": "tether", "app.kubernetes.io/component": "agent" } as const;

export interface AgentOptions {
  readonly namespace: string;
  readonly image: string;
  /** A Go-style duration (`60s`, `5m`). */
  readonly pollInterval: string;
  /** The replicas elect a leader through a Lease (`--leader-elect`); only the leader reconciles, the others stand by. */
  readonly replicas: number;
}

export interface RootOptions {
  readonly namespace: string;
  readonly name: string;
  readonly repoURL: string;
  readonly revision: string;
  readonly path: string;
  /** Deleting the root Application deletes what it deployed (its finalizer); off leaves it all running. */
  readonly cascade: boolean;
}

export interface BootstrapOptions {
  readonly agent: AgentOptions;
  readonly root: RootOptions;
  /** ClusterRole bound to the agent; cluster-admin unless a narrower one is named. */
  readonly clusterRole: string;
  /**
   * `tether install --namespaced`: no cluster-wide rights; `admin` in `deployNamespaces` (default: the
   * agent namespace) and the agent's own resources in its namespace. `clusterRole` is then unused.
   */
  readonly namespaced?: boolean;
  readonly deployNamespaces?: readonly string[];
  /** An age identity (`AGE-SECRET-KEY-1...`); without it no key Secret is declared. */
  readonly ageKey?: string;
  readonly credentials?: Credentials;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

const base64 = (value: string) => Buffer.from(value, "utf8").toString("base64");

/** The object of a Secret without its data, which Pulumi takes separately as a secret Output. */
export type SecretShell = Manifest & { readonly type: string };

/** Secret tether-sops: the agent reads every `*.agekey` entry (Flux's convention). */
export const keySecretShell = (namespace: string): SecretShell =>
  ({ apiVersion: "v1", kind: "Secret", metadata: { name: KEY_SECRET, namespace, labels: { ...AGENT_LABELS } }, type: "Opaque" });

// `data`, not `stringData`: the API server turns stringData into data, which a server-side diff then reports forever.
export const keySecretData = (ageKey: string): Record<string, string> => ({ "identity.agekey": base64(`${ageKey.trim()}\n`) });

export const keySecret = (namespace: string, ageKey: string): Manifest =>
  ({ ...keySecretShell(namespace), data: keySecretData(ageKey) });

/** Secret tether-repository: HTTPS credentials the agent uses for `url`. */
export const repositorySecretShell = (namespace: string): SecretShell => ({
  apiVersion: "v1", kind: "Secret", type: "Opaque",
  metadata: { name: CREDENTIALS_SECRET, namespace, labels: { ...AGENT_LABELS, "tether.dev/secret-type": "repository" } },
});

export const repositorySecretData = (url: string, credentials: Credentials): Record<string, string> =>
  ({ url: base64(url), username: base64(credentials.username), password: base64(credentials.password) });

export const repositorySecret = (namespace: string, url: string, credentials: Credentials): Manifest =>
  ({ ...repositorySecretShell(namespace), data: repositorySecretData(url, credentials) });

/**
 * The agent's arguments in the pod: every interface (or the kubelet's probes cannot reach it), HTTPS with
 * the serving certificate of Secret tether-agent-tls, the emptyDir cache.
 */
export function agentArgs(opts: AgentOptions): string[] {
  return ["agent", "--namespace", opts.namespace, "--listen", `0.0.0.0:${AGENT_PORT}`,
    "--tls-cert-file", `${TLS_DIR}/tls.crt`, "--tls-key-file", `${TLS_DIR}/tls.key`, "--cache-dir", CACHE_DIR,
    "--poll-interval", opts.pollInterval, "--leader-elect"];
}

/** The names the agent is reached by: its Service in every spelling, and loopback (a port-forward). */
export function agentServingHosts(namespace: string): string[] {
  const svc = AGENT_NAME;
  return [svc, `${svc}.${namespace}`, `${svc}.${namespace}.svc`, `${svc}.${namespace}.svc.cluster.local`, "localhost", "127.0.0.1", "::1"];
}

/** The two Secrets of the agent's TLS: its serving certificate (with the CA's certificate) and the CA. */
export interface AgentTls {
  readonly serving: Manifest;
  readonly ca: Manifest;
}

/** A new CA and a serving certificate it signed, as the Secrets the install creates once. */
export function agentTlsSecrets(namespace: string, ca: KeyPair = generateCa(`${AGENT_NAME}-ca.${namespace}`)): AgentTls {
  const serving = issueServing(ca, AGENT_NAME, { hosts: agentServingHosts(namespace) });
  const metadata = (name: string) => ({ name, namespace, labels: { ...AGENT_LABELS } });
  return {
    serving: { apiVersion: "v1", kind: "Secret", type: "kubernetes.io/tls", metadata: metadata(AGENT_TLS_SECRET),
      data: { "tls.crt": base64(serving.cert), "tls.key": base64(serving.key), "ca.crt": base64(ca.cert) } },
    ca: { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: metadata(AGENT_CA_SECRET),
      data: { "ca.crt": base64(ca.cert), "ca.key": base64(ca.key) } },
  };
}

/** The agent's container: probes on its HTTP surface, nothing writable but its two emptyDirs. */
export function agentContainer(opts: AgentOptions) {
  return {
    name: "agent",
    image: opts.image,
    args: agentArgs(opts),
    env: [{ name: "HOME", value: "/tmp" }],
    ports: [{ name: "https", containerPort: AGENT_PORT }],
    // Liveness waits for the start (CRD discovery, informers, the first lease attempt): up to 2 minutes on a
    // slow node, instead of a kill (exit 137) while the agent is still starting.
    startupProbe: { httpGet: { path: "/healthz", port: "https", scheme: "HTTPS" }, periodSeconds: 2, failureThreshold: 60 },
    livenessProbe: { httpGet: { path: "/healthz", port: "https", scheme: "HTTPS" }, periodSeconds: 20, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: "/readyz", port: "https", scheme: "HTTPS" }, periodSeconds: 10 },
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
    securityContext: {
      runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: [{ name: "cache", mountPath: CACHE_DIR }, { name: "tmp", mountPath: "/tmp" }, { name: "tls", mountPath: TLS_DIR, readOnly: true }],
  };
}

export function agentDeployment(opts: AgentOptions): Manifest {
  return {
    apiVersion: "apps/v1", kind: "Deployment",
    metadata: { name: AGENT_NAME, namespace: opts.namespace, labels: { ...AGENT_LABELS } },
    spec: {
      replicas: opts.replicas,
      // A new pod starts as a standby and leads once an old one released the lease on SIGTERM, so a
      // rolling update never has two agents reconciling, and never none for longer than one handover.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      selector: { matchLabels: { ...AGENT_LABELS } },
      template: {
        metadata: { labels: { ...AGENT_LABELS } },
        spec: {
          serviceAccountName: AGENT_NAME,
          securityContext: { runAsNonRoot: true, fsGroup: 10001 },
          // The standby is only worth having on another node.
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [{
                weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { ...AGENT_LABELS } } },
              }],
            },
          },
          containers: [agentContainer(opts)],
          volumes: [{ name: "cache", emptyDir: {} }, { name: "tmp", emptyDir: {} },
            // Readable by the agent's group (fsGroup) only.
            { name: "tls", secret: { secretName: AGENT_TLS_SECRET, defaultMode: 0o440 } }],
        },
      },
    },
  };
}

/** `tether version` reaches the agent through this Service (the API server's service proxy), as Prometheus does. */
export function agentService(namespace: string): Manifest {
  return {
    apiVersion: "v1", kind: "Service",
    metadata: { name: AGENT_NAME, namespace, labels: { ...AGENT_LABELS } },
    spec: { selector: { ...AGENT_LABELS }, ports: [{ name: "https", port: AGENT_PORT, targetPort: "https" }] },
  };
}

/** The app-of-apps over `path`: its top-level files and one level of folders hold the child Applications. */
export function rootApplicationSpec(opts: RootOptions): ApplicationSpec {
  return {
    project: "default",
    source: {
      repoURL: opts.repoURL, targetRevision: opts.revision, path: opts.path,
      // The layout `tether repo init` makes and components/ follows: the apps' own manifests sit deeper.
      directory: { recurse: true, exclude: "*/*/*" },
    },
    destination: { server: "https://kubernetes.default.svc", namespace: opts.namespace },
    syncPolicy: { automated: { prune: true, selfHeal: true } },
  };
}

/** The objects of `tether install` (CRDs, namespace, identity, RBAC, default AppProject) with the same RBAC choices. */
export function agentInstallManifests(namespace: string, rbac: Pick<BootstrapOptions, "clusterRole" | "namespaced" | "deployNamespaces">): Manifest[] {
  return installManifests({
    namespace, clusterRole: rbac.clusterRole,
    ...(rbac.namespaced === true ? { mode: "namespaced" as const } : {}),
    ...(rbac.deployNamespaces?.length ? { namespaces: rbac.deployNamespaces } : {}),
  }) as Manifest[];
}

export function rootApplication(opts: RootOptions): Application {
  return {
    apiVersion: API_VERSION, kind: "Application",
    metadata: { name: opts.name, namespace: opts.namespace, labels: { ...AGENT_LABELS }, ...(opts.cascade ? { finalizers: [FINALIZER] } : {}) },
    spec: rootApplicationSpec(opts),
  };
}

/**
 * Everything, in apply order: CRDs and the namespace, identity, RBAC and the default AppProject, the
 * Secrets, the agent, and last the root Application (deleting it first needs a running agent to cascade).
 */
export function bootstrapManifests(opts: BootstrapOptions): Manifest[] {
  const namespace = opts.agent.namespace;
  return [
    ...agentInstallManifests(namespace, opts),
    ...(opts.ageKey ? [keySecret(namespace, opts.ageKey)] : []),
    ...(opts.credentials ? [repositorySecret(namespace, opts.root.repoURL, opts.credentials)] : []),
    agentDeployment(opts.agent),
    agentService(namespace),
    rootApplication(opts.root) as unknown as Manifest,
  ];
}
