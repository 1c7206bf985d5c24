// Reading and writing tether.dev resources, shared by the agent and the CLI.
import { setTimeout as sleep } from "node:timers/promises";
import {
  CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Secret,
} from "@kubernetes/client-node";
import { isNotFound } from "../apply/cluster.ts";
import { KubeHttp } from "../apply/http.ts";
import { matchCredential, type CredentialEntry } from "../source/credentials.ts";
import type { RepoCredentials } from "../source/repo-url.ts";
import { GROUP, VERSION, type AppProject, type Application, type ApplicationStatus, type OperationState } from "./types.ts";

type JsonPatch = { op: "add" | "remove" | "replace" | "test"; path: string; value?: unknown }[];

const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
const JSON_PATCH = "application/json-patch+json";
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export class TetherClient {
  /** Write requests sent for Applications (status, patches) and Events: part of the no-op guarantee. */
  readonly writes = { status: 0, patch: 0, event: 0 };
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  /**
   * The writes every reconcile may make (status, Events) as raw JSON over one keep-alive agent:
   * client-node's typed serializer and per-request options cost 1.8 ms of CPU per status write.
   */
  private readonly http: KubeHttp;

  constructor(kc: KubeConfig, readonly namespace: string) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.http = new KubeHttp(kc);
  }

  private statusPath(name: string): string {
    return `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(this.namespace)}/applications/${encodeURIComponent(name)}/status`;
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

  async listProjects(): Promise<AppProject[]> {
    return (await this.custom.listNamespacedCustomObject(this.ref("appprojects")) as { items: AppProject[] }).items;
  }

  getProject(name: string): Promise<AppProject | undefined> {
    return unlessNotFound(this.custom.getNamespacedCustomObject(this.ref("appprojects", name)) as Promise<AppProject>);
  }

  /** Replaces the whole status (a JSON patch `add` replaces or creates it), so cleared fields go away; returns the Application written. */
  async writeStatus(name: string, status: ApplicationStatus): Promise<Application> {
    return await retrying(() => {
      this.writes.status++;
      return this.http.ok("PATCH", this.statusPath(name), { json: [{ op: "add", path: "/status", value: status }], contentType: JSON_PATCH }) as Promise<Application>;
    });
  }

  /** Writes `status.operationState` alone (the rest of the status untouched), with retries; returns the Application written. */
  async writeOperationState(app: Application, state: OperationState): Promise<Application> {
    const name = app.metadata?.name ?? "";
    const body: JsonPatch = app.status ? [{ op: "add", path: "/status/operationState", value: state }] : [{ op: "add", path: "/status", value: { operationState: state } }];
    return await retrying(() => {
      this.writes.status++;
      return this.http.ok("PATCH", this.statusPath(name), { json: body, contentType: JSON_PATCH }) as Promise<Application>;
    });
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
    const now = new Date().toISOString();
    this.writes.event++;
    await this.http.ok("POST", `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/events`, { contentType: "application/json", json: {
      apiVersion: "v1", kind: "Event",
      metadata: { generateName: `${app.metadata?.name ?? "app"}.`, namespace: this.namespace },
      involvedObject: {
        apiVersion: `${GROUP}/${VERSION}`, kind: "Application", name: app.metadata?.name ?? "", namespace: this.namespace,
        ...(app.metadata?.uid ? { uid: app.metadata.uid } : {}),
      },
      type: event.type, reason: event.reason, message: event.message.slice(0, 1024),
      firstTimestamp: now, lastTimestamp: now, count: 1, source: { component: "tether-agent" },
      reportingComponent: "tether-agent", reportingInstance: "tether-agent",
    } });
  }

  /** Secrets of the agent namespace with a label selector (cluster and repository Secrets). */
  async listSecrets(labelSelector: string): Promise<V1Secret[]> {
    return (await this.core.listNamespacedSecret({ namespace: this.namespace, labelSelector })).items;
  }

  /** age identities from the `*.agekey` entries of a Secret (Flux's convention); none when it is missing. */
  async ageKeys(secretName: string): Promise<string[]> {
    const secret = await unlessNotFound(this.core.readNamespacedSecret({ name: secretName, namespace: this.namespace }));
    return Object.entries(secret?.data ?? {}).filter(([k]) => k.endsWith(".agekey"))
      .map(([, v]) => Buffer.from(v, "base64").toString("utf8").trim());
  }

  /**
   * The credential for `repoURL` from the Secrets labelled `tether.dev/secret-type` or Argo CD's
   * `argocd.argoproj.io/secret-type` (`repository` or `repo-creds`), chosen by {@link matchCredential}:
   * same scheme, host and port, path prefix at a `/` boundary. A password for HTTP(S); for SSH the
   * `sshPrivateKey` with the known hosts of {@link sshKnownHosts}. `secretName` (`namespace/name`)
   * names it for status and logs.
   */
  async repoCredentials(repoURL: string): Promise<RepoCredentials | undefined> {
    const selectors = ["tether.dev/secret-type in (repository,repo-creds)", "argocd.argoproj.io/secret-type in (repository,repo-creds)"];
    const lists = await Promise.all(selectors.map((labelSelector) => this.core.listNamespacedSecret({ namespace: this.namespace, labelSelector })));
    const match = matchCredential(repoURL, lists.flatMap((list) => list.items).map(credentialEntry));
    if (match === undefined) return undefined;
    const secretName = `${this.namespace}/${match.secretName}`;
    if (match.sshPrivateKey !== undefined) {
      if (match.insecure === true) return { sshPrivateKey: match.sshPrivateKey, insecureIgnoreHostKey: true, secretName };
      const knownHosts = await this.sshKnownHosts();
      return { sshPrivateKey: match.sshPrivateKey, secretName, ...(knownHosts === "" ? {} : { knownHosts }) };
    }
    if (match.password === undefined) return undefined;
    return { username: match.username || "git", password: match.password, secretName };
  }

  /**
   * The SSH host keys the agent trusts, in known_hosts format: key `ssh_known_hosts` of ConfigMap
   * `tether-ssh-known-hosts` and of Argo CD's `argocd-ssh-known-hosts-cm` in the agent namespace, both read.
   */
  async sshKnownHosts(): Promise<string> {
    const maps = await Promise.all(SSH_KNOWN_HOSTS_CONFIGMAPS.map((name) => unlessNotFound(this.core.readNamespacedConfigMap({ name, namespace: this.namespace }))));
    return maps.map((m) => m?.data?.ssh_known_hosts ?? "").filter((text) => text.trim() !== "").join("\n");
  }
}

