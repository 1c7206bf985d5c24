// The web UI's HTTP surface: `/api/v1/...` (JSON, server-sent events, logs) and `/ui/...` (the
// built frontend). Every API request is authenticated and authorised through Kubernetes (auth.ts);
// every action also needs the session's CSRF token. No Secret value leaves this file unmasked.
import { ActionError } from "../actions/builtin.ts";
import { actionsOf, runAction } from "../actions/run.ts";
import { readSettings, type TetherSettings } from "../settings/index.ts";
import type { DiffSettings } from "../diff/settings.ts";
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { TetherClient } from "../api/client.ts";
import { FINALIZER, GROUP, type Application, type Manifest } from "../api/types.ts";
import { KubeCluster } from "../apply/cluster.ts";
import { CLUSTER_SECRET_LABELS, Destinations } from "../apply/destinations.ts";
import { clientPipelineDeps } from "../controller/build.ts";
import type { RenderLimits } from "../render/limits.ts";
import type { FetchLimits } from "../source/limits.ts";
import { KubeHttp } from "../apply/http.ts";
import { maskLive } from "../diff/index.ts";
import { errorMessage } from "../errors.ts";
import { GitSource } from "../source/index.ts";
import { BadRequest, finalizerPatch, refreshPatch, rollbackPatch, syncPatch, type JsonPatch, type SyncRequest } from "./actions.ts";
import { csrfToken, HttpError, sameSecret, type Access, type Identity, type ResourceAttributes } from "./auth.ts";
import { newRenderCache, objectDiffs, renderedManifests, type DiffDeps } from "./diff.ts";
import { overridesFrom, withOverrides } from "./render.ts";
import { detail, inTree } from "./model.ts";
import { readEvents, readTree, refFromKey, streamLogs } from "./reads.ts";
import { AppIndex, type RowChange } from "./app-index.ts";
import { matches, parseQuery, queryApps, type AppPage, type AppSummary } from "./view.ts";
import { serveAsset } from "./assets.ts";
import { AppSetClient } from "../appset/client.ts";
import { summarizeAppSet } from "./appsets.ts";
import { pipelineRoutes } from "./pipelines.ts";
import { DIFF_LIMITS, Gate, STREAM_LIMITS, TooManyRequests } from "./limits.ts";
import { SsoRefused, type SsoService } from "../sso/service.ts";
import { CLI_RETURN, SsoError } from "../sso/oidc.ts";

export interface UiOptions {
  /** Credentials every read and write runs with: the agent's, or the `tether ui` user's. */
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly access: Access;
  /** Git mirrors for the diff view. */
  readonly cacheDir: string;
  /** `--allow-local-repos`: the diff may read `file://` and plain-path repoURLs. */
  readonly allowLocalRepos: boolean;
  /** The agent's render limits (`--max-file-size`, `--max-render-size`); default agent/render/limits.ts's. */
  readonly renderLimits?: RenderLimits;
  /** The agent's chart fetch limits (`--max-helm-index-size`, `--max-chart-size`); default agent/source/limits.ts's. */
  readonly fetchLimits?: FetchLimits;
  /** The built frontend; see assets.ts for the default. */
  readonly assetsDir?: string;
  /** `tether ui` answers only to these host names (Host header without the port), so a rebound DNS name cannot reach it. */
  readonly allowedHosts?: readonly string[];
  readonly log?: (line: string) => void;
  /**
   * `tether ui`'s sign-in: the code it prints (`/ui/#login=CODE`) and the session token a tab gets for
   * it at `GET /api/v1/login?code=CODE&state=S` (a redirect to `/ui/#token=...&state=S`, which only the
   * tab that made S takes). Absent (the agent), there is no such route: callers sign in with the form.
   */
  readonly login?: { readonly code: string; readonly token: string };
  /** tether-cm's global diff rules (the agent's settings), so the diff view ignores what the reconcile ignores. */
  readonly diffSettings?: () => DiffSettings;
  /** tether-cm as the agent's settings watch holds it (its Lua actions); absent (`tether ui`), it is read per request. */
  readonly customizations?: () => TetherSettings;
  /**
   * SSO and Argo CD's RBAC (agent/sso): tokens the agent signed (a login through `oidc.config`, a project
   * role's token) are authorised by `tether-rbac-cm` and AppProject roles; other bearers keep Kubernetes'.
   */
  readonly sso?: SsoService;
  /**
   * List the Applications at once instead of at the first request (the agent): a tab's first page is
   * then served from memory however many apps there are.
   */
  readonly prefetch?: boolean;
}

