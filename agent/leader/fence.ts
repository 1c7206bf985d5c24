// The fencing check: every write for an app (apply, hook create, prune, status) asks, right before it
// is sent, whether this replica still owns the app; a replica whose Lease renewal lapsed stops writing
// before a peer can take the Lease over (decide.ts#mayWrite). Reads and dry-runs go through.
import type { Manifest, ObjectRef } from "../api/types.ts";
import type { Cluster, PatchOptions, WriteOptions } from "../apply/cluster.ts";
import type { Destination, DestinationResolver } from "../apply/destinations.ts";
import type { Propagation } from "../apply/options.ts";

/** A write refused because this replica no longer owns the app; the owner's next reconcile does it. */
export class NotOwnerError extends Error {
  constructor(readonly app: string) {
    super(`${app}: this agent no longer holds the app's Lease (shard or leader); the write is left to the replica that does`);
    this.name = "NotOwnerError";
  }
}

/** Throws {@link NotOwnerError} unless `owns(app)` holds now. */
export function checkOwner(app: string, owns: (app: string) => boolean): void {
  if (!owns(app)) throw new NotOwnerError(app);
}

/** `cluster` whose writes for `app` are sent only while `owns(app)` holds. */
export function fencedCluster(cluster: Cluster, app: string, owns: (app: string) => boolean): Cluster {
  return {
    isNamespaced: (apiVersion, kind) => cluster.isNamespaced(apiVersion, kind),
    plural: (apiVersion, kind) => cluster.plural(apiVersion, kind),
    get: (ref) => cluster.get(ref),
    ...(cluster.capabilities ? { capabilities: () => cluster.capabilities!() } : {}),
    apply: async (obj: Manifest, opts?: WriteOptions) => {
      if (!opts?.dryRun) checkOwner(app, owns);
      return await cluster.apply(obj, opts);
    },
    delete: async (ref: ObjectRef, opts?: { readonly propagation?: Propagation }) => {
      checkOwner(app, owns);
      await cluster.delete(ref, opts);
    },
    create: async (obj: Manifest) => {
      checkOwner(app, owns);
      return await cluster.create(obj);
    },
    ...(cluster.patch ? {
      patch: async (ref: ObjectRef, patch: unknown, opts: PatchOptions) => {
        checkOwner(app, owns);
        return await cluster.patch!(ref, patch, opts);
      },
    } : {}),
    get writes() {
      return cluster.writes;
    },
  };
}

/** The destinations of one app's reconcile, every cluster client fenced by `owns(app)`. */
export function fencedDestinations(destinations: DestinationResolver, app: string, owns: (app: string) => boolean): DestinationResolver {
  const fence = (d: Destination): Destination => ({ ...d, cluster: fencedCluster(d.cluster, app, owns) });
  return {
    resolve: async (dest) => fence(await destinations.resolve(dest)),
    // The impersonating client is looked up by the unfenced base (one client per cluster and user).
    impersonating: (base, user) => fence(destinations.impersonating(base, user)),
  };
}
