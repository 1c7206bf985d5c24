// Promotion (Kargo's Warehouse → Freight → Stage) in the agent: the controller on the agent's git source,
// the shared registry client and Git writer.
import type { KubeConfig } from "@kubernetes/client-node";
import type { TetherClient } from "../api/client.ts";
import type { Application } from "../api/types.ts";
import type { LogFn } from "../log.ts";
import { RegistryClient, repositoryAuth } from "../registry/index.ts";
import type { GitSource } from "../source/index.ts";
import { GitWriter } from "../writeback/index.ts";
import { PromotionClient } from "./client.ts";
import { PromotionController } from "./controller.ts";
import { gitBranchWriter, registryDiscovery } from "./io.ts";

export { PromotionController } from "./controller.ts";

export interface PromotionOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly client: TetherClient;
  readonly source: GitSource;
  readonly cacheDir: string;
  readonly allowLocalRepos: boolean;
  readonly log: LogFn;
  readonly tickMs: number;
  readonly owns?: () => boolean;
  /** The Applications as the controller's informer holds them (no LIST per pass). */
  readonly applications?: () => Promise<readonly Application[]>;
}

const REPOSITORY_SECRETS = ["tether.dev/secret-type in (repository,repo-creds)", "argocd.argoproj.io/secret-type in (repository,repo-creds)"];

/** The promotion controller with the agent's credentials: repository Secrets for Git and for registries, as Argo CD's. */
export function promotionController(opts: PromotionOptions): PromotionController {
  const registry = new RegistryClient({
    credentials: async (image) => repositoryAuth(image, (await Promise.all(REPOSITORY_SECRETS.map((l) => opts.client.listSecrets(l)))).flat(), opts.namespace),
  });
  const writer = new GitWriter({ cacheDir: opts.cacheDir, credentials: (url) => opts.client.repoCredentials(url), allowLocal: opts.allowLocalRepos });
  return new PromotionController({
    client: new PromotionClient(opts.kc, opts.namespace, opts.applications), discover: registryDiscovery(registry), write: gitBranchWriter(writer, opts.source),
    log: opts.log, tickMs: opts.tickMs, ...(opts.owns ? { owns: opts.owns } : {}),
  });
}
