// The Pulumi program (`pulumi up` at the repository root): connect or provision the cluster named by
// `tether:cluster`, install Tether through the Kubernetes provider, and hand the cluster to Git.
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { connectCluster } from "./cluster.ts";
import { readConfig } from "./config.ts";
import { installTether } from "./install.ts";

/** Stack outputs. */
export interface Outputs {
  /** Secret: the cluster's credentials, for `tether` and kubectl (`pulumi stack output --show-secrets kubeconfig`). */
  readonly kubeconfig: pulumi.Output<string>;
  readonly namespace: pulumi.Output<string>;
  readonly rootApplication: pulumi.Output<string>;
}

export default function bootstrap(): Outputs {
  const config = readConfig();
  const cluster = connectCluster(config.cluster, { baseDir: process.cwd() });
  const provider = new k8s.Provider("cluster", {
    kubeconfig: cluster.kubeconfig,
    ...(cluster.context ? { context: cluster.context } : {}),
    // Server-side apply: Pulumi owns exactly the fields it sets, the agent (field manager `tether`)
    // the ones it writes, and the API server tells them apart.
    enableServerSideApply: true,
    // A stopped local control plane must not make `pulumi destroy` wait for objects nobody can reach.
    ...(cluster.ephemeral ? { deleteUnreachable: true } : {}),
  });
  const tether = installTether(config.install, provider);
  return {
    kubeconfig: cluster.kubeconfig,
    namespace: tether.namespace,
    rootApplication: tether.rootApplication.metadata.name,
  };
}
