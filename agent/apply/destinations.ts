// Which cluster an Application deploys to. `https://kubernetes.default.svc` (or the name `in-cluster`,
// or no destination cluster at all) is the agent's own; any other comes from a cluster Secret in the
// agent namespace, in Argo CD's declarative format so its Secrets work unchanged:
//   labels: tether.dev/secret-type: cluster  (or argocd.argoproj.io/secret-type: cluster)
//   data:   name, server, config = {"bearerToken": "...", "tlsClientConfig": {"caData", "certData", "keyData", "insecure", "serverName"}}
import { createHash } from "node:crypto";
import { KubeConfig, type V1Secret } from "@kubernetes/client-node";
import type { ApplicationDestination } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { KubeCluster, type Cluster } from "./cluster.ts";
import { keepAlive } from "./keepalive.ts";

export const IN_CLUSTER_SERVER = "https://kubernetes.default.svc";
export const IN_CLUSTER_NAME = "in-cluster";
export const CLUSTER_SECRET_LABELS = ["tether.dev/secret-type=cluster", "argocd.argoproj.io/secret-type=cluster"] as const;

/** A cluster an Application can deploy to, with the client that reaches it. */
export interface Destination {
  readonly name: string;
  readonly server: string;
  readonly kc: KubeConfig;
  readonly cluster: Cluster;
  /** Whether it is the agent's own cluster (child Applications and health of Applications live there). */
  readonly local: boolean;
  /** The user apply and prune run as, when the project impersonates. */
  readonly impersonating?: string;
}

export interface ClusterSecret {
  readonly name: string;
  readonly server: string;
  readonly secretName: string;
  readonly config: {
    readonly bearerToken?: string;
    readonly username?: string;
    readonly password?: string;
    readonly tlsClientConfig?: { readonly caData?: string; readonly certData?: string; readonly keyData?: string; readonly insecure?: boolean; readonly serverName?: string };
  };
}

/** Reads one cluster Secret; throws a message naming the Secret and the field to fix. */
export function parseClusterSecret(secret: V1Secret): ClusterSecret {
  const secretName = secret.metadata?.name ?? "?";
  const field = (key: string) => secret.data?.[key] !== undefined ? Buffer.from(secret.data[key], "base64").toString("utf8") : secret.stringData?.[key];
  const server = field("server");
  if (!server) throw new Error(`cluster Secret ${secretName} has no "server": set it to the cluster's API server URL`);
  let config: ClusterSecret["config"] = {};
  const raw = field("config");
  if (raw) {
    try {
      config = JSON.parse(raw) as ClusterSecret["config"];
    } catch {
      throw new Error(`cluster Secret ${secretName}: "config" is not JSON; write {"bearerToken": ..., "tlsClientConfig": {...}} as Argo CD does`);
    }
  }
  return { name: field("name") || server, server: server.replace(/\/+$/, ""), secretName, config };
}

/** A kubeconfig for a cluster Secret. */
export function kubeConfigOf(c: ClusterSecret): KubeConfig {
  const tls = c.config.tlsClientConfig ?? {};
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: c.name, server: c.server, skipTLSVerify: tls.insecure === true, ...(tls.caData ? { caData: tls.caData } : {}), ...(tls.serverName ? { tlsServerName: tls.serverName } : {}) }],
    users: [{
      name: c.name,
      ...(c.config.bearerToken ? { token: c.config.bearerToken } : {}),
      ...(c.config.username ? { username: c.config.username, password: c.config.password ?? "" } : {}),
      ...(tls.certData ? { certData: tls.certData } : {}), ...(tls.keyData ? { keyData: tls.keyData } : {}),
    }],
    contexts: [{ name: c.name, cluster: c.name, user: c.name }],
    currentContext: c.name,
  });
  return keepAlive(kc);
}

/** What one client stands for: the cluster's server URL and the Secret that describes it (not its credentials). */
export function clusterIdentity(c: Pick<ClusterSecret, "server" | "secretName">): string {
  return `${c.server}|${c.secretName}`;
}

/** Which of the known clusters a destination names; pure. */
export function selectCluster(dest: ApplicationDestination, known: readonly ClusterSecret[]): ClusterSecret | "local" | undefined {
  const server = dest.server?.replace(/\/+$/, "");
  if (dest.name !== undefined && dest.name !== "") {
    if (dest.name === IN_CLUSTER_NAME) return "local";
    return known.find((c) => c.name === dest.name);
  }
  if (server === undefined || server === "" || server === IN_CLUSTER_SERVER) return "local";
  return known.find((c) => c.server === server);
}

