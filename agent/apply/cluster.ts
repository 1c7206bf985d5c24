// The edge between the pipeline and the API server: discovery, read, server-side apply, delete.
// Everything else in the agent works on plain objects.
import { setTimeout as sleep } from "node:timers/promises";
import type { KubeConfig } from "@kubernetes/client-node";
import { FIELD_MANAGER, type Manifest, type ObjectRef } from "../api/types.ts";
import { KubeApiError, KubeHttp, pathSegment, type KubeHttpOptions } from "./http.ts";
import { apiBase } from "../api/gvk.ts";
import { apiVersionOf, displayRef, refOf } from "./inventory.ts";
import { lastApplied, threeWayPatch, withLastApplied } from "./client-side.ts";
import type { Propagation, WriteMethod } from "./options.ts";
import type { Capabilities } from "../render/types.ts";
import { apiVersionStrings, CapabilitiesCache, type ServedGroupVersion } from "./discovery.ts";

/** What the agent needs from a cluster, so stages can be driven by the real API server in tests. */
export interface Cluster {
  /** Whether the kind is namespaced; undefined when the server does not serve it. */
  isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined>;
  /** The resource name (plural) a kind is served under, for watch paths. */
  plural(apiVersion: string, kind: string): Promise<string | undefined>;
  /** The live object; undefined when it does not exist, or its kind is not served (yet). */
  get(ref: ObjectRef): Promise<Manifest | undefined>;
  /**
   * Writes `obj`: by default server-side apply with field manager `tether`, taking over conflicting
   * fields (as Flux does); the object's sync options may ask for client-side apply or replace.
   */
  apply(obj: Manifest, opts?: WriteOptions): Promise<Manifest>;
  /** Deletes (in the background unless told otherwise); a missing object is not an error. */
  delete(ref: ObjectRef, opts?: { readonly propagation?: Propagation }): Promise<void>;
  /** POST: creates a new object (a hook is created afresh each sync; an existing one is a 409). */
  create(obj: Manifest): Promise<Manifest>;
  /**
   * A JSON merge patch under a field manager of its own (a resource action's `tether-action`), so the
   * fields it sets are not Tether's apply's and the next apply does not take them back.
   */
  patch?(ref: ObjectRef, patch: unknown, opts: PatchOptions): Promise<Manifest>;
  /**
   * The version and APIs the cluster serves (Helm's `.Capabilities`), cached per client for a few
   * minutes (discovery.ts). Optional: a cluster that cannot tell renders with Helm's defaults.
   */
  capabilities?(): Promise<Capabilities>;
  /** Counts of the write requests sent, by verb: what the no-op test and the metrics read. */
  readonly writes: Readonly<Record<"apply" | "dryRun" | "delete" | "create", number>>;
}

/** A merge patch's field manager, and `status` to patch the status subresource (an action that changes status). */
export interface PatchOptions {
  readonly fieldManager: string;
  readonly subresource?: "status";
}

/** How one write goes: the object's sync options, and the live object they may need. */
export interface WriteOptions {
  readonly dryRun?: boolean;
  /** `server-side` (default), `client-side` (ServerSideApply=false) or `replace` (Replace=true). */
  readonly method?: WriteMethod;
  /** Validate=false: unknown fields dropped (fieldValidation=Ignore); otherwise refused (Strict), as kubectl does. */
  readonly validate?: boolean;
  /** Force=true: delete and create again when the server will not update in place (with replace: always). */
  readonly force?: boolean;
  /** The live object read before (client-side apply merges against it; replace picks create or update by it). */
  readonly live?: Manifest;
  /**
   * A server-side apply that may only create: an object that exists already is left as it is and the
   * apply fails with {@link ObjectExists}. For an object read as missing without a request (the live
   * cache holds only what carries Tether's label): a new object costs one request, one that exists
   * unlabelled (another Application's, another tool's) is read and decided on before it is written.
   */
  readonly createOnly?: boolean;
}

