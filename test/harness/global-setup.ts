import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { build, isFresh } from "../../tools/bundle.mjs";
import { startControlPlane, type ControlPlane } from "./controlplane.ts";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
  }
}

let plane: ControlPlane | undefined;

/** One real control plane for the whole integration tier; its components die with this process. */
export async function setup(project: TestProject): Promise<void> {
  // The suites run what ships: the bundle in dist/, rebuilt here when a source changed since the last build.
  if (!isFresh()) await build({ log: (l) => console.error(`[build] ${l}`) });
  const dir = await mkdtemp(path.join(os.tmpdir(), "tether-test-cluster-"));
  const started = Date.now();
  plane = await startControlPlane({ dir, ownerPid: process.pid, log: (l) => console.error(`[cluster] ${l}`) });
  console.error(`[cluster] ready in ${((Date.now() - started) / 1000).toFixed(1)}s; logs in ${dir}`);
  project.provide("kubeconfig", plane.kubeconfigPath);
}

export async function teardown(): Promise<void> {
  await plane?.stop();
}
