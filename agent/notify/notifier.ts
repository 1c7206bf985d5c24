// The notifications controller: watches Applications, AppProjects and tether-notifications-cm on
// informers of its own (a reconcile never waits on it), decides with `planNotifications`, writes the
// notified state into the Application's `notified.notifications.argoproj.io` annotation before it sends
// (so a notification goes out at most once per oncePer value, restarts included), and hands the sends
// to its DeliveryQueue. Secret tether-notifications-secret is read again with the ConfigMap and every minute.
import { CoreV1Api, makeInformer, type Informer, type KubeConfig, type ObjectCache, type V1ConfigMap } from "@kubernetes/client-node";
import { TetherClient } from "../api/client.ts";
import { GROUP, VERSION, type Application, type AppProject } from "../api/types.ts";
import { errorMessage } from "../errors.ts";
import type { LogFn } from "../log.ts";
import { NOTIFICATIONS_CONFIGMAP, NOTIFICATIONS_SECRET, parseNotifyConfig, type NotifyConfig } from "./config.ts";
import { DeliveryQueue, type DeliveryOptions } from "./deliver.ts";
import { notificationVars, planNotifications, type Delivery } from "./plan.ts";
import { renderNotification } from "./render.ts";
import { senderFor, type Sender } from "./services/index.ts";
import { readState, writeState } from "./state.ts";
import { NOTIFIED_ANNOTATION } from "./subscriptions.ts";

export interface NotifierOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly log: LogFn;
  /** Tether's URL (tether-cm `url`): `.context.argocdUrl` in templates. */
  readonly url: () => string;
  /** With several replicas: whether this one sends for the app now (the leader, or the app's shard). */
  readonly owns?: (app: string) => boolean;
  readonly delivery?: Omit<DeliveryOptions, "log">;
  /** How often every app is evaluated again (time-based conditions, a changed Secret); default 60s. */
  readonly resyncMs?: number;
}

type Watched<T> = Informer<T & { metadata?: object }> & ObjectCache<T & { metadata?: object }>;

interface Loaded {
  readonly config: NotifyConfig;
  readonly senders: ReadonlyMap<string, Sender>;
}

export class Notifier {
  private readonly client: TetherClient;
  private readonly core: CoreV1Api;
  private readonly queue: DeliveryQueue;
  private apps: Watched<Application> | undefined;
  private projects: Watched<AppProject> | undefined;
  private configMaps: Watched<V1ConfigMap> | undefined;
  private loaded: Loaded = load(undefined, undefined, () => undefined);
  private secretVersion: string | undefined = "";
  private cmData: Readonly<Record<string, string>> | undefined;
  private cmKey = "";
  /** Read-your-writes: the state this notifier wrote, until the informer holds that version. */
  private readonly written = new Map<string, { resourceVersion: string; state: Record<string, number> }>();
  /** Keys whose sends failed for good: removed from the state on the app's next evaluation. */
  private readonly forget = new Map<string, Set<string>>();
  private readonly dirty = new Set<string>();
  private processing = false;
  private resync: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly said = new Set<string>();

  constructor(private readonly opts: NotifierOptions) {
    this.client = new TetherClient(opts.kc, opts.namespace);
    this.core = opts.kc.makeApiClient(CoreV1Api);
    this.queue = new DeliveryQueue({ ...opts.delivery, log: opts.log });
  }

