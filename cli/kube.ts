import { existsSync } from "node:fs";
import type { Command } from "commander";
import { KubeConfig } from "@kubernetes/client-node";
import { TetherClient } from "../agent/api/client.ts";
import { DEFAULT_NAMESPACE } from "../agent/api/types.ts";
import { UsageError } from "./errors.ts";

export interface KubeFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace?: string;
}

/** `--kubeconfig`, else $KUBECONFIG, else ~/.kube/config, else the in-cluster service account. */
export function loadKubeConfig(flags: KubeFlags): KubeConfig {
  const kc = new KubeConfig();
  const file = flags.kubeconfig ?? process.env.KUBECONFIG;
  if (file) {
    if (!existsSync(file)) throw new UsageError(`kubeconfig ${file} does not exist; pass --kubeconfig PATH or set KUBECONFIG`);
    kc.loadFromFile(file);
  } else {
    kc.loadFromDefault();
  }
  if (flags.context) kc.setCurrentContext(flags.context);
  if (!kc.getCurrentCluster()) throw new UsageError("no cluster configured; pass --kubeconfig PATH or set KUBECONFIG");
  return kc;
}

export function tetherClient(flags: KubeFlags): TetherClient {
  return new TetherClient(loadKubeConfig(flags), flags.namespace ?? DEFAULT_NAMESPACE);
}

/** The cluster flags every command that talks to the API server takes. */
export function kubeOptions(cmd: Command, namespaceHelp = "namespace the Applications live in"): Command {
  return cmd
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)")
    .option("--context <name>", "kubeconfig context")
    .option("-n, --namespace <ns>", namespaceHelp, DEFAULT_NAMESPACE);
}