export interface UiRoutes {
  /** Whether this path belongs to the UI: `/ui`, `/ui/...` and `/api/v1/...`. */
  handles(pathname: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  close(): void;
}

interface Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly who: Identity;
  readonly bearer: string;
  readonly name: string;
}

type Handler = (call: Call) => Promise<void>;

/** Argo CD's action for a UI verb: a refresh needs only `get` there, as `argocd app get --refresh`. */
const ARGO_ACTION: Readonly<Record<string, string>> = { get: "get", update: "get", sync: "sync", delete: "delete" };

/** The SubjectAccessReview verb for sync and rollback on `applications.tether.dev` (README: a Role that grants it). */
export const SYNC_VERB = "sync";

/** The SubjectAccessReview verb for running a resource action (restart, scale…) on an application's object. */
export const ACTION_VERB = "action";

const DOT_SEGMENT = /\/(\.|%2e){1,2}(\/|$)/i;

const SECURITY_HEADERS = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-store" };

export function uiRoutes(opts: UiOptions): UiRoutes {
  const log = opts.log ?? (() => undefined);
  const http = new KubeHttp(opts.kc);
  const cluster = new KubeCluster(opts.kc);
  const client = new TetherClient(opts.kc, opts.namespace);
  const index = new AppIndex(opts.kc, opts.namespace, log);
  if (opts.prefetch) index.ready().catch((err: unknown) => log(`ui: could not list the Applications yet: ${errorMessage(err)}`));
  const csrfKey = randomBytes(32);
  const streams = new Set<ServerResponse>();
  const diffDeps: DiffDeps = {
    pipeline: {
      ...clientPipelineDeps({
        client, cacheDir: opts.cacheDir, renderCache: newRenderCache(), allowLocalRepos: opts.allowLocalRepos,
        ...(opts.fetchLimits ? { fetchLimits: opts.fetchLimits } : {}),
        source: new GitSource({ cacheDir: opts.cacheDir, allowLocal: opts.allowLocalRepos, credentials: (url: string) => client.repoCredentials(url) }),
      }),
      destinations: new Destinations({
        local: { kc: opts.kc, cluster },
        listSecrets: async () => (await Promise.all(CLUSTER_SECRET_LABELS.map((l) => client.listSecrets(l)))).flat(),
      }),
      ...(opts.renderLimits ? { limits: opts.renderLimits } : {}),
      ...(opts.diffSettings ? { diffSettings: opts.diffSettings } : {}),
    },
  };
  // Each diff fetches, renders and dry-runs; each stream holds an API connection: bounded per caller and in all.
  const diffs = new Gate(DIFF_LIMITS);
  const streamed = new Gate(STREAM_LIMITS);
  const customizations = opts.customizations ?? (() => readSettings(http, opts.namespace));
  const onApp = (verb: string, extra: Partial<ResourceAttributes> = {}): ResourceAttributes =>
    ({ verb, group: GROUP, resource: "applications", namespace: opts.namespace, ...extra });

  /** Whether an SSO or project-token caller may `action` this app (Argo's `applications` resource, `<project>/<name>`). */
  const rbacAllows = (who: Identity, action: string, app: Application) => rowAllowed(who, action, { project: app.spec.project || "default", name: app.metadata?.name ?? "" });
  const rowAllowed = (who: Identity, action: string, row: Pick<AppSummary, "project" | "name">) =>
    who.sso && opts.sso ? opts.sso.allowed(who.sso, { resource: "applications", action, object: `${row.project || "default"}/${row.name}` }) : Promise.resolve(true);

  const mustGet = async (call: Call, verb = "get"): Promise<Application> => {
    if (call.who.sso) {
      const app = await client.getApplication(call.name);
      // A missing app and a forbidden one answer alike, so names cannot be probed (as Argo CD answers).
      const action = ARGO_ACTION[verb] ?? verb;
      if (!app || !(await rbacAllows(call.who, action, app))) {
        throw new HttpError(403, `permission denied: applications, ${action}, ${app?.spec.project || "*"}/${call.name}, sub: ${call.who.user}`);
      }
      return app;
    }
    await opts.access.authorize(call.who, onApp(verb, { name: call.name }));
    const app = await client.getApplication(call.name);
    if (!app) throw new HttpError(404, `application ${call.name} not found in namespace ${opts.namespace}`);
    return app;
  };

  /** The tree node named by `?key=`, refused unless it belongs to this application's tree. */
  const treeObject = async (call: Call, app: Application) => {
    const ref = refFromKey(call.url.searchParams.get("key"));
    if (!ref) throw new HttpError(400, "pass ?key=group/version/kind/namespace/name of an object in the tree");
    const node = inTree(await readTree(app, { http, cluster }), call.url.searchParams.get("key") ?? "");
    if (!node) throw new HttpError(404, `${ref.kind}/${ref.name} is not part of application ${call.name}`);
    return node;
  };

  /** Who did what, as a log line and an Event on the Application (Argo CD records these as events too). */
  const audit = async (call: Call, app: Application, what: string) => {
    const kind = call.who.sso ? (call.who.sso.kind === "project" ? "project token" : "SSO") : "Kubernetes";
    log(`ui: ${call.who.user} (${kind}) ${what} ${call.name}`);
    await client.recordEvent(app, { type: "Normal", reason: "ActionByUser", message: `${call.who.user} (${kind}) requested ${what} through the API` })
      .catch((err: unknown) => log(`ui: could not record the event for ${call.name}: ${errorMessage(err)}`));
  };

  const act = async (call: Call, verb: string, patch: (app: Application, body: Record<string, unknown>) => JsonPatch) => {
    const app = await mustGet(call, verb);
    const body = await readJson(call.req);
    const ops = patch(app, body);
    if (ops.length) await client.patchApplication(call.name, ops);
    await audit(call, app, call.url.pathname.split("/").pop() ?? verb);
    sendJson(call.res, 202, { accepted: true });
  };

  const pipelines = pipelineRoutes({ kc: opts.kc, namespace: opts.namespace, access: opts.access, ...(opts.sso ? { sso: opts.sso } : {}) });

  const routes: Record<string, Handler> = {
    "GET pipelines": async (call) => sendJson(call.res, 200, { items: await pipelines.list(call.who) }),
    "GET pipelines/*": async (call) => sendJson(call.res, 200, await pipelines.view(call.who, call.name)),
    "POST pipelines/*/promote": async (call) => {
      const accepted = await pipelines.promote(call.who, call.name, await readJson(call.req));
      log(`ui: ${call.who.user} promoted Freight ${accepted.freight} to stage ${accepted.stage} of project ${call.name} (Promotion ${accepted.promotion})`);
      sendJson(call.res, 202, accepted);
    },
    "GET session": ({ res, who, bearer }) => {
      sendJson(res, 200, { user: who.user, namespace: opts.namespace, csrf: csrfToken(csrfKey, bearer) });
      return Promise.resolve();
    },
    "GET applications": async (call) => {
      if (!call.who.sso) await opts.access.authorize(call.who, onApp("list"));
      if (call.url.searchParams.get("view") === "object") {
        // `?view=object`: the Applications as the API server holds them (the CLI's `tether app list` through a login).
        const apps = await client.listApplications();
        const seen = await Promise.all(apps.map((a) => rbacAllows(call.who, "get", a)));
        return sendJson(call.res, 200, { items: apps.filter((_, i) => seen[i]).map(asObject) });
      }
      await index.ready();
      sendJson(call.res, 200, queryApps(await visibleRows(call.who, index.values()), parseQuery(call.url.searchParams)));
    },
    "GET applicationsets": async (call) => {
      if (!call.who.sso) await opts.access.authorize(call.who, { verb: "list", group: GROUP, resource: "applicationsets", namespace: opts.namespace });
      const sets = await new AppSetClient(opts.kc, opts.namespace).list();
      // Argo's object for a set is <its template's project>/<name>.
      const seen = await Promise.all(sets.map((set) => (call.who.sso && opts.sso
        ? opts.sso.allowed(call.who.sso, { resource: "applicationsets", action: "get", object: `${templateProject(set) || "default"}/${set.metadata?.name ?? ""}` })
        : Promise.resolve(true))));
      sendJson(call.res, 200, { items: sets.filter((_, i) => seen[i]).map(summarizeAppSet) });
    },
    "GET stream": async (call) => {
      if (!call.who.sso) await opts.access.authorize(call.who, onApp("watch"));
      await streamed.run(call.who.user, async () => {
        streams.add(call.res);
        call.res.on("close", () => streams.delete(call.res));
        await index.ready();
        await serveStream(call, { index, rows: () => visibleRows(call.who, index.values()), visible: (row) => rowAllowed(call.who, "get", row) });
      });
    },
    "GET applications/*": async (call) => {
      const app = await mustGet(call);
      sendJson(call.res, 200, call.url.searchParams.get("view") === "object" ? asObject(app) : detail(app, FINALIZER));
    },
    "GET applications/*/tree": async (call) => sendJson(call.res, 200, { nodes: await readTree(await mustGet(call), { http, cluster }) }),
    "GET applications/*/resource": async (call) => {
      const node = await treeObject(call, await mustGet(call));
      const live = await cluster.get(node.ref);
      sendJson(call.res, 200, { key: node.key, yaml: live ? stringify(forDisplay(live), { lineWidth: 0 }) : "" });
    },
    // `?revision=REV&source=JSON` (agent/ui/render.ts): `tether app diff --revision` rendered here, not on the caller's machine.
    "GET applications/*/diff": async (call) => {
      const app = withOverrides(await mustGet(call), overridesFrom(call.url.searchParams));
      sendJson(call.res, 200, { items: await diffs.run(call.who.user, () => objectDiffs(app, diffDeps)) });
    },
    // What the pipeline renders, masked: `tether app manifests` and `tether app diff` ask here when an agent is reachable.
    "GET applications/*/manifests": async (call) => {
      const app = withOverrides(await mustGet(call), overridesFrom(call.url.searchParams));
      sendJson(call.res, 200, await diffs.run(call.who.user, () => renderedManifests(app, diffDeps)));
    },
    "GET applications/*/events": async (call) => {
      const app = await mustGet(call);
      const ref = call.url.searchParams.has("key") ? (await treeObject(call, app)).ref
        : { group: GROUP, version: "v1alpha1", kind: "Application", name: call.name, namespace: opts.namespace };
      sendJson(call.res, 200, { items: await readEvents(http, ref) });
    },
    "GET applications/*/logs": async (call) => {
      const node = await treeObject(call, await mustGet(call));
      if (node.ref.kind !== "Pod" || node.ref.group !== "") throw new HttpError(400, `${node.ref.kind}/${node.ref.name} has no logs; pick a Pod`);
      if (call.who.sso && opts.sso) {
        const app = await mustGet(call);
        await opts.sso.authorize(call.who.sso, { resource: "logs", action: "get", object: `${app.spec.project || "default"}/${call.name}` });
      } else {
        await opts.access.authorize(call.who, { verb: "get", group: "", resource: "pods", subresource: "log", namespace: node.ref.namespace ?? "default", name: node.ref.name });
      }
      const container = call.url.searchParams.get("container");
      await streamed.run(call.who.user, () =>
        streamLogs(opts.kc, node.ref, { follow: call.url.searchParams.get("follow") === "true", ...(container ? { container } : {}) }, call.res));
    },
    "GET applications/*/actions": async (call) => {
      const node = await treeObject(call, await mustGet(call));
      const live = await cluster.get(node.ref);
      sendJson(call.res, 200, { items: live ? await asBadRequest(async () => actionsOf(live, await customizations())) : [] });
    },
    // An action writes to the object, not the Application: a verb of its own (as Argo CD's `action/*` permission).
    "POST applications/*/actions": async (call) => {
      const app = await mustGet(call, call.who.sso ? "get" : ACTION_VERB);
      const node = await treeObject(call, app);
      const body = await readJson(call.req);
      if (typeof body.action !== "string") throw new BadRequest("pass {\"action\": NAME, \"params\": {NAME: VALUE}}");
      // Argo CD's fine-grained action permission: action/<group>/<kind>/<action>.
      const argoAction = `action/${node.ref.group}/${node.ref.kind}/${body.action}`;
      if (!(await rbacAllows(call.who, argoAction, app))) throw new HttpError(403, `permission denied: applications, ${argoAction}, ${app.spec.project || "default"}/${call.name}, sub: ${call.who.user}`);
      const params = body.params === undefined ? {} : body.params;
      if (typeof params !== "object" || params === null || Object.values(params).some((v) => typeof v !== "string")) {
        throw new BadRequest("params must map names to strings: {\"replicas\": \"3\"}");
      }
      const { group, kind, name, namespace } = node.ref;
      const outcome = await runAction({ app, target: { group, kind, name, ...(namespace ? { namespace } : {}) }, action: body.action,
        params: params as Record<string, string> }, { ...diffDeps.pipeline, customizations }).catch((err: unknown) => {
        throw err instanceof ActionError ? new BadRequest(err.message) : err;
      });
      const message = `${call.who.user} ran ${outcome.message}`;
      await client.recordEvent(app, { type: "Normal", reason: "ResourceActionRan", message }).catch((err: unknown) => log(`ui: could not record event: ${errorMessage(err)}`));
      log(`ui: ${message} of ${call.name}`);
      sendJson(call.res, 200, { message: outcome.message });
    },
    "POST applications/*/refresh": (call) => act(call, "update", (app) => refreshPatch(app, new Date())),
    // Sync and rollback have a verb of their own (as Argo CD's `sync` action): `update` would also let the
    // caller rewrite the spec (spec.project among it); the agent writes only the operation it asks for.
    "POST applications/*/sync": (call) => act(call, SYNC_VERB, (app, body) => syncPatch(app, syncRequest(body), call.who.user, new Date())),
    "POST applications/*/rollback": (call) => act(call, SYNC_VERB, (app, body) => {
      if (typeof body.id !== "number") throw new BadRequest("pass {\"id\": N}, the history entry to roll back to");
      return rollbackPatch(app, body.id, call.who.user, new Date());
    }),
    "DELETE applications/*": async (call) => {
      const app = await mustGet(call, "delete");
      const cascade = call.url.searchParams.get("cascade") !== "false";
      const ops = finalizerPatch(app, cascade);
      if (ops.length) await client.patchApplication(call.name, ops);
      await audit(call, app, `delete (${cascade ? "with" : "without"} its resources)`);
      await client.deleteApplication(call.name);
      sendJson(call.res, 202, { accepted: true });
    },
  };

  /** The rows the caller may `get` (Argo RBAC for SSO callers; Kubernetes callers were checked for `list`). */
  const visibleRows = async (who: Identity, rows: Iterable<AppSummary>): Promise<AppSummary[]> => {
    const all = [...rows];
    if (!who.sso) return all;
    const seen = await Promise.all(all.map((r) => rowAllowed(who, "get", r)));
    return all.filter((_, i) => seen[i]);
  };

  // The table key for a request: `GET applications/*/tree` for GET /api/v1/applications/NAME/tree.
  const route = (method: string, pathname: string): { handler: Handler; name: string } | undefined => {
    let parts: string[];
    try {
      parts = pathname.slice("/api/v1/".length).split("/").map(decodeURIComponent);
    } catch {
      return undefined;
    }
    const named = parts[0] === "applications" || parts[0] === "pipelines";
    const name = named && parts.length > 1 ? parts[1] ?? "" : "";
    // `.` and `..` would be resolved away once the name is a URL path (another object, or the list).
    if (name === "." || name === "..") return undefined;
    const pattern = name ? [parts[0], "*", ...parts.slice(2)].join("/") : parts.join("/");
    const handler = routes[`${method} ${pattern}`];
    return handler && { handler, name };
  };

  return {
    handles: (pathname) => pathname === "/ui" || pathname.startsWith("/ui/") || pathname.startsWith("/api/v1/") || pathname.startsWith("/auth/"),
    async handle(req, res, url) {
      try {
        if (opts.allowedHosts && !opts.allowedHosts.includes(hostname(req.headers.host))) throw new HttpError(403, `unexpected Host header ${req.headers.host}`);
        // `.`/`..` (plain or %2e) are resolved away by URL parsing: the name asked for is not the one served.
        if (DOT_SEGMENT.test((req.url ?? "").split("?")[0] ?? "")) throw new HttpError(400, "a path segment is . or ..: not an object name");
        if (url.pathname.startsWith("/auth/") || url.pathname === "/api/v1/settings") return await ssoRoute(req, res, url, opts.sso);
        if (!url.pathname.startsWith("/api/v1/")) return await serveAsset(req, res, { pathname: url.pathname, ...(opts.assetsDir ? { dir: opts.assetsDir } : {}) });
        if (url.pathname === "/api/v1/login" && opts.login) return signIn(res, url, opts.login);
        const found = route(req.method ?? "GET", url.pathname);
        if (!found) throw new HttpError(404, `no such API: ${req.method} ${url.pathname}`);
        const bearer = bearerOf(req);
        const sso = await opts.sso?.authenticate(bearer);
        const who: Identity = sso ? { user: sso.subject, groups: sso.groups, sso } : await opts.access.authenticate(bearer);
        // A token that never lives in a browser (a project token for CI, a `tether login` session) needs no CSRF token.
        if (req.method !== "GET" && !who.sso?.cli) checkCsrf(req, csrfToken(csrfKey, bearer ?? ""));
        await found.handler({ req, res, url, who, bearer: bearer ?? "", name: found.name });
      } catch (err) {
        sendError(res, err, log);
      }
    },
    close: () => {
      index.stop();
      // Open event streams would otherwise hold the server's close until every tab goes away.
      for (const res of streams) res.end();
    },
  };
}

