// The UI's reads from the API server: the live objects of an application's tree, events, pod logs
// (streamed). All raw JSON through KubeHttp; the Applications come from app-index.ts.
import https from "node:https";
import type { ServerResponse } from "node:http";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Application, Manifest, ObjectRef } from "../api/types.ts";
import type { Cluster } from "../apply/cluster.ts";
import { pathSegment, type KubeHttp } from "../apply/http.ts";
import { parseRefKey, refKey, resourceRef } from "../apply/inventory.ts";
import { buildTree, CHILD_KINDS, treeNamespaces } from "./model.ts";
import type { EventView, TreeNode } from "./view.ts";

export interface Reads {
  readonly http: KubeHttp;
  readonly cluster: Cluster;
}

/** The tree of `app`: its managed objects read live, and what they created in their namespaces. */
export async function readTree(app: Application, reads: Reads): Promise<TreeNode[]> {
  const live = new Map<string, Manifest>();
  await Promise.all((app.status?.resources ?? []).map(async (res) => {
    const ref = resourceRef(res);
    const obj = await reads.cluster.get(ref).catch(() => undefined);
    if (obj) live.set(refKey(ref), obj);
  }));
  const lists = await Promise.all(treeNamespaces(app).flatMap((ns) => CHILD_KINDS.map((k) => listOrNone(reads.http, k, ns))));
  return buildTree({ app, live, candidates: lists.flat() });
}

/** A list of one kind in one namespace; nothing when the caller may not list it or it is not served. */
async function listOrNone(http: KubeHttp, kind: (typeof CHILD_KINDS)[number], namespace: string): Promise<Manifest[]> {
  const base = kind.apiVersion.includes("/") ? `/apis/${kind.apiVersion}` : `/api/${kind.apiVersion}`;
  const res = await http.request("GET", `${base}/namespaces/${pathSegment(namespace, "namespace")}/${kind.plural}`);
  if (res.status >= 400) return [];
  // List items carry no apiVersion and kind; the tree needs them.
  return ((res.body as { items?: Manifest[] }).items ?? []).map((item) => ({ ...item, apiVersion: kind.apiVersion, kind: kind.kind }));
}

/** Events about one object, newest first, as `kubectl describe` shows them. */
export async function readEvents(http: KubeHttp, ref: ObjectRef): Promise<EventView[]> {
  const selector = [`involvedObject.name=${ref.name}`, `involvedObject.kind=${ref.kind}`].join(",");
  const ns = ref.namespace ? `/namespaces/${pathSegment(ref.namespace, "namespace")}` : "";
  const body = await http.ok("GET", `/api/v1${ns}/events?fieldSelector=${encodeURIComponent(selector)}`) as { items?: Record<string, unknown>[] };
  const items = (body.items ?? []).map((e): EventView => {
    const last = (e.lastTimestamp ?? e.eventTime ?? (e.metadata as { creationTimestamp?: string } | undefined)?.creationTimestamp) as string | undefined;
    const source = (e.source as { component?: string } | undefined)?.component ?? (e.reportingComponent as string | undefined);
    return {
      type: text(e.type) || "Normal", reason: text(e.reason), message: text(e.message), count: Number(e.count ?? 1),
      ...(last ? { lastTimestamp: last } : {}), ...(source ? { source } : {}),
    };
  });
  return items.sort((a, b) => (b.lastTimestamp ?? "").localeCompare(a.lastTimestamp ?? ""));
}

const text = (v: unknown): string => (typeof v === "string" ? v : "");

/** The ref of an inventory key from a query string, or undefined. */
export function refFromKey(key: string | null): ObjectRef | undefined {
  if (!key) return undefined;
  const ref = parseRefKey(key);
  if ([ref.name, ref.namespace].some((n) => n === "." || n === "..")) return undefined;
  return ref.kind && ref.name && ref.version ? ref : undefined;
}

/**
 * Pipes a Pod's log into `res` as text, following it when asked, until either side closes. Streamed
 * straight through: KubeHttp buffers whole bodies, which a followed log never ends.
 */
export async function streamLogs(kc: KubeConfig, pod: ObjectRef, opts: { container?: string; follow: boolean }, res: ServerResponse): Promise<void> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("the kubeconfig names no cluster server");
  const query = new URLSearchParams({ tailLines: "500", follow: String(opts.follow), ...(opts.container ? { container: opts.container } : {}) });
  const url = new URL(`/api/v1/namespaces/${pathSegment(pod.namespace ?? "default", "namespace")}/pods/${pathSegment(pod.name, "Pod name")}/log?${query.toString()}`, server);
  const options: https.RequestOptions = { method: "GET", headers: { accept: "*/*" } };
  await kc.applyToHTTPSOptions(options);
  await new Promise<void>((resolve) => {
    const upstream = https.request(url, options, (logs) => {
      const ok = (logs.statusCode ?? 500) < 400;
      res.writeHead(ok ? 200 : logs.statusCode ?? 502, { "content-type": ok ? "text/plain; charset=utf-8" : "application/json", "cache-control": "no-store", "x-accel-buffering": "no" });
      logs.pipe(res);
      logs.on("end", resolve);
      logs.on("error", () => resolve());
    });
    upstream.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: `reading the log of Pod ${pod.namespace}/${pod.name}: ${err.message}` }));
      resolve();
    });
    res.on("close", () => {
      upstream.destroy();
      resolve();
    });
    upstream.end();
  });
}

