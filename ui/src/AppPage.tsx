// One application: its state, the buttons that drive it, and its objects as a tree or a list,
// its history (with rollback), events and diff.
import { useEffect, useState } from "preact/hooks";
import { api, type AppDetail, type TreeNode } from "./api.ts";
import { Confirm, Message, Status, When, shortRevision } from "./components.tsx";
import { DiffList, EventList } from "./ObjectView.tsx";
import { href } from "./router.ts";

type Tab = "tree" | "list" | "history" | "events" | "diff";
type Dialog = { kind: "sync" } | { kind: "delete" } | { kind: "rollback"; id: number; revision: string } | undefined;

/** Loads the application and its tree, again whenever `version` changes (a watch event for it). */
function useApp(name: string, version: number) {
  const [app, setApp] = useState<AppDetail>();
  const [nodes, setNodes] = useState<TreeNode[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let current = true;
    Promise.all([api.app(name), api.tree(name)])
      .then(([a, n]) => { if (current) { setApp(a); setNodes(n); setError(undefined); } })
      .catch((err: Error) => { if (current) setError(err.message); });
    return () => { current = false; };
  }, [name, version]);
  return { app, nodes, error };
}

export function AppPage(props: { name: string; version: number }) {
  const { app, nodes, error } = useApp(props.name, props.version);
  const [tab, setTab] = useState<Tab>("tree");
  const [dialog, setDialog] = useState<Dialog>();
  const [result, setResult] = useState<{ error?: string; info?: string }>({});
  if (!app) return <main><Message error={error} info={error ? undefined : "Loading…"} /></main>;

  const run = (what: string, action: () => Promise<unknown>) => {
    setDialog(undefined);
    setResult({ info: `${what}…` });
    action().then(() => setResult({ info: `${what}: requested; the agent picks it up within seconds.` }))
      .catch((err: Error) => setResult({ error: `${what} refused: ${err.message}` }));
  };

  return (
    <main>
      <nav class="crumbs" aria-label="Breadcrumb"><a href={href.list()}>Applications</a> / <span>{app.name}</span></nav>
      <div class="page-head">
        <h1>{app.name}</h1>
        <Status kind="sync" value={app.sync} />
        <Status kind="health" value={app.health} title={app.healthMessage} />
      </div>
      <div class="actions" role="toolbar" aria-label="Application actions">
        <button type="button" onClick={() => run("Refresh", () => api.refresh(app.name))} aria-label={`Refresh ${app.name}`}>Refresh</button>
        <button type="button" class="primary" onClick={() => setDialog({ kind: "sync" })} aria-label={`Sync ${app.name}`}>Sync</button>
        <button type="button" class="danger" onClick={() => setDialog({ kind: "delete" })} aria-label={`Delete ${app.name}`}>Delete</button>
      </div>
      <Message error={result.error ?? error} info={result.info} />
      <Facts app={app} />
      <Operation app={app} />
      <div class="tabs" role="tablist" aria-label="Views">
        {(["tree", "list", "history", "events", "diff"] as const).map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>{TAB_NAMES[t]}</button>
        ))}
      </div>
      <section role="tabpanel" aria-label={TAB_NAMES[tab]}>
        {tab === "tree" && <Tree app={app.name} nodes={nodes} />}
        {tab === "list" && <FlatList app={app.name} nodes={nodes} />}
        {tab === "history" && <History app={app} onRollback={(id, revision) => setDialog({ kind: "rollback", id, revision })} />}
        {tab === "events" && <EventList load={() => api.events(app.name)} />}
        {tab === "diff" && <DiffList load={() => api.diff(app.name)} />}
      </section>
      {dialog?.kind === "sync" && (
        <SyncDialog app={app} nodes={nodes} onClose={() => setDialog(undefined)}
          onSync={(opts) => run(opts.dryRun ? "Dry-run sync" : "Sync", () => api.sync(app.name, opts))} />
      )}
      {dialog?.kind === "delete" && (
        <DeleteDialog app={app} count={nodes.filter((n) => n.managed).length} onClose={() => setDialog(undefined)}
          onDelete={(cascade) => run("Delete", () => api.remove(app.name, cascade))} />
      )}
      {dialog?.kind === "rollback" && (
        <Confirm title={`Roll ${app.name} back`} confirmLabel="Roll back" danger onClose={() => setDialog(undefined)}
          onConfirm={() => run("Rollback", () => api.rollback(app.name, dialog.id))}>
          <p>Deploys revision <code>{shortRevision(dialog.revision)}</code> (history entry {dialog.id}) to namespace {app.destination.namespace ?? "default"}.</p>
          {app.automated
            ? <p><strong>Automated sync is turned off</strong> for {app.name}, so the agent does not move it straight back to {app.targetRevision}. Turn it on again in Git or with <code>tether app</code> when done.</p>
            : <p>Automated sync is already off; the application stays at this revision until the next manual sync.</p>}
          <p>Objects added after that revision are kept (no prune).</p>
        </Confirm>
      )}
    </main>
  );
}

