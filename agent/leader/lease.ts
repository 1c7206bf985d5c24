// The Lease object on the API server: read, create and replace with optimistic concurrency (a stale
// resourceVersion is refused with 409, so two candidates never both win one round).
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError, KubeHttp } from "../apply/http.ts";
import { microTime, type LeaseRecord } from "./decide.ts";

interface LeaseObject {
  readonly metadata: { readonly name?: string; readonly resourceVersion?: string };
  readonly spec?: {
    readonly holderIdentity?: string;
    readonly leaseDurationSeconds?: number;
    readonly leaseTransitions?: number;
    readonly acquireTime?: string;
  };
}

/** What one write asks for: the holder (empty to release), its lease duration and the transition count. */
export interface LeaseWrite {
  readonly holder: string;
  readonly leaseDurationSeconds: number;
  readonly transitions: number;
  /** Set when the holder changes (a take-over or a create); otherwise `acquireTime` is kept. */
  readonly acquired: boolean;
  readonly acquireTime?: string;
}

export interface LeaseStore {
  readonly description: string;
  get(): Promise<LeaseRecord | undefined>;
  /** False when another candidate created it first. */
  create(write: LeaseWrite): Promise<boolean>;
  /** False when the Lease changed since `resourceVersion` was read. */
  replace(resourceVersion: string, write: LeaseWrite): Promise<boolean>;
}

export class KubeLeaseStore implements LeaseStore {
  private readonly http: KubeHttp;
  private readonly collection: string;
  readonly description: string;

  /** `labels`: added to the Lease, so a set of them (the shards and members of `--shards`) can be listed. */
  constructor(kc: KubeConfig, private readonly namespace: string, readonly name: string,
    private readonly labels: Readonly<Record<string, string>> = {}) {
    this.http = new KubeHttp(kc);
    this.collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
    this.description = `Lease ${namespace}/${name}`;
  }

  async get(): Promise<LeaseRecord | undefined> {
    const path = `${this.collection}/${encodeURIComponent(this.name)}`;
    const res = await this.http.request("GET", path);
    if (res.status === 404) return undefined;
    if (res.status >= 400) throw new KubeApiError(res.status, res.body, "GET", path);
    return recordOf(res.body as LeaseObject);
  }

  async create(write: LeaseWrite): Promise<boolean> {
    return await this.send("POST", this.collection, this.object(write));
  }

  async replace(resourceVersion: string, write: LeaseWrite): Promise<boolean> {
    return await this.send("PUT", `${this.collection}/${encodeURIComponent(this.name)}`, this.object(write, resourceVersion));
  }

  private object(write: LeaseWrite, resourceVersion?: string) {
    const now = microTime(new Date());
    return {
      apiVersion: "coordination.k8s.io/v1", kind: "Lease",
      metadata: { name: this.name, namespace: this.namespace, ...(resourceVersion ? { resourceVersion } : {}),
        labels: { "app.kubernetes.io/name": "tether", "app.kubernetes.io/component": "agent", ...this.labels } },
      spec: {
        holderIdentity: write.holder, leaseDurationSeconds: write.leaseDurationSeconds, leaseTransitions: write.transitions,
        renewTime: now, ...(write.acquired ? { acquireTime: now } : write.acquireTime ? { acquireTime: write.acquireTime } : {}),
      },
    };
  }

  private async send(method: string, path: string, json: unknown): Promise<boolean> {
    const res = await this.http.request(method, path, { json, contentType: "application/json" });
    if (res.status === 409) return false;
    if (res.status >= 400) throw new KubeApiError(res.status, res.body, method, path);
    return true;
  }
}

function recordOf(lease: LeaseObject): LeaseRecord {
  return {
    holder: lease.spec?.holderIdentity ?? "",
    leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
    transitions: lease.spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata.resourceVersion ?? "",
    ...(lease.spec?.acquireTime ? { acquireTime: lease.spec.acquireTime } : {}),
  };
}

/** The Leases of `namespace` that carry the labels of `selector`, by name. */
export async function listLeases(http: KubeHttp, namespace: string, selector: string): Promise<Map<string, LeaseRecord>> {
  const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases?labelSelector=${encodeURIComponent(selector)}`;
  const body = await http.ok("GET", path) as { items?: LeaseObject[] };
  return new Map((body.items ?? []).map((l) => [l.metadata.name ?? "", recordOf(l)]));
}
