import { CustomObjectsApi, PatchStrategy, type KubeConfig, type KubernetesObjectApi } from "@kubernetes/client-node";
import { FINALIZER, type Application, type ApplicationSource, type SyncPolicy } from "../../agent/api/types.ts";
import { eventually } from "./kube.ts";

export interface AppOptions {
  readonly repoURL: string;
  readonly path: string;
  readonly destNamespace: string;
  readonly agentNamespace: string;
  readonly syncPolicy?: SyncPolicy;
  readonly finalizer?: boolean;
  readonly targetRevision?: string;
  readonly project?: string;
  readonly annotations?: Record<string, string>;
}

/** An Application with one source (`spec.source` set, as `application()` writes it). */
export type SingleSourceApplication = Application & { spec: Application["spec"] & { source: ApplicationSource } };

/** An Application manifest as a user would commit or apply it. */
export function application(name: string, o: AppOptions): SingleSourceApplication {
  return {
    apiVersion: "tether.dev/v1alpha1",
    kind: "Application",
    metadata: {
      name, namespace: o.agentNamespace,
      ...(o.finalizer ? { finalizers: [FINALIZER] } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: {
      project: o.project ?? "default",
      source: { repoURL: o.repoURL, path: o.path, targetRevision: o.targetRevision ?? "main" },
      destination: { server: "https://kubernetes.default.svc", namespace: o.destNamespace },
      ...(o.syncPolicy ? { syncPolicy: o.syncPolicy } : {}),
    },
  };
}

export async function applyApp(objects: KubernetesObjectApi, app: Application): Promise<void> {
  await objects.patch(app, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
}

export function appReader(kc: KubeConfig, namespace: string) {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const get = async (name: string) => await custom.getNamespacedCustomObject({
    group: "tether.dev", version: "v1alpha1", namespace, plural: "applications", name,
  }) as Application;
  return {
    get,
    /** Waits until the app's status satisfies `predicate`; the failure message shows the last status. */
    async until(name: string, what: string, predicate: (app: Application) => boolean, timeoutMs = 60_000): Promise<Application> {
      let last: Application | undefined;
      try {
        return await eventually(`${name}: ${what}`, async () => {
          last = await get(name);
          return predicate(last) ? last : undefined;
        }, timeoutMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nlast status: ${JSON.stringify(last?.status, null, 1)}`);
      }
    },
  };
}

export const synced = (revision?: string) => (a: Application) =>
  a.status?.sync?.status === "Synced" && (revision === undefined || a.status.sync.revision === revision);
export const syncedAndHealthy = (revision?: string) => (a: Application) => synced(revision)(a) && a.status?.health?.status === "Healthy";
export const hasCondition = (type: string) => (a: Application) => (a.status?.conditions ?? []).some((c) => c.type === type);
