// The stack configuration (`pulumi config set tether:KEY VALUE`), read once and checked up front so a
// mistake stops `pulumi preview` with a message that says the fix, before anything is created.
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_NAMESPACE } from "../agent/api/types.ts";
import { DEFAULT_REPLICAS } from "./manifests.ts";

export const CLUSTER_MODES = ["kubeconfig", "k3s", "local"] as const;
export type ClusterMode = (typeof CLUSTER_MODES)[number];

/** An existing cluster reached through a kubeconfig. */
export interface KubeconfigCluster {
  readonly mode: "kubeconfig";
  /** A path (read when the program runs) or the kubeconfig itself; kept secret either way. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly context?: string;
}

/** A Linux machine reached over SSH that k3s is installed on. */
export interface K3sCluster {
  readonly mode: "k3s";
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Unset: the SSH agent (SSH_AUTH_SOCK) authenticates. */
  readonly privateKey?: pulumi.Output<string>;
  /** Runs on the host once; anything that leaves /etc/rancher/k3s/k3s.yaml behind will do. */
  readonly installCommand: string;
}

/** This checkout's local control plane (`npm run cluster:up`): for trying Tether out without a cluster. */
export interface LocalCluster {
  readonly mode: "local";
}

export type ClusterConfig = KubeconfigCluster | K3sCluster | LocalCluster;

export interface RepositoryCredentials {
  readonly username: string;
  readonly password: pulumi.Output<string>;
}

export interface InstallConfig {
  readonly namespace: string;
  readonly agentImage: string;
  /** ClusterRole bound to the agent; cluster-admin unless the stack names a narrower one. */
  readonly clusterRole: string;
  /** `tether:namespaced`: no cluster-wide rights, as `tether install --namespaced`. */
  readonly namespaced: boolean;
  /** `tether:deployNamespaces` (comma-separated): where a namespaced agent may deploy; default its own namespace. */
  readonly deployNamespaces?: readonly string[];
  readonly pollInterval: string;
  /** Agent replicas; more than one elect a leader through a Lease (`--leader-elect`). */
  readonly replicas: number;
  readonly ageKey?: pulumi.Output<string>;
  readonly repoURL: string;
  readonly revision: string;
  readonly path: string;
  readonly credentials?: RepositoryCredentials;
  readonly rootName: string;
  /** Deleting the root Application deletes what it deployed (its finalizer); off leaves it all running. */
  readonly cascade: boolean;
  /**
   * After the handoff Git may carry the agent's own Deployment and Service; Pulumi then stops
   * comparing their spec so the two never revert each other.
   */
  readonly agentSelfManaged: boolean;
}

export interface BootstrapConfig {
  readonly cluster: ClusterConfig;
  readonly install: InstallConfig;
}

/** A configuration mistake: shown without a stack trace, with the command that fixes it. */
export class ConfigError extends pulumi.RunError {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const agentVersion = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** The image `docker build -t tether:VERSION .` makes from this checkout's Dockerfile. */
export const DEFAULT_AGENT_IMAGE = `tether:${agentVersion}`;

/** k3s' own installer; `--tls-san` puts the host's name in the API server certificate. */
export function defaultK3sInstallCommand(host: string): string {
  return `curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC="server --tls-san ${host}" sh -`;
}

/** Reads and checks the `tether:` namespace of the stack configuration. */
export function readConfig(config: pulumi.Config = new pulumi.Config("tether")): BootstrapConfig {
  return { cluster: readCluster(config), install: readInstall(config) };
}

function readCluster(config: pulumi.Config): ClusterConfig {
  const mode = config.get("cluster") ?? "kubeconfig";
  switch (mode) {
    case "kubeconfig": {
      const kubeconfig = config.getSecret("kubeconfig");
      if (kubeconfig === undefined) {
        throw new ConfigError("tether:kubeconfig is not set; with tether:cluster=kubeconfig it names the cluster to install into: "
          + "pulumi config set tether:kubeconfig ~/.kube/config (a path, or the kubeconfig itself with --secret)");
      }
      const context = config.get("context");
      return { mode, kubeconfig, ...(context ? { context } : {}) };
    }
    case "k3s": {
      const host = config.get("host");
      if (!host) {
        throw new ConfigError("tether:host is not set; with tether:cluster=k3s it is the machine k3s is installed on: "
          + "pulumi config set tether:host 203.0.113.10");
      }
      const privateKey = config.getSecret("privateKey");
      return {
        mode, host, port: config.getNumber("port") ?? 22, user: config.get("user") ?? "root",
        installCommand: config.get("k3sInstallCommand") ?? defaultK3sInstallCommand(host),
        ...(privateKey ? { privateKey } : {}),
      };
    }
    case "local":
      return { mode };
    default:
      throw new ConfigError(`tether:cluster is "${mode}", which is not a cluster mode; use one of ${CLUSTER_MODES.join(", ")}: `
        + "pulumi config set tether:cluster kubeconfig");
  }
}

function readInstall(config: pulumi.Config): InstallConfig {
  const repoURL = config.get("repoURL");
  if (!repoURL) {
    throw new ConfigError("tether:repoURL is not set; it is the Git repository the agent deploys: "
      + "pulumi config set tether:repoURL https://git.example.com/platform/gitops.git");
  }
  const ageKey = config.getSecret("ageKey");
  return {
    namespace: config.get("namespace") ?? DEFAULT_NAMESPACE,
    agentImage: config.get("agentImage") ?? DEFAULT_AGENT_IMAGE,
    ...readRbac(config),
    pollInterval: config.get("pollInterval") ?? "60s",
    replicas: readReplicas(config),
    repoURL,
    revision: config.get("revision") ?? "main",
    path: config.get("path") ?? "components",
    rootName: config.get("rootName") ?? "root",
    cascade: config.getBoolean("cascade") ?? true,
    agentSelfManaged: config.getBoolean("agentSelfManaged") ?? false,
    ...(ageKey ? { ageKey } : {}),
    ...readCredentials(config),
  };
}

function readRbac(config: pulumi.Config): Pick<InstallConfig, "clusterRole" | "namespaced" | "deployNamespaces"> {
  const clusterRole = config.get("clusterRole");
  const namespaced = config.getBoolean("namespaced") ?? false;
  const deployNamespaces = config.get("deployNamespaces")?.split(",").map((n) => n.trim()).filter((n) => n !== "");
  if (namespaced && clusterRole !== undefined) {
    throw new ConfigError(`tether:clusterRole (${clusterRole}) and tether:namespaced are exclusive: a namespaced agent has no ClusterRoleBinding. `
      + "Remove one: pulumi config rm tether:clusterRole");
  }
  if (!namespaced && deployNamespaces !== undefined) {
    throw new ConfigError("tether:deployNamespaces needs tether:namespaced (in cluster mode tether:clusterRole decides): "
      + "pulumi config set tether:namespaced true");
  }
  return {
    clusterRole: clusterRole ?? "cluster-admin", namespaced,
    ...(deployNamespaces?.length ? { deployNamespaces } : {}),
  };
}

function readReplicas(config: pulumi.Config): number {
  const replicas = config.getNumber("replicas") ?? DEFAULT_REPLICAS;
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new ConfigError(`tether:replicas is ${replicas}; it is the number of agent pods, at least 1: pulumi config set tether:replicas ${DEFAULT_REPLICAS}`);
  }
  return replicas;
}

function readCredentials(config: pulumi.Config): { credentials?: RepositoryCredentials } {
  const username = config.get("repoUsername");
  const password = config.getSecret("repoPassword");
  if (username === undefined && password === undefined) return {};
  if (username === undefined || password === undefined) {
    throw new ConfigError("repository credentials need both tether:repoUsername and tether:repoPassword: "
      + "pulumi config set tether:repoUsername git && pulumi config set --secret tether:repoPassword TOKEN");
  }
  return { credentials: { username, password } };
}
