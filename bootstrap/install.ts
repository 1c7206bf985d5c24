// Tether in a cluster, declared through the Kubernetes provider: one Pulumi resource per object of
// bootstrapManifests (bootstrap/manifests.ts), the same objects `tether bootstrap` applies: CRDs,
// namespace, identity, RBAC, the default AppProject, the key and repository Secrets, the agent
// Deployment and Service, and the root Application that hands the cluster over to Git.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { API_VERSION, type Manifest } from "../agent/api/types.ts";
import type { InstallConfig } from "./config.ts";
import {
  agentDeployment, agentInstallManifests, agentService, agentTlsSecrets, keySecretData, keySecretShell, repositorySecretData, repositorySecretShell, rootApplication,
  type AgentOptions, type RootOptions, type SecretShell,
} from "./manifests.ts";

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
  const manifests = agentInstallManifests(config.namespace, config);
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

/** roleRef cannot change in place: a RoleBinding bound to another role is deleted, then created. */
const REBIND: pulumi.CustomResourceOptions = { replaceOnChanges: ["roleRef"], deleteBeforeReplace: true };

function declareObject(name: string, obj: Manifest, opts: pulumi.CustomResourceOptions): pulumi.Resource {
  switch (`${obj.apiVersion}/${obj.kind}`) {
    case "v1/ServiceAccount":
      return new k8s.core.v1.ServiceAccount(name, asArgs(obj), opts);
    // Named after its role (clusterBindingName): another tether:clusterRole is another resource, which
    // Pulumi creates before it deletes the old one, so the agent is never without a binding.
    case "rbac.authorization.k8s.io/v1/ClusterRoleBinding":
      return new k8s.rbac.v1.ClusterRoleBinding(name, asArgs(obj), opts);
    case "rbac.authorization.k8s.io/v1/RoleBinding":
      return new k8s.rbac.v1.RoleBinding(`${name}-${obj.metadata.namespace ?? ""}`, asArgs(obj), { ...opts, ...REBIND });
    case "rbac.authorization.k8s.io/v1/ClusterRole":
      return new k8s.rbac.v1.ClusterRole(name, asArgs(obj), opts);
    case `${API_VERSION}/AppProject`:
      return new k8s.apiextensions.CustomResource(name, obj, opts);
    default:
      throw new Error(`installManifests declared ${obj.apiVersion} ${obj.kind}, which bootstrap/install.ts does not map to a resource yet; add a case`);
  }
}

/** The plain options of the agent and the root Application, from the stack configuration. */
export function agentOptions(config: InstallConfig): AgentOptions {
  return { namespace: config.namespace, image: config.agentImage, pollInterval: config.pollInterval, replicas: config.replicas };
}

export function rootOptions(config: InstallConfig): RootOptions {
  return { namespace: config.namespace, name: config.rootName, repoURL: config.repoURL, revision: config.revision, path: config.path, cascade: config.cascade };
}

/** A Secret whose data comes from secret config values: Pulumi keeps the data a secret Output. */
function declareSecret(name: string, shell: SecretShell, data: pulumi.Output<Record<string, string>>, opts: pulumi.CustomResourceOptions) {
  return new k8s.core.v1.Secret(name, { ...asArgs<k8s.core.v1.SecretArgs>(shell), data }, opts);
}

function declareSecrets(config: InstallConfig, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
  // The agent's serving certificate, made at the first `pulumi up` and kept after (its data is ignored
  // once created; `tether install` renews it). The CA to trust: Secret tether-agent-tls, key ca.crt.
  const tls = agentTlsSecrets(config.namespace);
  const keep = { ...opts, ignoreChanges: ["data"], additionalSecretOutputs: ["data"] };
  const secrets: pulumi.Resource[] = [
    new k8s.core.v1.Secret("secret-agent-tls", asArgs<k8s.core.v1.SecretArgs>(tls.serving), keep),
    new k8s.core.v1.Secret("secret-agent-ca", asArgs<k8s.core.v1.SecretArgs>(tls.ca), keep),
  ];
  if (config.ageKey) {
    secrets.push(declareSecret("secret-sops-key", keySecretShell(config.namespace), config.ageKey.apply(keySecretData), opts));
  } else {
    void pulumi.log.warn("tether:ageKey is not set: Secret tether-sops is not created, and SOPS-encrypted files in Git "
      + "will fail with DecryptionFailed (pulumi config set --secret tether:ageKey \"$(cat key.txt)\")");
  }
  if (config.credentials) {
    const { username } = config.credentials;
    secrets.push(declareSecret("secret-repository", repositorySecretShell(config.namespace),
      config.credentials.password.apply((password) => repositorySecretData(config.repoURL, { username, password })), opts));
  }
  return secrets;
}

function declareAgent(config: InstallConfig, opts: pulumi.CustomResourceOptions): k8s.apps.v1.Deployment {
  // After the handoff Git may own these two; Pulumi then leaves their spec alone.
  const handoff = config.agentSelfManaged ? { ignoreChanges: ["spec"] } : {};
  const agent = new k8s.apps.v1.Deployment("agent", asArgs(agentDeployment(agentOptions(config))), { ...opts, ...handoff });
  new k8s.core.v1.Service("agent", asArgs(agentService(config.namespace)), { ...opts, ...handoff });
  return agent;
}

function declareRootApplication(config: InstallConfig, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource("root-application", asArgs(rootApplication(rootOptions(config)) as unknown as Manifest), {
    ...opts,
    // The agent writes these (status through the status subresource, operation for `tether app sync`).
    ignoreChanges: ["status", "operation"],
  });
}