const TAB_NAMES: Record<Tab, string> = { tree: "Tree", list: "List", history: "History", events: "Events", diff: "Diff" };

function Facts(props: { app: AppDetail }) {
  const a = props.app;
  return (
    <dl class="facts">
      <dt>Project</dt><dd>{a.project}</dd>
      <dt>Source</dt><dd><code>{a.repoURL}</code>{a.path ? <> path <code>{a.path}</code></> : null} @ {a.targetRevision}</dd>
      <dt>Revision</dt><dd><code title={a.revision}>{shortRevision(a.revision) || "-"}</code></dd>
      <dt>Destination</dt><dd>{a.destination.namespace ?? "default"} @ {a.destination.server ?? "in-cluster"}</dd>
      <dt>Sync policy</dt><dd>{a.automated ? `automated${a.prune ? ", prune" : ""}${a.selfHeal ? ", self-heal" : ""}` : "manual"}</dd>
      <dt>Last sync</dt><dd><When at={a.lastSync} /></dd>
    </dl>
  );
}

function Operation(props: { app: AppDetail }) {
  const { operationState: op, conditions, operationRequested } = props.app;
  return (
    <div class="operation">
      {operationRequested ? <p role="status">A sync has been requested and waits for the agent.</p> : null}
      {op ? (
        <p>Last operation: <Status kind="phase" value={op.phase} /> {op.message} <When at={op.finishedAt ?? op.startedAt} /></p>
      ) : null}
      {conditions.length ? (
        <ul class="conditions" aria-label="Conditions">
          {conditions.map((c) => <li key={c.type}><strong>{c.type}</strong>: {c.message}</li>)}
        </ul>
      ) : null}
    </div>
  );
}

function NodeLabel(props: { app: string; node: TreeNode }) {
  const n = props.node;
  const link = n.application ? href.app(n.application) : href.object(props.app, n.key);
  return (
    <span class={`node ${n.managed ? "managed" : "derived"}`} data-key={n.key}>
      <span class={`kind k-${n.ref.kind}`}>{n.ref.kind}</span>
      <a href={link} aria-label={`${n.ref.kind} ${n.ref.name}${n.application ? " (application)" : ""}`}>{n.ref.name}</a>
      {n.health ? <Status kind="health" value={n.health} title={n.healthMessage} /> : null}
      {n.sync ? <Status kind="sync" value={n.sync} /> : null}
      {n.hook ? <span class="badge hook" title="Sync hook">hook: {n.hook}</span> : null}
      {n.wave !== undefined ? <span class="badge wave" title="Sync wave">wave {n.wave}</span> : null}
    </span>
  );
}

/** Objects nested under their owners; an object owned twice shows under its first owner. */
function Tree(props: { app: string; nodes: readonly TreeNode[] }) {
  const keys = new Set(props.nodes.map((n) => n.key));
  const children = new Map<string, TreeNode[]>();
  const roots: TreeNode[] = [];
  for (const n of props.nodes) {
    const parent = n.parents.find((p) => keys.has(p));
    if (parent) children.set(parent, [...(children.get(parent) ?? []), n]);
    else roots.push(n);
  }
  const render = (list: readonly TreeNode[]) => (
    <ul role="group">
      {list.map((n) => (
        <li key={n.key} role="treeitem" aria-expanded={children.has(n.key) ? true : undefined}>
          <NodeLabel app={props.app} node={n} />
          {children.has(n.key) ? render(children.get(n.key) ?? []) : null}
        </li>
      ))}
    </ul>
  );
  if (!props.nodes.length) return <p>No objects yet.</p>;
  return <div class="tree" role="tree" aria-label="Resource tree">{render(roots)}</div>;
}

