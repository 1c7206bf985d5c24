// The applications list: sync, health, revision, project, destination and last sync, with filters,
// search, sortable columns and pages, all decided by the agent (agent/ui/view.ts, queryApps): the
// tab holds one page, kept current by the agent's stream of that page (no polling), so 10,000 apps
// cost the browser what 50 do.
import { useEffect, useState } from "preact/hooks";
import type { AppFilter, SortKey } from "../../agent/ui/view.ts";
import type { AppPage, AppQuery } from "./api.ts";
import { Status, When, shortRevision } from "./components.tsx";
import { href } from "./router.ts";
import { AppSetList } from "./AppSetList.tsx";

const SYNC = ["Synced", "OutOfSync", "Unknown"];
const HEALTH = ["Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"];
/** Rows per page. */
export const PAGE_SIZE = 50;
/** Typing waits this long before asking the agent, so a word costs one request, not one per key. */
const TYPING_MS = 200;

export function AppList(props: {
  page: AppPage | undefined; query: AppQuery; live: boolean; loaded: boolean; version?: number;
  /** Changes the query from the one current when it runs (typing waits, and a click may come between). */
  onQuery: (update: (q: AppQuery) => AppQuery) => void;
}) {
  const { query, page } = props;
  const [typed, setTyped] = useState({ search: query.search ?? "", label: query.label ?? "" });
  useEffect(() => {
    if (typed.search === (query.search ?? "") && typed.label === (query.label ?? "")) return undefined;
    const timer = setTimeout(() => props.onQuery((q) => (typed.search === (q.search ?? "") && typed.label === (q.label ?? "") ? q
      : without({ ...q, search: typed.search, label: typed.label, offset: 0 }))), TYPING_MS);
    return () => clearTimeout(timer);
  }, [typed]); // the query itself changes only through here and the controls below
  const choose = (field: keyof AppFilter) => (e: Event) => {
    // Read now: the event's target is gone by the time the update runs.
    const value = (e.currentTarget as HTMLSelectElement).value;
    props.onQuery((q) => without({ ...q, [field]: value, offset: 0 }));
  };
  const type = (field: "search" | "label") => (e: Event) => setTyped({ ...typed, [field]: (e.currentTarget as HTMLInputElement).value });
  const sortBy = (key: SortKey) => props.onQuery((q) => without({
    ...q, sort: key, desc: (q.sort ?? "name") === key ? q.desc !== true : false, offset: 0,
  }));
  const header = (key: SortKey, label: string) => {
    const active = (query.sort ?? "name") === key;
    return (
      <th aria-sort={active ? (query.desc ? "descending" : "ascending") : "none"}>
        <button type="button" class="sort" onClick={() => sortBy(key)}>{label}{active ? (query.desc ? " ▼" : " ▲") : ""}</button>
      </th>
    );
  };
  const offset = page?.offset ?? 0;
  const size = query.limit ?? PAGE_SIZE;
  const go = (to: number) => props.onQuery((q) => ({ ...q, offset: Math.max(0, to) }));
  return (
    <main>
      <div class="page-head">
        <h1>Applications</h1>
        <span class={`live ${props.live ? "on" : "off"}`} role="status" aria-label={props.live ? "Live updates on" : "Live updates reconnecting"}>
          {props.live ? "● Live" : "○ Reconnecting"}
        </span>
      </div>
      <div class="filters" role="search">
        <input type="search" placeholder="Search name, repository, namespace" aria-label="Search applications" value={typed.search} onInput={type("search")} />
        <select aria-label="Filter by project" value={query.project ?? ""} onChange={choose("project")}>
          <option value="">All projects</option>
          {(page?.projects ?? []).map((p) => <option key={p} value={p}>{p}</option>)}
        </select>
        <select aria-label="Filter by sync status" value={query.sync ?? ""} onChange={choose("sync")}>
          <option value="">Any sync status</option>
          {SYNC.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <select aria-label="Filter by health" value={query.health ?? ""} onChange={choose("health")}>
          <option value="">Any health</option>
          {HEALTH.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <input type="text" placeholder="label: key=value" aria-label="Filter by label" value={typed.label} onInput={type("label")} />
      </div>
      {!props.loaded || !page ? <p>Loading…</p> : page.items.length === 0 ? <p>No applications match.</p> : (
        <>
          <table class="apps">
            <thead>
              <tr>{header("name", "Name")}{header("sync", "Sync")}{header("health", "Health")}<th>Revision</th>{header("project", "Project")}
                <th>Destination</th>{header("lastSync", "Last sync")}</tr>
            </thead>
            <tbody>
              {page.items.map((a) => (
                <tr key={a.name} data-app={a.name}>
                  <td data-label="Name"><a href={href.app(a.name)}>{a.name}</a>{a.deleting ? <span class="badge">Deleting</span> : null}</td>
                  <td data-label="Sync"><Status kind="sync" value={a.sync} /></td>
                  <td data-label="Health"><Status kind="health" value={a.health} title={a.healthMessage} /></td>
                  <td data-label="Revision"><code title={a.revision}>{shortRevision(a.revision)}</code> <span class="muted">({a.targetRevision})</span></td>
                  <td data-label="Project">{a.project}</td>
                  <td data-label="Destination">{a.destination.namespace ?? "-"}<span class="muted"> @ {a.destination.server ?? "in-cluster"}</span></td>
                  <td data-label="Last sync"><When at={a.lastSync} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled={offset === 0} onClick={() => go(offset - size)}>Previous</button>
            <span role="status" aria-label="Rows shown">{offset + 1}–{offset + page.items.length} of {page.matched}
              {page.matched !== page.total ? <span class="muted"> (of {page.total} applications)</span> : null}</span>
            <button type="button" disabled={offset + page.items.length >= page.matched} onClick={() => go(offset + size)}>Next</button>
          </nav>
        </>
      )}
      <AppSetList version={props.version ?? 0} />
    </main>
  );
}

/** The query without empty filters, so the URL (the stream's key) stays the same for the same list. */
function without(query: AppQuery): AppQuery {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== "" && v !== undefined));
}
