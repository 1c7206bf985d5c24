// The promotion controller's reads and writes: the promotion kinds in every project namespace, the
// Applications they sync, Events. Nothing here decides anything.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { isNotFound } from "../apply/cluster.ts";
import { GROUP, VERSION, type Application, type Operation } from "../api/types.ts";
import type { Freight, FreightStatus, Promotion, PromotionProject, PromotionStatus, Stage, StageStatus, Warehouse, WarehouseStatus } from "../api/promotion.ts";

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

type Plural = "warehouses" | "freights" | "stages" | "promotions";

/** Everything one pass of the controller reads, at once. */
export interface Snapshot {
  readonly projects: readonly PromotionProject[];
  readonly warehouses: readonly Warehouse[];
  readonly freight: readonly Freight[];
  readonly stages: readonly Stage[];
  readonly promotions: readonly Promotion[];
  /** Applications by `namespace/name`. */
  readonly apps: ReadonlyMap<string, Application>;
}

export class PromotionClient {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  /**
   * `listApplications`: the agent's Applications as its controller's informer holds them. Absent, a LIST;
   * a LIST of every app each pass (every 5 s) cost the agent and the API server more than a no-op poll
   * round of 10,000 apps.
   */
  constructor(kc: KubeConfig, readonly agentNamespace: string, private readonly listApplications?: () => Promise<readonly Application[]>) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Everything one pass reads; the Applications only when a Stage could need them. */
  async snapshot(): Promise<Snapshot> {
    const [projects, warehouses, freight, stages, promotions] = await Promise.all([
      this.listAll<PromotionProject>("projects"), this.listAll<Warehouse>("warehouses"), this.listAll<Freight>("freights"),
      this.listAll<Stage>("stages"), this.listAll<Promotion>("promotions"),
    ]);
    const apps = stages.length === 0 ? new Map<string, Application>() : await this.applications();
    return { projects, warehouses, freight, stages, promotions, apps };
  }

  /** The agent namespace's Applications by `namespace/name`. */
  async applications(): Promise<Map<string, Application>> {
    const items = this.listApplications ? await this.listApplications()
      : (await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.agentNamespace, plural: "applications" }) as { items: Application[] }).items;
    return new Map(items.map((a) => [`${a.metadata?.namespace ?? ""}/${a.metadata?.name ?? ""}`, a]));
  }

  /** One project's objects (its namespace), for `tether promote` and the UI; the Project is undefined when none exists. */
  async project(name: string): Promise<{ project?: PromotionProject; stages: Stage[]; freight: Freight[]; promotions: Promotion[]; warehouses: Warehouse[] }> {
    const list = async <T>(plural: Plural) =>
      (await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: name, plural }) as { items: T[] }).items;
    const [project, stages, freight, promotions, warehouses] = await Promise.all([
      this.custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: "projects", name }).then((p) => p as PromotionProject, (err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      }),
      list<Stage>("stages"), list<Freight>("freights"), list<Promotion>("promotions"), list<Warehouse>("warehouses"),
    ]);
    return { ...(project ? { project } : {}), stages, freight, promotions, warehouses };
  }

  async getPromotion(namespace: string, name: string): Promise<Promotion> {
    return await this.custom.getNamespacedCustomObject(this.ref("promotions", namespace, name)) as Promotion;
  }

  private async listAll<T>(plural: Plural | "projects"): Promise<T[]> {
    return (await this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural }) as { items: T[] }).items;
  }

  private ref(plural: Plural, namespace: string, name = "") {
    return { group: GROUP, version: VERSION, namespace, plural, name };
  }

  /** Creates Freight; true when it was new (Freight is named by its content, so an existing one is the same). */
  async createFreight(freight: Freight): Promise<boolean> {
    try {
      await this.custom.createNamespacedCustomObject({ ...this.ref("freights", freight.metadata?.namespace ?? ""), body: freight });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 409) return false;
      throw err;
    }
  }

  async createPromotion(promotion: Promotion): Promise<void> {
    await this.custom.createNamespacedCustomObject({ ...this.ref("promotions", promotion.metadata?.namespace ?? ""), body: promotion });
  }

  async writeWarehouseStatus(w: Warehouse, status: WarehouseStatus): Promise<void> {
    await this.patchStatus("warehouses", w, status);
  }

  async writeStageStatus(s: Stage, status: StageStatus): Promise<void> {
    await this.patchStatus("stages", s, status);
  }

  async writePromotionStatus(p: Promotion, status: PromotionStatus): Promise<void> {
    await this.patchStatus("promotions", p, status);
  }

  /** Merges into Freight's status (verifiedIn of one more stage); its artifacts are immutable. */
  async patchFreightStatus(f: Freight, status: FreightStatus): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus({
      ...this.ref("freights", f.metadata?.namespace ?? "", f.metadata?.name ?? ""), body: { status },
    }, mergePatch);
  }

  private async patchStatus(plural: Plural, o: { metadata?: { namespace?: string; name?: string } }, status: object): Promise<void> {
    // Replace the whole status (a merge patch would keep list entries and keys that went away).
    await this.custom.patchNamespacedCustomObjectStatus({
      ...this.ref(plural, o.metadata?.namespace ?? "", o.metadata?.name ?? ""), body: [{ op: "add", path: "/status", value: status }],
    }, setHeaderOptions("Content-Type", PatchStrategy.JsonPatch));
  }

  /**
   * Requests a sync of an Application through the agent's operation API (`operation.sync`, as `tether app
   * sync` writes it): the agent's one sync path runs it.
   */
  async requestSync(namespace: string, name: string, operation: Operation): Promise<void> {
    await this.custom.patchNamespacedCustomObject({
      group: GROUP, version: VERSION, namespace, plural: "applications", name, body: { operation },
    }, mergePatch);
  }

  /** A Project's namespace, made when missing (Kargo's Project does the same). */
  async ensureNamespace(name: string): Promise<void> {
    try {
      await this.core.readNamespace({ name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.core.createNamespace({ body: { metadata: { name, labels: { "tether.dev/project": name } } } });
    }
  }

  async writeProjectStatus(p: PromotionProject, status: NonNullable<PromotionProject["status"]>): Promise<void> {
    await this.custom.patchClusterCustomObjectStatus({
      group: GROUP, version: VERSION, plural: "projects", name: p.metadata?.name ?? "", body: { status },
    }, mergePatch);
  }

  /** An Event on a promotion object, for `kubectl describe` and the audit trail. */
  async recordEvent(o: { kind?: string; metadata?: { namespace?: string; name?: string; uid?: string } },
    event: { type: "Normal" | "Warning"; reason: string; message: string }): Promise<void> {
    const now = new Date();
    const namespace = o.metadata?.namespace ?? "default";
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${o.metadata?.name ?? "promotion"}.`, namespace },
        involvedObject: {
          apiVersion: `${GROUP}/${VERSION}`, kind: o.kind ?? "", name: o.metadata?.name ?? "", namespace,
          ...(o.metadata?.uid ? { uid: o.metadata.uid } : {}),
        },
        type: event.type, reason: event.reason, message: event.message.slice(0, 1024),
        firstTimestamp: now, lastTimestamp: now, count: 1, source: { component: "tether-agent" },
        reportingComponent: "tether-agent", reportingInstance: "tether-agent",
      },
    });
  }
}