  async start(): Promise<void> {
    const ns = this.opts.namespace;
    const base = `/apis/${GROUP}/${VERSION}/namespaces/${ns}`;
    this.configMaps = this.watch<V1ConfigMap>(`/api/v1/namespaces/${ns}/configmaps`,
      async () => this.core.listNamespacedConfigMap({ namespace: ns }), () => { void this.reload(); });
    this.projects = this.watch<AppProject>(`${base}/appprojects`,
      async () => ({ apiVersion: `${GROUP}/${VERSION}`, kind: "AppProjectList", metadata: {}, items: await this.client.listProjects() }),
      () => this.markAll());
    this.apps = this.watch<Application>(`${base}/applications`,
      async () => ({ apiVersion: `${GROUP}/${VERSION}`, kind: "ApplicationList", metadata: {}, items: await this.client.listApplications() }),
      (app) => this.mark(app?.metadata?.name));
    this.apps.on("delete", (app) => { this.written.delete(app.metadata?.name ?? ""); });
    // The configuration first: the first evaluation of the apps already sees it.
    await this.configMaps.start().catch((err: unknown) => this.opts.log(`cannot watch ${NOTIFICATIONS_CONFIGMAP}: ${errorMessage(err)}`));
    await this.reload();
    await this.projects.start().catch((err: unknown) => this.opts.log(`notifications: cannot watch AppProjects: ${errorMessage(err)}`));
    await this.apps.start().catch((err: unknown) => this.opts.log(`notifications: cannot watch Applications: ${errorMessage(err)}`));
    this.resync = setInterval(() => { void this.reloadSecret().then(() => this.markAll()); }, this.opts.resyncMs ?? 60_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resync) clearInterval(this.resync);
    this.queue.stop();
    await Promise.all([this.apps?.stop(), this.projects?.stop(), this.configMaps?.stop()]);
  }

  /** The configuration in force (the CLI and tests read it). */
  get config(): NotifyConfig {
    return this.loaded.config;
  }

  private watch<T>(path: string, list: () => Promise<{ items: T[] }>, changed: (obj: T | undefined) => void): Watched<T> {
    const informer = makeInformer<T & { metadata?: object }>(this.opts.kc, path,
      list as unknown as Parameters<typeof makeInformer<T & { metadata?: object }>>[2]);
    informer.on("add", (o) => changed(o));
    informer.on("update", (o) => changed(o));
    informer.on("delete", () => changed(undefined));
    informer.on("error", (err: unknown) => {
      if (this.stopped) return;
      this.opts.log(`notifications: watch of ${path} failed: ${errorMessage(err)}; restarting in 2s`);
      setTimeout(() => { if (!this.stopped) void informer.start().catch(() => undefined); }, 2000);
    });
    return informer;
  }

  /** The ConfigMap changed (or another in the namespace did: only a change of ours reloads). */
  private async reload(): Promise<void> {
    const cm = this.configMaps?.get(NOTIFICATIONS_CONFIGMAP, this.opts.namespace);
    const key = JSON.stringify(cm?.data ?? null);
    if (key === this.cmKey) return;
    this.cmKey = key;
    this.cmData = cm?.data;
    this.secretVersion = undefined;
    await this.reloadSecret();
  }

  private async reloadSecret(): Promise<void> {
    const secret = await this.core.readNamespacedSecret({ name: NOTIFICATIONS_SECRET, namespace: this.opts.namespace }).catch(() => undefined);
    const version = secret?.metadata?.resourceVersion ?? "none";
    if (version === this.secretVersion) return;
    this.secretVersion = version;
    const data = Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
    this.loaded = load(this.cmData, data, (m) => this.opts.log(m));
    const { services, triggers, templates } = this.loaded.config;
    if (this.cmData !== undefined) {
      this.opts.log(`${NOTIFICATIONS_CONFIGMAP}: loaded ${services.size} services, ${triggers.size} triggers, ${templates.size} templates`);
    }
    this.markAll();
  }

  private markAll(): void {
    for (const app of this.apps?.list() ?? []) this.mark(app.metadata?.name);
  }

  private mark(name: string | undefined): void {
    if (name === undefined || this.stopped) return;
    this.dirty.add(name);
    if (!this.processing) void this.drain();
  }

  /** One app at a time, on this loop of its own. */
  private async drain(): Promise<void> {
    this.processing = true;
    try {
      while (!this.stopped && this.dirty.size > 0) {
        const name = this.dirty.values().next().value as string;
        this.dirty.delete(name);
        await this.process(name).catch((err: unknown) => this.say(`notifications: ${name}: ${errorMessage(err)}`, name));
      }
    } finally {
      this.processing = false;
    }
  }