/** A create-only apply found the object there already: nothing was written. */
export class ObjectExists extends Error {
  constructor(readonly ref: ObjectRef) {
    super(`${displayRef(ref)} exists already`);
  }
}

/**
 * A resourceVersion no object has (etcd's revisions start at 2 and never reach it). A server-side
 * apply that carries it creates a missing object (the API server drops a resourceVersion on create)
 * and gets 409 for an existing one (there it is a precondition), in one request.
 */
const NO_OBJECT_HAS_VERSION = "9223372036854775807";

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
  private readonly served = new CapabilitiesCache(() => this.readCapabilities());

  constructor(kc: KubeConfig, options: KubeHttpOptions = {}) {
    this.http = new KubeHttp(kc, options);
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
    return (await this.resource(apiVersion, kind))?.namespaced;
  }

  async plural(apiVersion: string, kind: string): Promise<string | undefined> {
    return (await this.resource(apiVersion, kind))?.name;
  }

  capabilities(): Promise<Capabilities> {
    return this.served.get();
  }

  /** `/version`, then every group/version of `/api` and `/apis` and its kinds (legacy discovery, one request each, at once). */
  private async readCapabilities(): Promise<Capabilities> {
    const version = await this.http.ok("GET", "/version") as { gitVersion?: string };
    const core = await this.http.ok("GET", "/api") as { versions?: string[] };
    const groups = await this.http.ok("GET", "/apis") as { groups?: { versions?: { groupVersion: string }[] }[] };
    const groupVersions = [...core.versions ?? [], ...(groups.groups ?? []).flatMap((g) => (g.versions ?? []).map((v) => v.groupVersion))];
    const served = await Promise.all(groupVersions.map(async (gv): Promise<ServedGroupVersion> => {
      const res = await this.http.request("GET", apiBase(gv));
      // An aggregated API that is down answers 503: its group/version is still listed, without kinds.
      const resources = res.status < 400 ? (res.body as { resources?: ApiResource[] }).resources ?? [] : [];
      if (res.status < 400) this.discovery.set(gv, resources);
      return { groupVersion: gv, kinds: [...new Set(resources.filter((r) => !r.name.includes("/")).map((r) => r.kind))] };
    }));
    return { kubeVersion: version.gitVersion ?? "", apiVersions: apiVersionStrings(served) };
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

  async apply(obj: Manifest, opts: WriteOptions = {}): Promise<Manifest> {
    if (opts.dryRun) this.writes.dryRun++;
    else this.writes.apply++;
    const write = () => this.write(obj, opts);
    if (!opts.force || opts.dryRun) return await write();
    if (opts.method === "replace" && opts.live) return await this.recreate(obj, opts);
    try {
      return await write();
    } catch (err) {
      // kubectl apply --force: what the server will not update in place (an immutable field) is recreated.
      if (!(err instanceof KubeApiError) || (err.code !== 422 && err.code !== 409)) throw err;
      return await this.recreate(obj, opts);
    }
  }

  async patch(ref: ObjectRef, patch: unknown, opts: PatchOptions): Promise<Manifest> {
    this.writes.apply++;
    const path = `${await this.path(ref)}${opts.subresource ? `/${opts.subresource}` : ""}`;
    return await this.http.ok("PATCH", `${path}?fieldManager=${encodeURIComponent(opts.fieldManager)}`, { json: patch, contentType: "application/merge-patch+json" }) as Manifest;
  }

  async create(obj: Manifest): Promise<Manifest> {
    this.writes.create++;
    return await this.post(obj, `?fieldManager=${FIELD_MANAGER}`);
  }

  private async write(obj: Manifest, opts: WriteOptions): Promise<Manifest> {
    const ref = refOf(obj);
    const query = `?fieldManager=${FIELD_MANAGER}&fieldValidation=${opts.validate === false ? "Ignore" : "Strict"}${opts.dryRun ? "&dryRun=All" : ""}`;
    const path = await this.path(ref);
    if (opts.method === "client-side") {
      const desired = withLastApplied(obj);
      if (!opts.live) return await this.post(desired, query);
      const patch = threeWayPatch(lastApplied(opts.live), desired, opts.live);
      if (Object.keys(patch).length === 0) return opts.live;
      return await this.http.ok("PATCH", `${path}${query}`, { json: patch, contentType: "application/merge-patch+json" }) as Manifest;
    }
    if (opts.method === "replace") {
      if (!opts.live) return await this.post(obj, query);
      // A CRD or Namespace replaced without its resourceVersion could be recreated, taking its contents along (as Argo CD avoids).
      const keep = ref.kind === "CustomResourceDefinition" || ref.kind === "Namespace" ? { resourceVersion: opts.live.metadata.resourceVersion } : {};
      return await this.http.ok("PUT", `${path}${query}`, { json: { ...obj, metadata: { ...obj.metadata, ...keep } }, contentType: "application/json" }) as Manifest;
    }
    // JSON is YAML, so the apply patch content type takes the manifest as it is.
    if (!opts.createOnly) return await this.http.ok("PATCH", `${path}${query}&force=true`, { json: obj, contentType: "application/apply-patch+yaml" }) as Manifest;
    const json = { ...obj, metadata: { ...obj.metadata, resourceVersion: NO_OBJECT_HAS_VERSION } };
    const res = await this.http.request("PATCH", `${path}${query}&force=true`, { json, contentType: "application/apply-patch+yaml" });
    if (res.status === 409) throw new ObjectExists(ref);
    if (res.status >= 400) throw new KubeApiError(res.status, res.body, "PATCH", path);
    return res.body as Manifest;
  }

  private async post(obj: Manifest, query: string): Promise<Manifest> {
    const path = await this.path(refOf(obj));
    return await this.http.ok("POST", `${path.slice(0, path.lastIndexOf("/"))}${query}`, { json: obj, contentType: "application/json" }) as Manifest;
  }

  /** Force: delete, wait until the object is gone, create. */
  private async recreate(obj: Manifest, opts: WriteOptions): Promise<Manifest> {
    const ref = refOf(obj);
    await this.delete(ref);
    const deadline = Date.now() + 60_000;
    while (await this.get(ref)) {
      if (Date.now() > deadline) throw new Error(`${displayRef(ref)}: deleted to be recreated (Force=true), but still there after 60s`);
      await sleep(200);
    }
    return await this.write(obj, { ...(opts.method ? { method: opts.method } : {}), ...(opts.validate === undefined ? {} : { validate: opts.validate }) });
  }

  /**
   * Deletes an object (gone already is fine). With `uid`, only that object: one deleted and created
   * again meanwhile (another uid) is left alone and the server answers 409.
   */
  async delete(ref: ObjectRef, opts: { readonly propagation?: Propagation; readonly uid?: string } = {}): Promise<void> {
    this.writes.delete++;
    const path = await this.path(ref);
    const json = { propagationPolicy: opts.propagation ?? "Background", ...(opts.uid ? { preconditions: { uid: opts.uid } } : {}) };
    const res = await this.http.request("DELETE", path, { json, contentType: "application/json" });
    if (res.status >= 400 && res.status !== 404) throw new KubeApiError(res.status, res.body, "DELETE", path);
  }

  private async path(ref: ObjectRef): Promise<string> {
    const apiVersion = apiVersionOf(ref);
    const resource = await this.resource(apiVersion, ref.kind);
    if (!resource) throw new KubeApiError(404, { message: `the server does not serve ${ref.kind} in ${apiVersion} (${displayRef(ref)})` }, "GET", apiVersion);
    const base = apiBase(apiVersion);
    const ns = resource.namespaced ? `/namespaces/${pathSegment(ref.namespace ?? "default", "namespace")}` : "";
    return `${base}${ns}/${resource.name}/${pathSegment(ref.name, `${ref.kind} name`)}`;
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
