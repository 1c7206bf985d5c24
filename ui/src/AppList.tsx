// The applications list: sync, health, revision, project, destination and last sync, with filters
// and search; kept current by the agent's watch (no polling).
import { useMemo, useState } from "preact/hooks";
import { matches, type AppFilter } from "../../agent/ui/view.ts";
import type { AppSummary } from "./api.ts";
import { Status, When, shortRevision } from "./components.tsx";
import { href } from "./router.ts";
import { AppSetList } from "./AppSetList.tsx";

const SYNC = ["Synced", "OutOfSync", "Unknown"];
const HEALTH = ["Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"];

export function AppList(props: { apps: readonly AppSummary[]; live: boolean; loaded: boolean; version?: number }) {
  const [filter, setFilter] = useState<AppFilter>({});
  const projects = useMemo(() => [...new Set(props.apps.map((a) => a.project))].sort(), [props.apps]);
  const shown = props.apps.filter((a) => matches(a, filter));
  const set = (field: keyof AppFilter) => (e: Event) => setFilter({ ...filter, [field]: (e.currentTarget as HTMLInputElement).value });
  return (
    <main>
      <div class="page-head">
        <h1>Applications</h1>
        <span class={`live ${props.live ? "on" : "off"}`} role="status" aria-label={props.live ? "Live updates on" : "Live updates reconnecting"}>
          {props.live ? "● Live" : "○ Reconnecting"}
        </span>
      </div>
      <div class="filters" role="search">
        <input type="search" placeholder="Search name, repository, namespace" aria-label="Search applications" value={filter.search ?? ""} onInput={set("search")} />
        <select aria-label="Filter by project" value={filter.project ?? ""} onChange={set("project")}>
          <option value="">All projects</option>
          {projects.map((p) => <option key={p} value={p}>{p}</option>)}
        </select>
        <select aria-label="Filter by sync status" value={filter.sync ?? ""} onChange={set("sync")}>
          <option value="">Any sync status</option>
          {SYNC.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <select aria-label="Filter by health" value={filter.health ?? ""} onChange={set("health")}>
          <option value="">Any health</option>
          {HEALTH.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <input type="text" placeholder="label: key=value" aria-label="Filter by label" value={filter.label ?? ""} onInput={set("label")} />
      </div>
      {!props.loaded ? <p>Loading…</p> : shown.length === 0 ? <p>No applications match.</p> : (
        <table class="apps">
          <thead>
            <tr><th>Name</th><th>Sync</th><th>Health</th><th>Revision</th><th>Project</th><th>Destination</th><th>Last sync</th></tr>
          </thead>
          <tbody>
            {shown.map((a) => (
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
      )}
      <AppSetList version={props.version ?? 0} />
    </main>
  );
}
