// Tether in a cluster, declared through the Kubernetes provider: the objects `tether install` applies
// (CRDs, namespace, identity, RBAC, the default AppProject, all from agent/api/install.ts), the key and
// repository Secrets, the agent Deployment and Service, and the root Application that hands the
// cluster over to Git.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AGENT_NAME, installManifests } from "../agent/api/install.ts";
import { API_VERSION, FINALIZER, type ApplicationSpec, type Manifest } from "../agent/api/types.ts";
import type { InstallConfig } from "./config.ts";

/** Port of the agent's HTTP surface (probes, /metrics, /api/webhook) inside the pod. */
export const AGENT_PORT = 8080;
/** Git mirrors and throwaway checkouts; an emptyDir, as the root filesystem is read-only. */
export const CACHE_DIR = "/var/cache/tether";
export const KEY_SECRET = "tether-sops";
export const CREDENTIALS_SECRET = "tether-repository";

/** As installManifests labels its objects. */
const labels = { "app.kubernetes.io/name": "tether", "app.kubernetes.io/component": "agent" };

export interface Installed {
  readonly namespace: pulumi.Output<string>;
  readonly agent: k8s.apps.v1.Deployment;
  readonly rootApplication: k8s.apiextensions.CustomResource;
}

/** Declares Tether's install on `provider`'s cluster. */
export function installTether(config: InstallConfig, provider: k8s.Provider): Installed {
  const base = declareBase(config, { provider });
  const ready = [base.namespace, ...base.crds, ...base.rest];
  const secrets = declareSecrets(config, { provider, dependsOn: [base.namespace] });
  const agent = declareAgent(config, { provider, dependsOn: [...ready, ...secrets] });
  // After the agent: deleting the root Application (first, on destroy) needs a running agent to cascade.
  const rootApplication = declareRootApplication(config, { provider, dependsOn: [...ready, agent] });
  return { namespace: base.namespace.metadata.name, agent, rootApplication };
}

interface Base {
  readonly crds: pulumi.Resource[];
  readonly namespace: k8s.core.v1.Namespace;
  /** ServiceAccount, binding, default AppProject. */
  readonly rest: pulumi.Resource[];
}

/** The manifests are the wire JSON of exactly the kind each case names, which is what the provider takes. */
const asArgs = <T>(obj: Manifest): T => obj as unknown as T;

/** The objects of `tether install`, one Pulumi resource each: CRDs first, namespaced objects after the namespace. */
function declareBase(config: InstallConfig, opts: pulumi.CustomResourceOptions): Base {
  const manifests = installManifests({ namespace: config.namespace, clusterRole: config.clusterRole }) as Manifest[];
  const crds: pulumi.Resource[] = [];
  let namespace: k8s.core.v1.Namespace | undefined;
  const rest: pulumi.Resource[] = [];
  for (const obj of manifests) {
    const name = `${obj.kind.toLowerCase()}-${obj.metadata.name ?? ""}`;
    switch (`${obj.apiVersion}/${obj.kind}`) {
      case "apiextensions.k8s.io/v1/CustomResourceDefinition":
        crds.push(new k8s.apiextensions.v1.CustomResourceDefinition(name, asArgs(obj), opts));
        break;
      case "v1/Namespace":
        namespace = new k8s.core.v1.Namespace(name, asArgs(obj), opts);
        break;
      default:
        // Namespaced and custom objects wait for the namespace and the CRDs.
        rest.push(declareObject(name, obj, { ...opts, dependsOn: [...crds, ...(namespace ? [namespace] : [])] }));
    }
  }
  if (!namespace) throw new Error("installManifests declared no Namespace; bootstrap has nothing to put the agent in");
  return { crds, namespace, rest };
}

function declareObject(name: string, obj: Manifest, opts: pulumi.CustomResourceOptions): pulumi.Resource {
  switch (`${obj.apiVersion}/${obj.kind}`) {
    case "v1/ServiceAccount":
      return new k8s.core.v1.ServiceAccount(name, asArgs(obj), opts);
    case "rbac.authorization.k8s.io/v1/ClusterRoleBinding":
      return new k8s.rbac.v1.ClusterRoleBinding(name, asArgs(obj), opts);
    case `${API_VERSION}/AppProject`:
      return new k8s.apiextensions.CustomResource(name, obj, opts);
    default:
      throw new Error(`installManifests declared ${obj.apiVersion} ${obj.kind}, which bootstrap/install.ts does not map to a resource yet; add a case`);
  }
}