  /** The state of an app: what this notifier last wrote if the informer does not hold it yet. */
  private stateOf(app: Application): Record<string, number> {
    const name = app.metadata?.name ?? "";
    const mine = this.written.get(name);
    const seen = app.metadata?.resourceVersion ?? "";
    if (mine && !(/^\d+$/.test(seen) && /^\d+$/.test(mine.resourceVersion) && BigInt(seen) >= BigInt(mine.resourceVersion))) return { ...mine.state };
    this.written.delete(name);
    return readState(app.metadata?.annotations?.[NOTIFIED_ANNOTATION]);
  }

  private async process(name: string): Promise<void> {
    const app = this.apps?.get(name, this.opts.namespace);
    if (app === undefined || (this.opts.owns && !this.opts.owns(name))) return;
    const project = this.projects?.get(app.spec?.project ?? "default", this.opts.namespace);
    const state = this.stateOf(app);
    const forgotten = this.forget.get(name);
    this.forget.delete(name);
    for (const key of forgotten ?? []) delete state[key];
    const input = { app, project, config: this.loaded.config, state, url: this.opts.url(), now: Math.floor(Date.now() / 1000) };
    const plan = planNotifications(input);
    for (const p of plan.problems) this.say(`notifications: ${name}: ${p}`, name);
    if (!plan.changed && (forgotten?.size ?? 0) === 0) return;
    const next = { ...plan.state };
    const jobs = plan.deliveries.flatMap((d) => {
      const job = this.prepare(name, d, input);
      if (job === undefined) delete next[d.stateKey];
      return job === undefined ? [] : [job];
    });
    // Written before anything is sent: a crash after this never sends the same notification twice.
    const text = writeState(next);
    if (text !== app.metadata?.annotations?.[NOTIFIED_ANNOTATION]) {
      const written = await this.client.mergeApplication(name, { metadata: { annotations: { [NOTIFIED_ANNOTATION]: text ?? null } } });
      this.written.set(name, { resourceVersion: written.metadata?.resourceVersion ?? "", state: next });
    }
    for (const job of jobs) this.queue.add(job);
  }

  /** Renders a delivery for its service; undefined (and said why) when it cannot be sent. */
  private prepare(name: string, d: Delivery, input: Parameters<typeof notificationVars>[0]) {
    const send = this.loaded.senders.get(d.destination.service);
    if (send === undefined) {
      this.say(`notifications: ${name}: trigger ${d.trigger} subscribes service "${d.destination.service}", which no service.<type>.${d.destination.service} `
        + `key in ${NOTIFICATIONS_CONFIGMAP} defines (or its options are wrong: see the log line about it)`, name);
      return undefined;
    }
    try {
      const notification = renderNotification(this.loaded.config, d.templates, notificationVars(input, d.destination.service));
      return {
        app: name, trigger: d.trigger, destination: d.destination, notification, send,
        done: (sent: boolean) => { if (!sent) this.giveUp(name, d.stateKey); },
      };
    } catch (err) {
      this.say(`notifications: ${name}: trigger ${d.trigger}: ${errorMessage(err)}`, name);
      return undefined;
    }
  }

  /** A send that failed for good: its key goes, so the condition still holding later sends again. */
  private giveUp(name: string, key: string): void {
    const keys = this.forget.get(name) ?? new Set<string>();
    keys.add(key);
    this.forget.set(name, keys);
    this.mark(name);
  }

  /** Logs a problem once, not on every evaluation. */
  private say(line: string, app: string): void {
    if (this.said.has(line)) return;
    if (this.said.size > 1000) this.said.clear();
    this.said.add(line);
    this.opts.log(line, { app });
  }
}

/** Parses the configuration and builds a sender per service; problems are logged by key, never with values. */
export function load(data: Readonly<Record<string, string>> | undefined, secret: Readonly<Record<string, string>> | undefined,
  log: (line: string) => void): Loaded {
  const { config, problems } = parseNotifyConfig(data, secret);
  for (const p of problems) log(`${NOTIFICATIONS_CONFIGMAP}: key ${p.key}: ${p.message}`);
  const senders = new Map<string, Sender>();
  for (const [name, service] of config.services) {
    try {
      senders.set(name, senderFor(service));
    } catch (err) {
      log(`${NOTIFICATIONS_CONFIGMAP}: ${errorMessage(err)}`);
    }
  }
  return { config, senders };
}