/** Trades `tether ui`'s printed code for its session token, handed to the tab's own state. */
function signIn(res: ServerResponse, url: URL, login: NonNullable<UiOptions["login"]>): void {
  const code = url.searchParams.get("code") ?? "";
  const state = url.searchParams.get("state") ?? "";
  if (!sameSecret(code, login.code) || !/^[0-9a-f]{16,64}$/.test(state)) {
    throw new HttpError(401, "open the URL `tether ui` printed (it carries this session's sign-in code)");
  }
  res.writeHead(302, { ...SECURITY_HEADERS, location: `/ui/#${new URLSearchParams({ token: login.token, state }).toString()}` });
  res.end();
}

function syncRequest(body: Record<string, unknown>): SyncRequest {
  const resources = body.resources;
  if (resources !== undefined && !(Array.isArray(resources) && resources.every((r) => typeof r === "string"))) {
    throw new BadRequest("resources must be a list of group/version/kind/namespace/name keys");
  }
  return { prune: body.prune === true, dryRun: body.dryRun === true, ...(resources ? { resources } : {}) };
}

/**
 * What the manifest view shows: Secret values and what SOPS decrypted (by the object's decryption mark,
 * whatever its kind) masked, managedFields (noise for a person) dropped.
 */
function forDisplay(obj: Manifest): Manifest {
  const masked = structuredClone(maskLive(obj));
  delete masked.metadata.managedFields;
  return masked;
}

