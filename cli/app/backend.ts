// Where `tether app ...` reads and drives Applications: the API server through a kubeconfig (the default),
// or the agent's API through a `tether login` (SSO or a project token; authorised by tether-rbac-cm).
// The commands are written once against AppBackend; only the requests differ.
import type { TetherClient } from "../../agent/api/client.ts";
import { REFRESH_ANNOTATION, type Application } from "../../agent/api/types.ts";
import { refKey, resourceRef } from "../../agent/apply/inventory.ts";
import { isSelected } from "../../agent/apply/selection.ts";
import type { SyncOperationResource } from "../../agent/api/types.ts";
import { rollbackPatch } from "../../agent/ui/actions.ts";
import type { ObjectDiffView, TreeNode } from "../../agent/ui/view.ts";
import { UsageError } from "../errors.ts";
import { loadKubeConfig, tetherClient, type KubeFlags } from "../kube.ts";
import { AgentApi } from "../login/api.ts";
import { configPath, contextOf, readConfig } from "../login/config.ts";

export type AppFlags = KubeFlags & { readonly server?: string };

export interface SyncAsk {
  readonly prune: boolean;
  readonly resources: readonly SyncOperationResource[];
}

export interface AppBackend {
  /** Where the apps are, for messages: "namespace tether-system" or "https://tether.example.com". */
  readonly where: string;
  /** As TetherClient names it, so the wait helpers take either. */
  readonly namespace: string;
  getApplication(name: string): Promise<Application | undefined>;
  requestSync(app: Application, ask: SyncAsk): Promise<void>;
  requestRefresh(app: Application): Promise<void>;
  requestRollback(app: Application, id: number): Promise<void>;
  tree(app: Application): Promise<TreeNode[]>;
}

/** The kubeconfig's cluster, as every app command worked before logins. */
export class KubeBackend implements AppBackend {
  constructor(readonly client: TetherClient, private readonly flags: KubeFlags) {}

  get where(): string {
    return `namespace ${this.client.namespace}`;
  }

  get namespace(): string {
    return this.client.namespace;
  }

  getApplication(name: string) {
    return this.client.getApplication(name);
  }

  async requestSync(app: Application, ask: SyncAsk): Promise<void> {
    await this.client.mergeApplication(app.metadata?.name ?? "", {
      operation: { sync: { prune: ask.prune, ...(ask.resources.length > 0 ? { resources: [...ask.resources] } : {}) }, initiatedBy: { username: process.env.USER ?? "tether-cli" } },
      metadata: { annotations: { [REFRESH_ANNOTATION]: new Date().toISOString() } },
    });
  }

  async requestRefresh(app: Application): Promise<void> {
    await this.client.mergeApplication(app.metadata?.name ?? "", { metadata: { annotations: { [REFRESH_ANNOTATION]: new Date().toISOString() } } });
  }

  async requestRollback(app: Application, id: number): Promise<void> {
    await this.client.patchApplication(app.metadata?.name ?? "", rollbackPatch(app, id, process.env.USER ?? "tether-cli", new Date()));
  }

  async tree(app: Application): Promise<TreeNode[]> {
    const { liveTree } = await import("./tree.ts");
    return liveTree(app, loadKubeConfig(this.flags));
  }
}

/** The agent's API with a login's token: what RBAC lets the logged-in identity see and do. */
export class ApiBackend implements AppBackend {
  constructor(readonly api: AgentApi) {}

  get where(): string {
    return this.api.server;
  }

  get namespace(): string {
    return this.api.server;
  }

  private path(app: Application | string, rest = ""): string {
    return `/api/v1/applications/${encodeURIComponent(typeof app === "string" ? app : app.metadata?.name ?? "")}${rest}`;
  }

  async getApplication(name: string): Promise<Application | undefined> {
    return this.api.json<Application>("GET", this.path(name, "?view=object"));
  }

  async listApplications(): Promise<Application[]> {
    return (await this.api.json<{ items: Application[] }>("GET", "/api/v1/applications?view=object")).items;
  }

  async requestSync(app: Application, ask: SyncAsk): Promise<void> {
    // The API names objects by inventory key; a selector picks them from the app's status.
    const resources = ask.resources.length === 0 ? [] : (app.status?.resources ?? [])
      .filter((r) => isSelected({ group: r.group ?? "", kind: r.kind, name: r.name, namespace: r.namespace ?? "" }, ask.resources)).map((r) => refKey(resourceRef(r)));
    await this.api.json("POST", this.path(app, "/sync"), { prune: ask.prune, ...(resources.length ? { resources } : {}) });
  }

  async requestRefresh(app: Application): Promise<void> {
    await this.api.json("POST", this.path(app, "/refresh"), {});
  }

  async requestRollback(app: Application, id: number): Promise<void> {
    await this.api.json("POST", this.path(app, "/rollback"), { id });
  }

  async tree(app: Application): Promise<TreeNode[]> {
    return (await this.api.json<{ nodes: TreeNode[] }>("GET", this.path(app, "/tree"))).nodes;
  }

  /** The agent's diff; at `revision` (a branch, tag or commit) instead of the app's targetRevision when given. */
  async diff(app: Application, revision?: string): Promise<ObjectDiffView[]> {
    const query = revision ? `?${new URLSearchParams({ revision }).toString()}` : "";
    return (await this.api.json<{ items: ObjectDiffView[] }>("GET", this.path(app, `/diff${query}`))).items;
  }

  async logs(app: Application, pod: TreeNode, opts: { container?: string; follow: boolean }, out: NodeJS.WritableStream): Promise<void> {
    const query = new URLSearchParams({ key: refKey(pod.ref), follow: String(opts.follow), ...(opts.container ? { container: opts.container } : {}) });
    await this.api.stream(this.path(app, `/logs?${query.toString()}`), out);
  }
}

/**
 * The backend a command's flags ask for: `--server URL` (that login), `--kubeconfig`/`--context` (the
 * cluster), else the current `tether login` if there is one, else the kubeconfig.
 */
export async function appBackend(flags: AppFlags): Promise<AppBackend> {
  const viaKube = () => new KubeBackend(tetherClient(flags), flags);
  if (flags.server === undefined && (flags.kubeconfig !== undefined || flags.context !== undefined)) return viaKube();
  const file = configPath();
  const config = await readConfig(file);
  if (flags.server !== undefined) {
    const origin = URL.parse(flags.server.includes("://") ? flags.server : `https://${flags.server}`)?.origin;
    const named = config.contexts.find((c) => c.name === flags.server || c.server === origin);
    const login = named && contextOf(config, named.name);
    if (!login) throw new UsageError(`--server ${flags.server}: no login for it in ${file}; run \`tether login ${flags.server} --sso\` first`);
    return new ApiBackend(new AgentApi({ server: login.server, token: login.user["auth-token"], context: login.context.name }));
  }
  const current = contextOf(config);
  if (!current) return viaKube();
  return new ApiBackend(new AgentApi({ server: current.server, token: current.user["auth-token"], context: current.context.name }));
}

/** A command the agent's API does not offer: a usage error that says how to run it instead. */
export function needsKubeconfig(backend: AppBackend, command: string): void {
  if (backend instanceof ApiBackend) {
    throw new UsageError(`\`tether app ${command}\` needs a kubeconfig (it is not offered through the agent's API at ${backend.where}); `
      + "pass --kubeconfig or --context, or `tether logout`");
  }
}
