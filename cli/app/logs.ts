// `tether app logs`: the logs of the Pods in an Application's tree, each line prefixed with its pod
// and container, as `kubectl logs -l` and `argocd app logs` print them.
import { PassThrough } from "node:stream";
import { CoreV1Api, Log, type KubeConfig } from "@kubernetes/client-node";
import type { Application } from "../../agent/api/types.ts";
import { errorMessage } from "../../agent/errors.ts";
import type { TreeNode } from "../../agent/ui/view.ts";
import { NotFoundError } from "../errors.ts";
import { liveTree } from "./tree.ts";
import type { ApiBackend } from "./backend.ts";

export interface LogsOptions {
  readonly container?: string;
  readonly tail?: number;
  readonly follow: boolean;
  /** Only this pod (a name in the tree). */
  readonly pod?: string;
}

/** The Pods of a tree: managed ones and those its Deployments, Jobs... created. Pure. */
export function podsOf(nodes: readonly TreeNode[]): { namespace: string; name: string }[] {
  return nodes.filter((n) => n.ref.kind === "Pod" && n.ref.group === "" && n.exists)
    .map((n) => ({ namespace: n.ref.namespace ?? "default", name: n.ref.name }));
}

/**
 * The logs through the agent's API after `tether login` (its RBAC's `logs, get`): each pod of the tree the
 * agent shows, prefixed like the kubeconfig path's lines; the API keeps the last 500 lines of each.
 */
export async function appLogsViaApi(app: Application, backend: ApiBackend, opts: Omit<LogsOptions, "tail">, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const nodes = (await backend.tree(app)).filter((n) => n.ref.kind === "Pod" && n.ref.group === "" && n.exists && (!opts.pod || n.ref.name === opts.pod));
  if (nodes.length === 0) throw new NotFoundError(`${app.metadata?.name ?? ""}: ${opts.pod ? `no pod ${opts.pod}` : "no pods"} in its tree`);
  await Promise.all(nodes.map(async (node) => {
    let partial = "";
    const prefix = `[${node.ref.namespace ?? "default"}/${node.ref.name}${opts.container ? `/${opts.container}` : ""}] `;
    const lines = new PassThrough();
    lines.on("data", (chunk: Buffer) => {
      const text = partial + chunk.toString("utf8");
      const cut = text.lastIndexOf("\n") + 1;
      partial = text.slice(cut);
      if (cut > 0) out.write(prefixed(text.slice(0, cut), prefix));
    });
    await backend.logs(app, node, { follow: opts.follow, ...(opts.container ? { container: opts.container } : {}) }, lines);
    if (partial) out.write(prefixed(`${partial}\n`, prefix));
  }));
}

/**
 * Writes the logs of every container of every pod of `app` to `out`; following them until interrupted with -f.
 * A log that cannot be read is a line in its place, and the command fails once the others are written.
 */
export async function appLogs(app: Application, kc: KubeConfig, opts: LogsOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const pods = podsOf(await liveTree(app, kc)).filter((p) => !opts.pod || p.name === opts.pod);
  if (pods.length === 0) {
    throw new NotFoundError(`${app.metadata?.name ?? ""}: ${opts.pod ? `no pod ${opts.pod}` : "no pods"} in its tree; \`tether app get ${app.metadata?.name ?? ""}\` shows what it deployed`);
  }
  const core = kc.makeApiClient(CoreV1Api);
  const streams: Promise<boolean>[] = [];
  let read = 0;
  let failed = 0;
  for (const pod of pods) {
    const spec = await core.readNamespacedPod(pod);
    const containers = (spec.spec?.containers ?? []).map((c) => c.name).filter((c) => !opts.container || c === opts.container);
    for (const container of containers) {
      const prefix = `[${pod.namespace}/${pod.name}/${container}] `;
      read++;
      if (opts.follow) {
        streams.push(follow(kc, { ...pod, container, prefix, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) }, out));
        continue;
      }
      const log = await readLog(core, { ...pod, container, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) });
      if (!log.ok) failed++;
      out.write(prefixed(log.text, prefix));
    }
  }
  failed += (await Promise.all(streams)).filter((ok) => !ok).length;
  if (failed > 0) {
    throw new Error(`${app.metadata?.name ?? ""}: could not read ${failed} of ${read} container logs (the "no log" lines above say why); `
      + "`kubectl logs` of the same pod shows whether the API server reaches the node's kubelet");
  }
}

async function readLog(core: CoreV1Api, p: { namespace: string; name: string; container: string; tail?: number }): Promise<{ ok: boolean; text: string }> {
  try {
    return { ok: true, text: await core.readNamespacedPodLog({ name: p.name, namespace: p.namespace, container: p.container, ...(p.tail !== undefined ? { tailLines: p.tail } : {}) }) };
  } catch (err) {
    return { ok: false, text: `(no log: ${errorMessage(err)})\n` };
  }
}

/** Follows one container's log until it ends; false when it could not be read. */
function follow(kc: KubeConfig, p: { namespace: string; name: string; container: string; prefix: string; tail?: number }, out: NodeJS.WritableStream): Promise<boolean> {
  const stream = new PassThrough();
  let partial = "";
  stream.on("data", (chunk: Buffer) => {
    const text = partial + chunk.toString("utf8");
    const cut = text.lastIndexOf("\n") + 1;
    partial = text.slice(cut);
    if (cut > 0) out.write(prefixed(text.slice(0, cut), p.prefix));
  });
  return new Promise((resolve) => {
    stream.on("end", () => resolve(true));
    void new Log(kc).log(p.namespace, p.name, p.container, stream, { follow: true, ...(p.tail !== undefined ? { tailLines: p.tail } : {}) })
      .catch((err: unknown) => {
        out.write(`${p.prefix}(no log: ${errorMessage(err)})\n`);
        resolve(false);
      });
  });
}

/** Every line of `text` with `prefix`. Pure. */
export function prefixed(text: string, prefix: string): string {
  if (text === "") return "";
  return text.replace(/\n$/, "").split("\n").map((l) => `${prefix}${l}\n`).join("");
}