export interface DestinationsOptions {
  readonly local: { readonly kc: KubeConfig; readonly cluster: Cluster };
  /** The cluster Secrets of the agent namespace (both labels). */
  readonly listSecrets: () => Promise<readonly V1Secret[]>;
  /** How long a listing of cluster Secrets is reused. */
  readonly ttlMs?: number;
  /**
   * A cluster's Secret changed (a rotated token, a new CA): its client was rebuilt, and whatever was
   * built on the old one (the live cache's watches) must be rebuilt too.
   */
  readonly onReplaced?: (old: Destination) => void;
}

/** What a reconcile asks of the destinations (a replica's fenced view implements it too: leader/fence.ts). */
export interface DestinationResolver {
  resolve(dest: ApplicationDestination): Promise<Destination>;
  impersonating(base: Destination, user: string): Destination;
}

/** Resolves destinations to clients, keeping one client per cluster (its discovery and connections). */
export class Destinations implements DestinationResolver {
  /** One client per cluster identity (server URL and Secret name), with the digest of the Secret it was built from. */
  private readonly clients = new Map<string, { readonly digest: string; readonly destination: Destination }>();
  /** Clients impersonating a project's user, per cluster identity and user. */
  private readonly impersonated = new Map<string, Destination>();
  private listed: { at: number; secrets: ClusterSecret[]; errors: string[] } | undefined;

  constructor(private readonly opts: DestinationsOptions) {}

  get local(): Destination {
    return { name: IN_CLUSTER_NAME, server: IN_CLUSTER_SERVER, kc: this.opts.local.kc, cluster: this.opts.local.cluster, local: true };
  }

  /** The destination's cluster; an unknown one throws InvalidSpecError naming it (nothing is applied anywhere). */
  async resolve(dest: ApplicationDestination): Promise<Destination> {
    const quick = selectCluster(dest, []);
    if (quick === "local") return this.local;
    const { secrets, errors } = await this.list();
    const found = selectCluster(dest, secrets);
    if (found === "local") return this.local;
    if (!found) {
      const named = dest.name ? `name "${dest.name}"` : `server ${dest.server}`;
      throw new TetherError("InvalidSpecError",
        `destination cluster ${named} is not configured: add it with \`tether cluster add\` (a Secret labelled tether.dev/secret-type: cluster)` +
        `${errors.length > 0 ? `; unreadable cluster Secrets: ${errors.join("; ")}` : ""}`,
        { object: dest.name ?? dest.server ?? "destination", retryable: true });
    }
    // Keyed by identity, not by credentials: a rotated token replaces the client instead of adding one.
    const key = clusterIdentity(found);
    const digest = createHash("sha256").update(JSON.stringify(found)).digest("hex");
    const held = this.clients.get(key);
    if (held?.digest === digest) return held.destination;
    const kc = kubeConfigOf(found);
    const destination: Destination = { name: found.name, server: found.server, kc, cluster: new KubeCluster(kc), local: false };
    this.clients.set(key, { digest, destination });
    if (held) {
      for (const k of [...this.impersonated.keys()]) if (k.startsWith(`${held.destination.server}|`)) this.impersonated.delete(k);
      this.opts.onReplaced?.(held.destination);
    }
    return destination;
  }

  /**
   * The same cluster reached as another user (a project's destinationServiceAccounts): apply and
   * prune then run with that user's RBAC. One client per (cluster, user).
   */
  impersonating(base: Destination, user: string): Destination {
    const key = `${base.server}|as:${user}`;
    let client = this.impersonated.get(key);
    // Built on the base's credentials: a base rebuilt after a rotation gets a new one.
    if (!client || client.kc !== base.kc) {
      client = { ...base, cluster: new KubeCluster(base.kc, { impersonate: { user } }), impersonating: user };
      this.impersonated.set(key, client);
    }
    return client;
  }

  /** Every destination in use, for drift watches and metrics. */
  known(): Destination[] {
    return [this.local, ...[...this.clients.values()].map((c) => c.destination), ...this.impersonated.values()];
  }

  private async list(): Promise<{ secrets: ClusterSecret[]; errors: string[] }> {
    if (this.listed && Date.now() - this.listed.at < (this.opts.ttlMs ?? 5_000)) return this.listed;
    const secrets: ClusterSecret[] = [];
    const errors: string[] = [];
    for (const s of await this.opts.listSecrets()) {
      try {
        secrets.push(parseClusterSecret(s));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    this.listed = { at: Date.now(), secrets, errors };
    return this.listed;
  }
}