/** How often at most a stream sends its page again when rows moved in or out of it. */
const PAGE_EVERY_MS = 500;

/**
 * Server-sent events for one page of the list (the query in the URL, as `GET applications` takes it):
 * `page` first, then `app` for a row of the page that changed and `deleted` for one that went, at
 * once, and `page` again (at most every {@link PAGE_EVERY_MS}) when rows moved in or out of the page
 * or the counts changed; a comment keeps proxies open. Only rows the caller may see (`visible`:
 * Argo RBAC for SSO callers). Never a snapshot of every app: a tab with 10,000 apps gets its page.
 */
async function serveStream(call: Call, s: {
  index: AppIndex; rows: () => Promise<AppSummary[]>; visible: (row: AppSummary) => Promise<boolean>;
}): Promise<void> {
  const { res } = call;
  const query = parseQuery(call.url.searchParams);
  res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/event-stream", connection: "keep-alive", "x-accel-buffering": "no" });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  let shown = new Set<string>();
  let sent = "";
  const sendPage = async () => {
    const page = queryApps(await s.rows(), query);
    const signature = pageSignature(page);
    shown = new Set(page.items.map((r) => r.name));
    if (signature === sent) return;
    sent = signature;
    send("page", page);
  };
  let queue = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const unsubscribe = s.index.subscribe((change) => {
    queue = queue.then(() => onRow(change)).catch(() => undefined);
    timer ??= setTimeout(() => {
      timer = undefined;
      queue = queue.then(sendPage).catch(() => undefined);
    }, PAGE_EVERY_MS);
  });
  const onRow = async (change: RowChange) => {
    if (!shown.has(change.name)) return;
    if (change.after === undefined) send("deleted", { name: change.name });
    else if (matches(change.after, query) && await s.visible(change.after)) send("app", change.after);
  };
  queue = queue.then(sendPage);
  await queue;
  const ping = setInterval(() => res.write(": keep-alive\n\n"), 20_000);
  await new Promise<void>((resolve) => res.on("close", resolve));
  clearInterval(ping);
  clearTimeout(timer);
  unsubscribe();
}

