// The browser's side of agent/ui/api.ts: the bearer token (kept for this tab only), JSON calls,
// the CSRF token on actions, and server-sent events read through fetch so the token goes in a header.
import { queryParams, type AppDetail, type AppPage, type AppQuery, type AppSummary, type EventView, type ObjectDiffView, type TreeNode } from "../../agent/ui/view.ts";
import type { AppSetSummary } from "../../agent/ui/appsets.ts";
import type { FreightSummary, PipelineView, StageSummary } from "../../agent/promote/view.ts";

export type { AppDetail, AppPage, AppQuery, AppSummary, AppSetSummary, EventView, ObjectDiffView, TreeNode, FreightSummary, PipelineView, StageSummary };

const TOKEN_KEY = "tether.token";

const LOGIN_STATE_KEY = "tether.login-state";

/**
 * A token in the URL is taken only when this tab asked for it: `tether ui` prints `#login=CODE`; the
 * tab keeps a random state and trades the code at its server (`/api/v1/login`), which answers
 * `#token=...&state=...`. A crafted `#token=` link (someone else's session) carries no state this tab
 * made and is dropped. Either way the address bar is cleaned.
 */
export function adoptTokenFromUrl(): void {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const code = params.get("login");
  if (code) {
    const state = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem(LOGIN_STATE_KEY, state);
    location.replace(`/api/v1/login?${new URLSearchParams({ code, state }).toString()}`);
    return;
  }
  const given = params.get("token");
  if (given === null) return;
  const expected = sessionStorage.getItem(LOGIN_STATE_KEY);
  sessionStorage.removeItem(LOGIN_STATE_KEY);
  if (expected !== null && params.get("state") === expected) sessionStorage.setItem(TOKEN_KEY, given);
  history.replaceState(null, "", `${location.pathname}#/`);
}

/** The server's public settings: the SSO login button's name when `oidc.config` is set. */
export async function publicSettings(): Promise<{ sso?: { name: string } }> {
  const res = await fetch("/api/v1/settings");
  return res.ok ? ((await res.json()) as { sso?: { name: string } }) : {};
}

/** Starts an SSO login for this tab: the session comes back as `#token=...&state=...` with this tab's state. */
export function startSso(): void {
  const state = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  sessionStorage.setItem(LOGIN_STATE_KEY, state);
  location.assign(`/auth/login?${new URLSearchParams({ state }).toString()}`);
}

/** Ends an SSO session at the server (a no-op for a Kubernetes token), then forgets it here. */
export async function signOutEverywhere(): Promise<void> {
  const t = sessionStorage.getItem(TOKEN_KEY);
  if (t) await fetch("/auth/logout", { method: "POST", headers: { authorization: `Bearer ${t}` } }).catch(() => undefined);
  sessionStorage.removeItem(TOKEN_KEY);
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? "",
  set: (t: string) => sessionStorage.setItem(TOKEN_KEY, t.trim()),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An answer other than 2xx, with the server's message (which names what was refused and why). */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface Session {
  readonly user: string;
  readonly namespace: string;
  readonly csrf: string;
}

let csrf = "";

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token.get()}` };
  if (method !== "GET") headers["x-tether-csrf"] = csrf;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`/api/v1/${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const data = (await res.json().catch(() => ({}))) as { message?: string };
  if (!res.ok) throw new ApiError(res.status, data.message ?? `${method} ${path}: HTTP ${res.status}`);
  return data as T;
}

const app = (name: string, sub = "") => `applications/${encodeURIComponent(name)}${sub ? `/${sub}` : ""}`;
const keyQuery = (key: string) => `?key=${encodeURIComponent(key)}`;

