// Reading and writing ApplicationSets and the Applications they generate, in the agent namespace.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { isNotFound } from "../apply/cluster.ts";
import { GROUP, VERSION, type Application, type ApplicationSet, type ApplicationSetStatus } from "../api/types.ts";

const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

export class AppSetClient {
  private readonly custom: CustomObjectsApi;

  constructor(kc: KubeConfig, readonly namespace: string) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  private ref(plural: "applicationsets" | "applications", name = "") {
    return { group: GROUP, version: VERSION, namespace: this.namespace, plural, name };
  }

  async list(): Promise<ApplicationSet[]> {
    const list = await this.custom.listNamespacedCustomObject(this.ref("applicationsets")) as { items: ApplicationSet[] };
    return list.items.sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  }

  async get(name: string): Promise<ApplicationSet | undefined> {
    try {
      return await this.custom.getNamespacedCustomObject(this.ref("applicationsets", name)) as ApplicationSet;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async delete(name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({ ...this.ref("applicationsets", name), propagationPolicy: "Background" });
  }

  async writeStatus(name: string, status: ApplicationSetStatus): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus({ ...this.ref("applicationsets", name), body: [{ op: "add", path: "/status", value: status }] }, jsonPatch);
  }

  /** A JSON patch of the set's metadata (finalizers, the refresh annotation), guarded by a `test` of its resourceVersion. */
  async patch(name: string, body: readonly { op: string; path: string; value?: unknown }[]): Promise<void> {
    await this.custom.patchNamespacedCustomObject({ ...this.ref("applicationsets", name), body }, jsonPatch);
  }

  async listApplications(): Promise<Application[]> {
    return (await this.custom.listNamespacedCustomObject(this.ref("applications")) as { items: Application[] }).items;
  }

  async createApplication(app: Application): Promise<void> {
    await this.custom.createNamespacedCustomObject({ ...this.ref("applications"), body: app });
  }

  /** Replaces the Application (its status is a subresource and stays); `resourceVersion` guards a concurrent write. */
  async replaceApplication(app: Application): Promise<void> {
    await this.custom.replaceNamespacedCustomObject({ ...this.ref("applications", app.metadata?.name ?? ""), body: app });
  }

  async deleteApplication(name: string): Promise<void> {
    try {
      await this.custom.deleteNamespacedCustomObject({ ...this.ref("applications", name), propagationPolicy: "Background" });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async patchApplication(name: string, body: readonly { op: string; path: string; value?: unknown }[]): Promise<void> {
    await this.custom.patchNamespacedCustomObject({ ...this.ref("applications", name), body }, jsonPatch);
  }
}