/** `data`, not `stringData`: the API server turns stringData into data, which a server-side diff then reports forever. */
const base64 = (value: pulumi.Input<string>) => pulumi.output(value).apply((v) => Buffer.from(v, "utf8").toString("base64"));

function declareSecrets(config: InstallConfig, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
  const secrets: pulumi.Resource[] = [];
  if (config.ageKey) {
    secrets.push(new k8s.core.v1.Secret("secret-sops-key", {
      metadata: { name: KEY_SECRET, namespace: config.namespace, labels },
      type: "Opaque",
      // The agent reads every `*.agekey` entry (Flux's convention).
      data: { "identity.agekey": base64(config.ageKey.apply((key) => `${key.trim()}\n`)) },
    }, opts));
  } else {
    void pulumi.log.warn("tether:ageKey is not set: Secret tether-sops is not created, and SOPS-encrypted files in Git "
      + "will fail with DecryptionFailed (pulumi config set --secret tether:ageKey \"$(cat key.txt)\")");
  }
  if (config.credentials) {
    secrets.push(new k8s.core.v1.Secret("secret-repository", {
      metadata: { name: CREDENTIALS_SECRET, namespace: config.namespace, labels: { ...labels, "tether.dev/secret-type": "repository" } },
      type: "Opaque",
      data: { url: base64(config.repoURL), username: base64(config.credentials.username), password: base64(config.credentials.password) },
    }, opts));
  }
  return secrets;
}

/** The agent's container: probes on its HTTP surface, nothing writable but its two emptyDirs. */
export function agentContainer(config: InstallConfig): k8s.types.input.core.v1.Container {
  return {
    name: "agent",
    image: config.agentImage,
    // In cluster the agent must listen on every interface, or the kubelet's probes cannot reach it.
    args: ["agent", "--namespace", config.namespace, "--listen", `0.0.0.0:${AGENT_PORT}`,
      "--cache-dir", CACHE_DIR, "--poll-interval", config.pollInterval],
    env: [{ name: "HOME", value: "/tmp" }],
    ports: [{ name: "http", containerPort: AGENT_PORT }],
    livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 20, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: "/readyz", port: "http" }, periodSeconds: 10 },
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
    securityContext: {
      runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: [{ name: "cache", mountPath: CACHE_DIR }, { name: "tmp", mountPath: "/tmp" }],
  };
}

function declareAgent(config: InstallConfig, opts: pulumi.CustomResourceOptions): k8s.apps.v1.Deployment {
  const metadata = { name: AGENT_NAME, namespace: config.namespace, labels };
  // After the handoff Git may own these two; Pulumi then leaves their spec alone.
  const handoff = config.agentSelfManaged ? { ignoreChanges: ["spec"] } : {};
  const agent = new k8s.apps.v1.Deployment("agent", {
    metadata,
    spec: {
      replicas: 1,
      // One agent at a time: two would reconcile the same Applications during a rolling update.
      strategy: { type: "Recreate" },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: AGENT_NAME,
          securityContext: { runAsNonRoot: true, fsGroup: 10001 },
          containers: [agentContainer(config)],
          volumes: [{ name: "cache", emptyDir: {} }, { name: "tmp", emptyDir: {} }],
        },
      },
    },
  }, { ...opts, ...handoff });
  new k8s.core.v1.Service("agent", {
    metadata,
    spec: { selector: labels, ports: [{ name: "http", port: AGENT_PORT, targetPort: "http" }] },
  }, { ...opts, ...handoff });
  return agent;
}

/** The app-of-apps over `tether:path`: its top-level files and one level of folders hold the child Applications. */
export function rootApplicationSpec(config: InstallConfig): ApplicationSpec {
  return {
    project: "default",
    source: {
      repoURL: config.repoURL, targetRevision: config.revision, path: config.path,
      // The layout `tether repo init` makes and components/ follows: the apps' own manifests sit deeper.
      directory: { recurse: true, exclude: "*/*/*" },
    },
    destination: { server: "https://kubernetes.default.svc", namespace: config.namespace },
    syncPolicy: { automated: { prune: true, selfHeal: true } },
  };
}

function declareRootApplication(config: InstallConfig, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource("root-application", {
    apiVersion: API_VERSION,
    kind: "Application",
    metadata: { name: config.rootName, namespace: config.namespace, labels, ...(config.cascade ? { finalizers: [FINALIZER] } : {}) },
    spec: rootApplicationSpec(config),
  }, {
    ...opts,
    // The agent writes these (status through the status subresource, operation for `tether app sync`).
    ignoreChanges: ["status", "operation"],
  });
}