/** The ConfigMaps whose `ssh_known_hosts` hold the SSH host keys the agent trusts (Tether's and Argo CD's names). */
export const SSH_KNOWN_HOSTS_CONFIGMAPS = ["tether-ssh-known-hosts", "argocd-ssh-known-hosts-cm"] as const;

/** A credential Secret decoded; its type from whichever of the two labels it carries. */
function credentialEntry(secret: V1Secret): CredentialEntry {
  const labels = secret.metadata?.labels ?? {};
  const type = (labels["tether.dev/secret-type"] ?? labels["argocd.argoproj.io/secret-type"]) === "repository" ? "repository" : "repo-creds";
  const decode = (key: string) => {
    const value = secret.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
  };
  const username = decode("username");
  const password = decode("password");
  const sshPrivateKey = decode("sshPrivateKey");
  // Argo CD's `insecure` (and its older `insecureIgnoreHostKey`) skip the host key check for SSH.
  const insecure = [decode("insecure"), decode("insecureIgnoreHostKey")].some((v) => v?.trim().toLowerCase() === "true");
  return {
    secretName: secret.metadata?.name ?? "", type, url: decode("url") ?? "",
    ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }),
    ...(sshPrivateKey === undefined ? {} : { sshPrivateKey }), ...(insecure ? { insecure } : {}),
  };
}

/** The value, or undefined when the API server answers 404. */
/**
 * A status write retried while it may pass (a conflict, throttling, a server error, a dropped
 * connection), with a short backoff: the operation record must not be lost to one failed request.
 */
async function retrying<T>(write: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const final = typeof code === "number" && code >= 400 && code < 500 && code !== 409 && code !== 429;
      if (final || attempt >= attempts) throw err;
      await sleep(100 * 2 ** attempt);
    }
  }
}

async function unlessNotFound<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
