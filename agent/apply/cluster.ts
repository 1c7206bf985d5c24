// The edge between the pipeline and the API server: discovery, read, server-side apply, delete.
// Everything else in the agent works on plain objects.
import { ApiException, KubernetesObjectApi, PatchStrategy, type KubeConfig, type V1APIResource } from "@kubernetes/client-node";
import { FIELD_MANAGER, type Manifest, type ObjectRef } from "../api/types.ts";
import { apiVersionOf } from "./inventory.ts";

/** What the agent needs from a cluster, so stages can be driven by the real API server in tests. */
export interface Cluster {
  /** Whether the kind is namespaced; undefined when the server does not serve it. */
  isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined>;
  /** The resource name (plural) a kind is served under, for watch paths. */
  plural(apiVersion: string, kind: string): Promise<string | undefined>;
  get(ref: ObjectRef): Promise<Manifest | undefined>;
  /** Server-side apply with field manager `tether`, taking over conflicting fields (as Flux does). */
  apply(obj: Manifest, opts?: { readonly dryRun?: boolean }): Promise<Manifest>;
  /** Deletes in the background; a missing object is not an error. */
  delete(ref: ObjectRef): Promise<void>;
  /** Counts of the write requests sent, by verb: what the no-op test and the metrics read. */
  readonly writes: Readonly<Record<"apply" | "dryRun" | "delete", number>>;
}

class ObjectApi extends KubernetesObjectApi {
  lookup(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    return this.resource(apiVersion, kind);
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

export class KubeCluster implements Cluster {
  readonly writes = { apply: 0, dryRun: 0, delete: 0 };
  private readonly api: ObjectApi;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(ObjectApi);
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
    try {
      return (await this.api.lookup(apiVersion, kind))?.namespaced;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async plural(apiVersion: string, kind: string): Promise<string | undefined> {
    try {
      return (await this.api.lookup(apiVersion, kind))?.name;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async get(ref: ObjectRef): Promise<Manifest | undefined> {
    try {
      return await this.api.read<Manifest>({
        apiVersion: apiVersionOf(ref), kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace ?? "" },
      }) as Manifest;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async apply(obj: Manifest, opts: { readonly dryRun?: boolean } = {}): Promise<Manifest> {
    if (opts.dryRun) this.writes.dryRun++;
    else this.writes.apply++;
    return await this.api.patch(obj, undefined, opts.dryRun ? "All" : undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }

  async delete(ref: ObjectRef): Promise<void> {
    this.writes.delete++;
    try {
      await this.api.delete({ apiVersion: apiVersionOf(ref), kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace ?? "" } },
        undefined, undefined, undefined, undefined, "Background");
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
