// Keeps the agent's settings equal to ConfigMap `tether-cm`: listed once at start, then watched, so an
// edit applies within seconds without a restart (Argo CD reloads argocd-cm the same way).
import { CoreV1Api, makeInformer, type KubeConfig, type V1ConfigMap } from "@kubernetes/client-node";
import { errorMessage } from "../errors.ts";
import type { LogFn } from "../log.ts";
import { KubeApiError, type KubeHttp } from "../apply/http.ts";
import { EMPTY_SETTINGS, parseSettings, SETTINGS_CONFIGMAP, type TetherSettings } from "./settings.ts";

export type SettingsListener = (settings: TetherSettings) => void;

/** The settings in force, and who wants to hear when they change. */
export class SettingsStore {
  private value: TetherSettings = EMPTY_SETTINGS;
  private readonly listeners: SettingsListener[] = [];

  current(): TetherSettings {
    return this.value;
  }

  /** Calls `listener` now with the settings in force, and again on every change. */
  subscribe(listener: SettingsListener): void {
    this.listeners.push(listener);
    listener(this.value);
  }

  set(settings: TetherSettings): void {
    this.value = settings;
    for (const listener of this.listeners) listener(settings);
  }
}

export interface SettingsWatchOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly store: SettingsStore;
  readonly log: LogFn;
}

/** A running watch of `tether-cm`; `stop()` ends it. */
export interface SettingsWatch {
  stop(): Promise<void>;
}

/**
 * Lists and watches `tether-cm` in the agent's namespace and puts what it says into the store. An
 * absent ConfigMap is the empty settings; a key that cannot be read is logged with the fix and left
 * out. Resolves once the first list is in, so the first reconcile already sees the customizations.
 */
export async function watchSettings(opts: SettingsWatchOptions): Promise<SettingsWatch> {
  const core = opts.kc.makeApiClient(CoreV1Api);
  const path = `/api/v1/namespaces/${opts.namespace}/configmaps`;
  const informer = makeInformer<V1ConfigMap>(opts.kc, path, () => core.listNamespacedConfigMap({ namespace: opts.namespace }));
  let stopped = false;
  const apply = (cm: V1ConfigMap | undefined) => {
    if (cm !== undefined && cm.metadata?.name !== SETTINGS_CONFIGMAP) return;
    const { settings, problems } = parseSettings(cm?.data);
    for (const p of problems) opts.log(`${SETTINGS_CONFIGMAP}: key ${p.key} ignored: ${p.message}`);
    opts.store.set(settings);
    if (cm !== undefined) opts.log(`${SETTINGS_CONFIGMAP}: settings loaded (${settings.overrides.size} resource customizations)`);
  };
  informer.on("add", apply);
  informer.on("update", apply);
  informer.on("delete", (cm) => { if (cm.metadata?.name === SETTINGS_CONFIGMAP) apply(undefined); });
  informer.on("error", (err: unknown) => {
    if (stopped) return;
    opts.log(`${SETTINGS_CONFIGMAP} watch failed: ${errorMessage(err)}; restarting in 2s`);
    setTimeout(() => { if (!stopped) void informer.start().catch(() => undefined); }, 2000);
  });
  await informer.start().catch((err: unknown) => opts.log(`cannot watch ${SETTINGS_CONFIGMAP} (${errorMessage(err)}); using defaults`));
  return {
    stop: async () => {
      stopped = true;
      await informer.stop();
    },
  };
}

/**
 * `tether-cm` read once, for the CLI and `tether ui` (the agent keeps a watch): an absent ConfigMap is the
 * empty settings; keys that cannot be read are left out, as the agent leaves them out.
 */
export async function readSettings(http: KubeHttp, namespace: string): Promise<TetherSettings> {
  const res = await http.request("GET", `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${SETTINGS_CONFIGMAP}`);
  if (res.status === 404) return EMPTY_SETTINGS;
  if (res.status >= 400) throw new KubeApiError(res.status, res.body, "GET", `configmaps/${SETTINGS_CONFIGMAP}`);
  return parseSettings((res.body as { data?: Record<string, string> }).data).settings;
}
