// The cluster Tether is installed into, by `tether:cluster`: an existing one (kubeconfig), a machine
// that k3s is installed on over SSH, or this checkout's local control plane. Each ends in the same
// thing: a kubeconfig, kept secret, for the Kubernetes provider.
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig, K3sCluster, KubeconfigCluster } from "./config.ts";
import { loadKubeconfig, pointServerAt } from "./kubeconfig.ts";

export interface Cluster {
  /** Secret: it carries the credentials. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly context?: string;
  /** The cluster may go away before the install does (the local control plane), so deletes must not hang on it. */
  readonly ephemeral: boolean;
}

export interface ClusterOptions {
  /** Where a relative `tether:kubeconfig` path starts: the Pulumi project directory. */
  readonly baseDir: string;
}

/** The checkout this program lives in, whose `npm run cluster:up` starts the local control plane. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export function connectCluster(config: ClusterConfig, opts: ClusterOptions): Cluster {
  switch (config.mode) {
    case "kubeconfig":
      return existingCluster(config, opts);
    case "k3s":
      return k3sCluster(config);
    case "local":
      return localCluster();
  }
}

function existingCluster(config: KubeconfigCluster, opts: ClusterOptions): Cluster {
  return {
    kubeconfig: pulumi.secret(config.kubeconfig.apply((value) => loadKubeconfig(value, opts.baseDir))),
    ...(config.context ? { context: config.context } : {}),
    ephemeral: false,
  };
}

const K3S_KUBECONFIG = "/etc/rancher/k3s/k3s.yaml";

function k3sCluster(config: K3sCluster): Cluster {
  const connection: command.types.input.remote.ConnectionArgs = {
    host: config.host, port: config.port, user: config.user,
    ...(config.privateKey ? { privateKey: config.privateKey } : {}),
  };
  // Nothing runs on delete: k3s and what runs on it stay (k3s-uninstall.sh removes them, deliberately).
  const install = new command.remote.Command("k3s-install", { connection, create: config.installCommand });
  const sudo = config.user === "root" ? "" : "sudo ";
  const read = new command.remote.Command("k3s-kubeconfig", {
    connection,
    create: `${sudo}cat ${K3S_KUBECONFIG}`,
    // Read again whenever k3s is (re)installed: a reinstall makes new certificates.
    triggers: [install.id],
  }, { dependsOn: [install], additionalSecretOutputs: ["stdout"] });
  return { kubeconfig: pulumi.secret(read.stdout.apply((text) => pointServerAt(text, config.host))), ephemeral: false };
}

function localCluster(): Cluster {
  // cluster:up prints the kubeconfig path as its last line and reuses a plane that already runs;
  // the kubeconfig itself (client certificate included) becomes the secret output.
  const plane = new command.local.Command("local-control-plane", {
    create: "set -o pipefail; kubeconfig=$(npm run -s cluster:up | tail -1) && cat \"$kubeconfig\"",
    delete: "npm run -s cluster:down",
    dir: repoRoot,
    interpreter: ["/bin/bash", "-c"],
  }, { additionalSecretOutputs: ["stdout"] });
  return { kubeconfig: pulumi.secret(plane.stdout), ephemeral: true };
}