/** An Application without managedFields (noise for a person and a client). */
function asObject(app: Application): Application {
  const metadata = { ...app.metadata };
  delete metadata.managedFields;
  return { ...app, metadata };
}

/** What, of a page, a tab must be sent again for: which rows in which order, and the counts. */
function pageSignature(page: AppPage): string {
  return JSON.stringify([page.items.map((r) => r.name), page.matched, page.total, page.offset, page.projects]);
}

/** `127.0.0.1` of `127.0.0.1:8081`, `::1` of `[::1]:8081`. */
function hostname(host: string | undefined): string {
  return (host ?? "").replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
}

function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization ?? "";
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1];
}

/**
 * Actions need the session's CSRF token in `X-Tether-CSRF` (a header another site cannot set
 * without a CORS preflight this server never grants) and, when the browser sends one, a same-origin Origin.
 */
function checkCsrf(req: IncomingMessage, expected: string): void {
  const given = String(req.headers["x-tether-csrf"] ?? "");
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new HttpError(403, "missing or wrong CSRF token (X-Tether-CSRF); reload the page");
  const origin = req.headers.origin;
  if (origin && URL.parse(origin)?.host !== req.headers.host) throw new HttpError(403, `cross-origin request from ${origin} refused`);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) throw new HttpError(413, "request body over 64 KiB");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (!text) return {};
  if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) throw new HttpError(415, "send the body as application/json");
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === "object" && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpError(400, "the body is not a JSON object");
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { ...SECURITY_HEADERS, "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, err: unknown, log: (line: string) => void): void {
  const code = err instanceof HttpError ? err.code : err instanceof BadRequest ? 400 : clientErrorOf(err) ?? 500;
  if (code === 500) log(`ui: ${errorMessage(err)}`);
  if (res.headersSent) {
    res.end();
    return;
  }
  if (err instanceof TooManyRequests) res.setHeader("retry-after", String(err.retryAfterS));
  sendJson(res, code, { message: errorMessage(err) });
}

