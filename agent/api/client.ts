// Reading and writing tether.dev resources, shared by the agent and the CLI.
import {
  CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig,
} from "@kubernetes/client-node";
import { isNotFound } from "../apply/cluster.ts";
import { GROUP, VERSION, type AppProject, type Application, type ApplicationStatus } from "./types.ts";

type JsonPatch = { op: "add" | "remove" | "replace" | "test"; path: string; value?: unknown }[];

const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** A JSON pointer segment for a key such as `tether.dev/refresh`. */
export const pointer = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");

export class TetherClient {
  /** Write requests sent for Applications (status, patches) and Events: part of the no-op guarantee. */
  readonly writes = { status: 0, patch: 0, event: 0 };
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig, readonly namespace: string) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  private ref(plural: string, name = "") {
    return { group: GROUP, version: VERSION, namespace: this.namespace, plural, name };
  }

  async listApplications(): Promise<Application[]> {
    const list = await this.custom.listNamespacedCustomObject(this.ref("applications")) as { items: Application[] };
    return list.items.sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  }

  getApplication(name: string): Promise<Application | undefined> {
    return unlessNotFound(this.custom.getNamespacedCustomObject(this.ref("applications", name)) as Promise<Application>);
  }

  getProject(name: string): Promise<AppProject | undefined> {
    return unlessNotFound(this.custom.getNamespacedCustomObject(this.ref("appprojects", name)) as Promise<AppProject>);
  }

  /** Replaces the whole status (a JSON patch `add` replaces or creates it), so cleared fields go away. */
  async writeStatus(name: string, status: ApplicationStatus): Promise<void> {
    this.writes.status++;
    await this.custom.patchNamespacedCustomObjectStatus({ ...this.ref("applications", name), body: [{ op: "add", path: "/status", value: status }] }, jsonPatch);
  }

  async patchApplication(name: string, patch: JsonPatch): Promise<Application> {
    this.writes.patch++;
    return await this.custom.patchNamespacedCustomObject({ ...this.ref("applications", name), body: patch }, jsonPatch) as Application;
  }

  async mergeApplication(name: string, patch: object): Promise<Application> {
    return await this.custom.patchNamespacedCustomObject({ ...this.ref("applications", name), body: patch }, mergePatch) as Application;
  }

  async deleteApplication(name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject(this.ref("applications", name));
  }

  /** A Kubernetes Event on the Application, as `kubectl describe` shows them. */
  async recordEvent(app: Application, event: { type: "Normal" | "Warning"; reason: string; message: string }): Promise<void> {
    const now = new Date();
    this.writes.event++;
    await this.core.createNamespacedEvent({
      namespace: this.namespace,
      body: {
        metadata: { generateName: `${app.metadata?.name ?? "app"}.`, namespace: this.namespace },
        involvedObject: {
          apiVersion: `${GROUP}/${VERSION}`, kind: "Application", name: app.metadata?.name ?? "", namespace: this.namespace,
          ...(app.metadata?.uid ? { uid: app.metadata.uid } : {}),
        },
        type: event.type, reason: event.reason, message: event.message.slice(0, 1024),
        firstTimestamp: now, lastTimestamp: now, count: 1, source: { component: "tether-agent" },
        reportingComponent: "tether-agent", reportingInstance: "tether-agent",
      },
    });
  }

  /** age identities from the `*.agekey` entries of a Secret (Flux's convention); none when it is missing. */
  async ageKeys(secretName: string): Promise<string[]> {
    const secret = await unlessNotFound(this.core.readNamespacedSecret({ name: secretName, namespace: this.namespace }));
    return Object.entries(secret?.data ?? {}).filter(([k]) => k.endsWith(".agekey"))
      .map(([, v]) => Buffer.from(v, "base64").toString("utf8").trim());
  }

  /** HTTPS credentials from Secrets labelled `tether.dev/secret-type: repository` whose `url` prefixes `repoURL`. */
  async repoCredentials(repoURL: string): Promise<{ username: string; password: string } | undefined> {
    const list = await this.core.listNamespacedSecret({ namespace: this.namespace, labelSelector: "tether.dev/secret-type=repository" });
    const decode = (v: string | undefined) => Buffer.from(v ?? "", "base64").toString("utf8");
    const match = list.items
      .map((s) => ({ url: decode(s.data?.url), username: decode(s.data?.username), password: decode(s.data?.password) }))
      .filter((c) => c.url && repoURL.startsWith(c.url))
      .sort((a, b) => b.url.length - a.url.length)[0];
    return match ? { username: match.username || "git", password: match.password } : undefined;
  }
}

/** The value, or undefined when the API server answers 404. */
async function unlessNotFound<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
