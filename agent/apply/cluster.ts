// The edge between the pipeline and the API server: discovery, read, server-side apply, delete.
// Everything else in the agent works on plain objects.
import type { KubeConfig } from "@kubernetes/client-node";
import { FIELD_MANAGER, type Manifest, type ObjectRef } from "../api/types.ts";
import { KubeApiError, KubeHttp, type KubeHttpOptions } from "./http.ts";
import { apiBase } from "../api/gvk.ts";
import { apiVersionOf, displayRef, refOf } from "./inventory.ts";

/** What the agent needs from a cluster, so stages can be driven by the real API server in tests. */
export interface Cluster {
  /** Whether the kind is namespaced; undefined when the server does not serve it. */
  isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined>;
  /** The resource name (plural) a kind is served under, for watch paths. */
  plural(apiVersion: string, kind: string): Promise<string | undefined>;
  /** The live object; undefined when it does not exist, or its kind is not served (yet). */
  get(ref: ObjectRef): Promise<Manifest | undefined>;
  /** Server-side apply with field manager `tether`, taking over conflicting fields (as Flux does). */
  apply(obj: Manifest, opts?: { readonly dryRun?: boolean }): Promise<Manifest>;
  /** Deletes in the background; a missing object is not an error. */
  delete(ref: ObjectRef): Promise<void>;
  /** POST: creates a new object (a hook is created afresh each sync; an existing one is a 409). */
  create(obj: Manifest): Promise<Manifest>;
  /** Counts of the write requests sent, by verb: what the no-op test and the metrics read. */
  readonly writes: Readonly<Record<"apply" | "dryRun" | "delete" | "create", number>>;
}

export function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === 404;
}

interface ApiResource {
  readonly name: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export class KubeCluster implements Cluster {
  readonly writes = { apply: 0, dryRun: 0, delete: 0, create: 0 };
  private readonly http: KubeHttp;
  private readonly discovery = new Map<string, readonly ApiResource[]>();

  constructor(kc: KubeConfig, options: KubeHttpOptions = {}) {
    this.http = new KubeHttp(kc, options);
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
    return (await this.resource(apiVersion, kind))?.namespaced;
  }

  async plural(apiVersion: string, kind: string): Promise<string | undefined> {
    return (await this.resource(apiVersion, kind))?.name;
  }

  async get(ref: ObjectRef): Promise<Manifest | undefined> {
    // A kind the server does not serve (yet: its CRD may be in the same sync) has no objects.
    if (!await this.resource(apiVersionOf(ref), ref.kind)) return undefined;
    const path = await this.path(ref);
    const res = await this.http.request("GET", path);
    if (res.status === 404) return undefined;
    if (res.status >= 400) throw new KubeApiError(res.status, res.body, "GET", path);
    return res.body as Manifest;
  }

  async apply(obj: Manifest, opts: { readonly dryRun?: boolean } = {}): Promise<Manifest> {
    if (opts.dryRun) this.writes.dryRun++;
    else this.writes.apply++;
    const ref = refOf(obj);
    const query = `?fieldManager=${FIELD_MANAGER}&force=true${opts.dryRun ? "&dryRun=All" : ""}`;
    // JSON is YAML, so the apply patch content type takes the manifest as it is.
    return await this.http.ok("PATCH", `${await this.path(ref)}${query}`, { json: obj, contentType: "application/apply-patch+yaml" }) as Manifest;
  }

  async create(obj: Manifest): Promise<Manifest> {
    this.writes.create++;
    const path = await this.path(refOf(obj));
    const collection = path.slice(0, path.lastIndexOf("/"));
    return await this.http.ok("POST", `${collection}?fieldManager=${FIELD_MANAGER}`, { json: obj, contentType: "application/json" }) as Manifest;
  }

  async delete(ref: ObjectRef): Promise<void> {
    this.writes.delete++;
    const path = await this.path(ref);
    const res = await this.http.request("DELETE", path, { json: { propagationPolicy: "Background" }, contentType: "application/json" });
    if (res.status >= 400 && res.status !== 404) throw new KubeApiError(res.status, res.body, "DELETE", path);
  }

  private async path(ref: ObjectRef): Promise<string> {
    const apiVersion = apiVersionOf(ref);
    const resource = await this.resource(apiVersion, ref.kind);
    if (!resource) throw new KubeApiError(404, { message: `the server does not serve ${ref.kind} in ${apiVersion} (${displayRef(ref)})` }, "GET", apiVersion);
    const base = apiBase(apiVersion);
    const ns = resource.namespaced ? `/namespaces/${encodeURIComponent(ref.namespace ?? "default")}` : "";
    return `${base}${ns}/${resource.name}/${encodeURIComponent(ref.name)}`;
  }

  /** Discovery per group-version, cached; a kind not found refreshes its group-version once (a CRD may be new). */
  private async resource(apiVersion: string, kind: string): Promise<ApiResource | undefined> {
    const find = () => this.discovery.get(apiVersion)?.find((r) => r.kind === kind && !r.name.includes("/"));
    const cached = find();
    if (cached) return cached;
    const path = apiBase(apiVersion);
    const res = await this.http.request("GET", path);
    if (res.status === 404) return undefined;
    if (res.status >= 400) throw new KubeApiError(res.status, res.body, "GET", path);
    this.discovery.set(apiVersion, (res.body as { resources?: ApiResource[] }).resources ?? []);
    return find();
  }
}