/** A 4xx the API server answered (403 in `tether ui`, where the user's own credentials act), passed on. */
function clientErrorOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "number" && code >= 400 && code < 500 ? code : undefined;
}

const LOGIN_COOKIE = "tether.oidc";

/**
 * SSO's routes: `GET /api/v1/settings` (public: the login button's name), `GET /auth/login?state=S` (to the
 * provider, with the login's state in a 10-minute HttpOnly cookie), `GET /auth/callback` (the provider's
 * answer: the session goes to the tab that started the login as `/ui/#token=...&state=S`, the same
 * tab-bound hand-over as `tether ui`'s sign-in), `POST /auth/logout` (the session refused from then on).
 */
async function ssoRoute(req: IncomingMessage, res: ServerResponse, url: URL, sso: SsoService | undefined): Promise<void> {
  if (url.pathname === "/api/v1/settings") return sendJson(res, 200, sso ? await sso.public() : {});
  if (!sso) throw new HttpError(404, "SSO is not enabled on this server");
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  const cookie = (value: string, maxAge: number) =>
    `${LOGIN_COOKIE}=${value}; Path=/auth/callback; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
  try {
    if (url.pathname === "/auth/login" && req.method === "GET") {
      const state = url.searchParams.get("state") ?? "";
      if (!/^[0-9a-f]{16,64}$/.test(state)) throw new HttpError(400, "start the login from the UI's 'Log in via' button (it carries this tab's state)");
      const start = await sso.begin(state, cliReturn(url) ?? "/ui/");
      res.writeHead(302, { ...SECURITY_HEADERS, location: start.location, "set-cookie": cookie(start.stateCookie, start.maxAgeSeconds) });
      return void res.end();
    }
    if (url.pathname === "/auth/callback" && req.method === "GET") {
      const done = await sso.finish(url, cookieOf(req, LOGIN_COOKIE));
      let location = `${done.returnTo}#${new URLSearchParams({ token: done.session, state: done.tabState }).toString()}`;
      if (done.returnTo.startsWith(`${CLI_RETURN}?`)) {
        // `tether login --sso`: a one-time code to the CLI's own loopback listener; the session itself never reaches the browser.
        const cli = new URLSearchParams(done.returnTo.slice(CLI_RETURN.length + 1));
        const code = sso.issueCliCode(done.session, done.subject, cli.get("challenge") ?? "");
        location = `http://127.0.0.1:${cli.get("port") ?? ""}/auth/callback?${new URLSearchParams({ code, state: done.tabState }).toString()}`;
      }
      res.writeHead(302, { ...SECURITY_HEADERS, location, "set-cookie": cookie("", 0) });
      return void res.end();
    }
    if (url.pathname === "/auth/token" && req.method === "POST") {
      const body = await readJson(req);
      if (typeof body.code !== "string" || typeof body.verifier !== "string") throw new HttpError(400, "pass {\"code\": CODE, \"verifier\": VERIFIER}");
      const { token, subject } = sso.exchangeCliCode(body.code, body.verifier);
      return sendJson(res, 200, { token, subject });
    }
    if (url.pathname === "/auth/logout" && req.method === "POST") {
      const who = await sso.authenticate(bearerOf(req));
      if (who) sso.logout(who);
      return sendJson(res, 200, { loggedOut: true });
    }
  } catch (err) {
    if (err instanceof SsoRefused || err instanceof SsoError) throw new HttpError(err.code, err.message);
    throw err;
  }
  throw new HttpError(404, `no such route: ${req.method} ${url.pathname}`);
}

/**
 * The return path of a login started by `tether login --sso` (`?cli=PORT&challenge=S256`), checked; undefined
 * for the UI's own login.
 */
function cliReturn(url: URL): string | undefined {
  const port = url.searchParams.get("cli");
  if (port === null) return undefined;
  const challenge = url.searchParams.get("challenge") ?? "";
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535 || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
    throw new HttpError(400, "a CLI login needs ?cli=PORT&challenge=S256-CHALLENGE: start it with `tether login SERVER --sso`");
  }
  return `${CLI_RETURN}?${new URLSearchParams({ port, challenge }).toString()}`;
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The project an ApplicationSet's template names (Argo's RBAC object for the set); "" when templated or absent. */
function templateProject(set: { spec: { template?: unknown } }): string {
  const project = (set.spec.template as { spec?: { project?: unknown } } | undefined)?.spec?.project;
  return typeof project === "string" && !project.includes("{{") ? project : "";
}

/** A tether-cm action that cannot be listed (its discovery.lua fails) is the caller's to fix: a 400 with the key. */
async function asBadRequest<T>(run: () => Promise<T>): Promise<T> {
  return await run().catch((err: unknown) => {
    throw err instanceof ActionError ? new BadRequest(err.message) : err;
  });
}
