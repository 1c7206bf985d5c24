// Starts the agent: the controller, its git source and render stage, and the HTTP surface.
import os from "node:os";
import path from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { TetherClient } from "./api/client.ts";
import { KubeCluster } from "./apply/cluster.ts";
import { Controller } from "./controller/controller.ts";
import { startServer } from "./server.ts";
import { agentUi } from "./ui/index.ts";
import { GitSource } from "./source/index.ts";
import { renderApplication } from "./render/application.ts";

export interface AgentOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly pollIntervalMs: number;
  readonly listen: { readonly host: string; readonly port: number };
  /** Mirrors and throwaway checkouts; an emptyDir in cluster. */
  readonly cacheDir?: string;
  readonly workers?: number;
  readonly log?: (line: string) => void;
}

export interface RunningAgent {
  readonly controller: Controller;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const log = opts.log ?? ((line: string) => console.log(`${new Date().toISOString()} ${line}`));
  const client = new TetherClient(opts.kc, opts.namespace);
  const cluster = new KubeCluster(opts.kc);
  const source = new GitSource({
    cacheDir: opts.cacheDir ?? path.join(os.tmpdir(), `tether-agent-${process.pid}`),
    credentials: (url) => client.repoCredentials(url),
  });
  const controller = new Controller({
    kc: opts.kc, namespace: opts.namespace, cluster, source, render: renderApplication,
    pollIntervalMs: opts.pollIntervalMs, workers: opts.workers ?? 4, log,
  });
  const ui = agentUi({ kc: opts.kc, namespace: opts.namespace, log, ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}) });
  const server = await startServer({ controller, cluster, host: opts.listen.host, port: opts.listen.port, ui });
  await controller.start();
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : opts.listen.port;
  log(`tether agent ready; probes and metrics on http://${opts.listen.host}:${port}`);
  return {
    controller, port,
    stop: async () => {
      await controller.stop();
      ui.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