function FlatList(props: { app: string; nodes: readonly TreeNode[] }) {
  return (
    <table class="flat">
      <thead><tr><th>Kind</th><th>Namespace</th><th>Name</th><th>Sync</th><th>Health</th><th>Created</th></tr></thead>
      <tbody>
        {props.nodes.map((n) => (
          <tr key={n.key}>
            <td data-label="Kind">{n.ref.kind}{n.managed ? "" : " (created)"}</td>
            <td data-label="Namespace">{n.ref.namespace ?? "-"}</td>
            <td data-label="Name"><a href={n.application ? href.app(n.application) : href.object(props.app, n.key)}>{n.ref.name}</a></td>
            <td data-label="Sync">{n.sync ? <Status kind="sync" value={n.sync} /> : "-"}</td>
            <td data-label="Health">{n.health ? <Status kind="health" value={n.health} title={n.healthMessage} /> : "-"}</td>
            <td data-label="Created"><When at={n.createdAt} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function History(props: { app: AppDetail; onRollback: (id: number, revision: string) => void }) {
  if (!props.app.history.length) return <p>Nothing deployed yet.</p>;
  return (
    <table class="history">
      <thead><tr><th>ID</th><th>Revision</th><th>Deployed</th><th /></tr></thead>
      <tbody>
        {props.app.history.map((h) => {
          const current = h.revision === props.app.revision;
          return (
            <tr key={h.id}>
              <td data-label="ID">{h.id}</td>
              <td data-label="Revision"><code title={h.revision}>{shortRevision(h.revision)}</code>{current ? " (current)" : ""}</td>
              <td data-label="Deployed"><When at={h.deployedAt} /></td>
              <td>
                <button type="button" disabled={current} onClick={() => props.onRollback(h.id, h.revision)}
                  aria-label={`Roll back to history entry ${h.id}, revision ${shortRevision(h.revision)}`}>Rollback</button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function SyncDialog(props: { app: AppDetail; nodes: readonly TreeNode[]; onClose: () => void; onSync: (o: { prune: boolean; dryRun: boolean; resources: string[] }) => void }) {
  const [prune, setPrune] = useState(false);
  const [dryRun, setDryRun] = useState(false);
  const [picked, setPicked] = useState<string[]>([]);
  const managed = props.nodes.filter((n) => n.managed);
  const toggle = (key: string) => setPicked(picked.includes(key) ? picked.filter((k) => k !== key) : [...picked, key]);
  const scope = picked.length ? `${picked.length} selected object${picked.length === 1 ? "" : "s"}` : `all ${managed.length} objects`;
  return (
    <Confirm title={`Sync ${props.app.name}`} confirmLabel={dryRun ? "Dry run" : "Synchronize"} onClose={props.onClose}
      onConfirm={() => props.onSync({ prune, dryRun, resources: picked })}>
      <p>
        {dryRun ? "Compares" : "Applies"} Git at <code>{props.app.targetRevision}</code> to {scope} in namespace {props.app.destination.namespace ?? "default"}.
        {" "}{prune ? "Objects that left Git are deleted." : "Objects that left Git are kept."}
        {dryRun ? " Nothing in the cluster changes." : ""}
      </p>
      <label><input type="checkbox" checked={prune} onChange={() => setPrune(!prune)} /> Prune (delete objects that left Git)</label>
      <label><input type="checkbox" checked={dryRun} onChange={() => setDryRun(!dryRun)} /> Dry run</label>
      <fieldset>
        <legend>Objects (none selected: all)</legend>
        <div class="picklist">
          {managed.map((n) => (
            <label key={n.key}><input type="checkbox" checked={picked.includes(n.key)} onChange={() => toggle(n.key)} /> {n.ref.kind}/{n.ref.name}</label>
          ))}
        </div>
      </fieldset>
    </Confirm>
  );
}

function DeleteDialog(props: { app: AppDetail; count: number; onClose: () => void; onDelete: (cascade: boolean) => void }) {
  const [cascade, setCascade] = useState(props.app.cascadeDelete);
  return (
    <Confirm title={`Delete ${props.app.name}`} confirmLabel="Delete" danger onClose={props.onClose} onConfirm={() => props.onDelete(cascade)}>
      <label><input type="checkbox" checked={cascade} onChange={() => setCascade(!cascade)} /> Cascade: also delete the objects it deployed</label>
      <p>
        {cascade
          ? `Deletes the Application ${props.app.name} and the ${props.count} objects it deployed (objects marked Prune=false stay).`
          : `Deletes only the Application ${props.app.name}; the ${props.count} objects it deployed keep running, unmanaged.`}
        {" "}If its parent application still lists it in Git, the parent creates it again.
      </p>
    </Confirm>
  );
}
