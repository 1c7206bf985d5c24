// The CLI's edge to the cluster: which kubeconfig and context, and errors that say what to do next.
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import type { KubeConfig } from "@kubernetes/client-node";
import type { TetherClient } from "../agent/api/client.ts";
import { API_VERSION, DEFAULT_NAMESPACE } from "../agent/api/types.ts";
import { errorMessage } from "../agent/errors.ts";
import { EXIT, UsageError } from "./errors.ts";

export interface KubeFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace?: string;
}

// The Kubernetes client is 2 MB of JavaScript: loaded before the action of a command that takes the
// cluster flags (cli/main.ts: those with --kubeconfig), never for `--help`, so `tether app list --help` starts without it.
let modules: typeof import("./kube-client.ts") | undefined;

/** Loads the Kubernetes client; cli/main.ts runs it before a cluster command's action, tests before they call in. */
export async function loadKubernetesClient(): Promise<void> {
  modules ??= await import("./kube-client.ts");
}

function loaded() {
  if (!modules) throw new Error("internal error: the Kubernetes client is not loaded; call loadKubernetesClient() (cli/kube.ts) first");
  return modules;
}

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/** The kubeconfig files to read, as kubectl picks them: --kubeconfig, else every file of $KUBECONFIG, else ~/.kube/config. */
export function kubeconfigFiles(flags: KubeFlags, env: NodeJS.ProcessEnv = process.env): { files: string[]; from: string } {
  if (flags.kubeconfig) return { files: [flags.kubeconfig], from: "--kubeconfig" };
  const list = (env.KUBECONFIG ?? "").split(path.delimiter).filter((f) => f !== "");
  if (list.length > 0) return { files: list, from: "KUBECONFIG" };
  return { files: [path.join(env.HOME ?? os.homedir(), ".kube", "config")], from: "default" };
}

/**
 * `--kubeconfig`, else $KUBECONFIG (several files merged as kubectl merges them: the first file that
 * names a cluster, user or context wins), else ~/.kube/config, else the in-cluster service account.
 */
export function loadKubeConfig(flags: KubeFlags): KubeConfig {
  const { files, from } = kubeconfigFiles(flags);
  const present = files.filter((f) => existsSync(f));
  const kc = new (loaded().KubeConfig)();
  if (from === "--kubeconfig" && present.length === 0) {
    throw new UsageError(`kubeconfig ${flags.kubeconfig} does not exist; pass --kubeconfig PATH or set KUBECONFIG`);
  }
  if (present.length > 0) mergeFiles(kc, present);
  else if (from === "KUBECONFIG") throw new UsageError(`KUBECONFIG=${process.env.KUBECONFIG}: none of these files exists; pass --kubeconfig PATH`);
  else if (existsSync(SERVICE_ACCOUNT_TOKEN)) kc.loadFromCluster();
  else throw new UsageError("no kubeconfig found: pass --kubeconfig PATH, set KUBECONFIG, or write ~/.kube/config "
    + "(a local control plane for trying Tether: `npm run cluster:up` prints one)");
  if (flags.context) useContext(kc, flags.context);
  if (!kc.getCurrentCluster()) {
    throw new UsageError(kc.getContexts().length === 0
      ? `${present.join(", ")} has no contexts; pass a kubeconfig that points at a cluster`
      : `${present.join(", ")} has no current context: pass --context (known: ${kc.getContexts().map((c) => c.name).join(", ")})`);
  }
  return kc;
}

function mergeFiles(kc: KubeConfig, files: readonly string[]): void {
  kc.loadFromFile(files[0]!);
  for (const file of files.slice(1)) {
    const next = new (loaded().KubeConfig)();
    next.loadFromFile(file);
    const has = <T extends { name: string }>(list: readonly T[], item: T) => list.some((x) => x.name === item.name);
    for (const c of next.clusters) if (!has(kc.clusters, c)) kc.addCluster(c);
    for (const u of next.users) if (!has(kc.users, u)) kc.addUser(u);
    for (const c of next.contexts) if (!has(kc.contexts, c)) kc.addContext(c);
    if (!kc.getCurrentContext() && next.getCurrentContext()) kc.setCurrentContext(next.getCurrentContext());
  }
}

function useContext(kc: KubeConfig, context: string): void {
  const known = kc.getContexts().map((c) => c.name);
  if (!known.includes(context)) {
    throw new UsageError(`--context ${context}: no such context in the kubeconfig (known: ${known.join(", ") || "none"}); `
      + "list them with `kubectl config get-contexts`");
  }
  kc.setCurrentContext(context);
}

/** A failure to talk to the cluster, said with the server and the next step. */
export class ClusterError extends Error {
  readonly exitCode: number = EXIT.failed;
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT", "ECONNRESET", "EAI_AGAIN", "ENETUNREACH"]);

function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === "string" && (NETWORK_CODES.has(e.code) || e.code.startsWith("ERR_TLS") || e.code.includes("CERT"))) return e.code;
  }
  const m = /\b(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN)\b/.exec(errorMessage(err));
  return m?.[1];
}

/** Whether a 404 came from the API server not knowing the resource type at all ("404 page not found"). */
function unknownResource(err: unknown): boolean {
  const api = err as { code?: unknown; body?: unknown };
  if (api.code !== 404) return false;
  const body = typeof api.body === "string" ? api.body : JSON.stringify(api.body ?? "");
  return !/"details"\s*:/.test(body);
}

/** Turns client-node's errors into one line that names the server and says what to do; others pass through. */
export function explainKubeError(err: unknown, kc: KubeConfig): unknown {
  if (err instanceof ClusterError || err instanceof UsageError) return err;
  const server = kc.getCurrentCluster()?.server ?? "the API server";
  const context = kc.getCurrentContext();
  const code = networkCode(err);
  if (code) {
    return new ClusterError(`cannot reach the Kubernetes API server at ${server} (${code}): is the cluster running? `
      + `Check the kubeconfig's context ${context}, or pass --kubeconfig/--context for another cluster`, { cause: err });
  }
  const status = (err as { code?: unknown }).code;
  if (status === 401 || status === 403) {
    return new ClusterError(`the API server at ${server} refused context ${context}'s credentials (HTTP ${status}): ${errorMessage(err)}; `
      + "check the kubeconfig's user, or its RBAC", { cause: err });
  }
  if (unknownResource(err)) {
    return new ClusterError(`the cluster at ${server} has no Tether API (${API_VERSION}): run \`tether install\` with this kubeconfig first`, { cause: err });
  }
  return err;
}

/**
 * A TetherClient whose every call reports cluster failures with the next step, and whose lookups of
 * a missing Application or AppProject tell "not there" apart from "Tether is not installed".
 */
export function tetherClient(flags: KubeFlags): TetherClient {
  const kc = loadKubeConfig(flags);
  const client: TetherClient = new (loaded().TetherClient)(kc, flags.namespace ?? DEFAULT_NAMESPACE);
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        try {
          const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (result === undefined && (prop === "getApplication" || prop === "getProject")) await target.listApplications();
          return result;
        } catch (err) {
          throw explainKubeError(err, kc);
        }
      };
    },
  });
}

/** Runs `work`, reporting cluster failures of `kc` with the next step. */
export async function withCluster<T>(kc: KubeConfig, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw explainKubeError(err, kc);
  }
}

/** The cluster flags every command that talks to the API server takes. */
export function kubeOptions(cmd: Command, namespaceHelp = "namespace the Applications live in"): Command {
  return cmd
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)")
    .option("--context <name>", "kubeconfig context")
    .option("-n, --namespace <ns>", namespaceHelp, DEFAULT_NAMESPACE);
}