export const api = {
  async session(): Promise<Session> {
    const s = await call<Session>("GET", "session");
    csrf = s.csrf;
    return s;
  },
  list: (query: AppQuery = {}) => call<AppPage>("GET", `applications?${queryParams(query)}`),
  appsets: () => call<{ items: AppSetSummary[] }>("GET", "applicationsets").then((r) => r.items),
  app: (name: string) => call<AppDetail>("GET", app(name)),
  tree: (name: string) => call<{ nodes: TreeNode[] }>("GET", app(name, "tree")).then((r) => r.nodes),
  manifest: (name: string, key: string) => call<{ yaml: string }>("GET", app(name, `resource${keyQuery(key)}`)).then((r) => r.yaml),
  diff: (name: string) => call<{ items: ObjectDiffView[] }>("GET", app(name, "diff")).then((r) => r.items),
  events: (name: string, key?: string) => call<{ items: EventView[] }>("GET", app(name, `events${key ? keyQuery(key) : ""}`)).then((r) => r.items),
  refresh: (name: string) => call("POST", app(name, "refresh"), {}),
  sync: (name: string, opts: { prune: boolean; dryRun: boolean; resources: string[] }) => call("POST", app(name, "sync"), opts),
  rollback: (name: string, id: number) => call("POST", app(name, "rollback"), { id }),
  remove: (name: string, cascade: boolean) => call("DELETE", `${app(name)}?cascade=${cascade}`),
  actions: (name: string, key: string) => call<{ items: ResourceActionView[] }>("GET", app(name, `actions${keyQuery(key)}`)).then((r) => r.items),
  runAction: (name: string, key: string, action: string, params: Record<string, string>) =>
    call<{ message: string }>("POST", app(name, `actions${keyQuery(key)}`), { action, params }),
  pipelines: () => call<{ items: { name: string; stages: number }[] }>("GET", "pipelines").then((r) => r.items),
  pipeline: (project: string) => call<PipelineView>("GET", `pipelines/${encodeURIComponent(project)}`),
  promote: (project: string, stage: string, freight: string) =>
    call<{ promotion: string }>("POST", `pipelines/${encodeURIComponent(project)}/promote`, { stage, freight }),
};

/** A resource action of an object (restart, scale…), as `GET …/actions` lists it. */
export interface ResourceActionView {
  readonly name: string;
  readonly disabled: boolean;
  readonly params?: readonly { readonly name: string; readonly default?: string }[];
  /** A tether-cm Lua action's label, when it gives one. */
  readonly displayName?: string;
}

/** Reads a streamed response line by line until `signal` aborts; resolves when the stream ends. */
async function readLines(path: string, signal: AbortSignal, onLine: (line: string) => void): Promise<void> {
  const res = await fetch(`/api/v1/${path}`, { headers: { authorization: `Bearer ${token.get()}` }, signal });
  if (!res.ok || !res.body) {
    const data = (await res.json().catch(() => ({}))) as { message?: string };
    throw new ApiError(res.status, data.message ?? `HTTP ${res.status}`);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  }
}

export type StreamEvent = { event: "page"; data: AppPage } | { event: "app"; data: AppSummary } | { event: "deleted"; data: { name: string } };

/**
 * Live updates of one page of the list (`query`: filters, order, window) from the agent's watch on
 * Applications: the page, then its rows as they change, and the page again when rows move in or out.
 * Reconnects after a second when the stream ends; `onState` says whether it is connected, for the
 * "live" indicator.
 */
export function subscribe(query: AppQuery, onEvent: (e: StreamEvent) => void, onState: (live: boolean) => void): () => void {
  const abort = new AbortController();
  const run = async () => {
    while (!abort.signal.aborted) {
      let event = "";
      try {
        await readLines(`stream?${queryParams(query)}`, abort.signal, (line) => {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) {
            onState(true);
            onEvent({ event, data: JSON.parse(line.slice(6)) as unknown } as StreamEvent);
          }
        });
      } catch {
        // reconnect below
      }
      onState(false);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void run();
  return () => abort.abort();
}

/** A Pod's log, line by line; followed until the returned function is called. */
export function streamLogs(pod: { app: string; key: string; follow: boolean }, onLine: (line: string) => void, onError: (message: string) => void): () => void {
  const abort = new AbortController();
  readLines(app(pod.app, `logs${keyQuery(pod.key)}&follow=${pod.follow}`), abort.signal, onLine)
    .catch((err: unknown) => { if (!abort.signal.aborted) onError(err instanceof Error ? err.message : String(err)); });
  return () => abort.abort();
}
