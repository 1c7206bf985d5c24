// One object of an application: its live manifest (Secret values masked by the agent), its diff
// against Git, its events and, for a Pod, its log (optionally followed).
import { useEffect, useState } from "preact/hooks";
import { api, streamLogs, type EventView, type ObjectDiffView, type ResourceActionView } from "./api.ts";
import { Message, When } from "./components.tsx";
import { href } from "./router.ts";

type Tab = "manifest" | "diff" | "events" | "logs";

function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): { value?: T; error?: string } {
  const [state, setState] = useState<{ value?: T; error?: string }>({});
  useEffect(() => {
    let current = true;
    setState({});
    load().then((value) => { if (current) setState({ value }); }).catch((err: Error) => { if (current) setState({ error: err.message }); });
    return () => { current = false; };
  }, deps);
  return state;
}

export function ObjectView(props: { name: string; objectKey: string; version: number }) {
  const [group, version, kind = "", namespace, objName = ""] = props.objectKey.split("/");
  void group; void version;
  const [tab, setTab] = useState<Tab>("manifest");
  const tabs: Tab[] = kind === "Pod" ? ["manifest", "diff", "events", "logs"] : ["manifest", "diff", "events"];
  return (
    <main>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.list()}>Applications</a> / <a href={href.app(props.name)}>{props.name}</a> / <span>{kind}/{objName}</span>
      </nav>
      <div class="page-head"><h1>{kind} {namespace ? `${namespace}/` : ""}{objName}</h1></div>
      <Actions name={props.name} objectKey={props.objectKey} />
      <div class="tabs" role="tablist" aria-label="Object views">
        {tabs.map((t) => <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>{NAMES[t]}</button>)}
      </div>
      <section role="tabpanel" aria-label={NAMES[tab]}>
        {tab === "manifest" && <Manifest name={props.name} objectKey={props.objectKey} version={props.version} />}
        {tab === "diff" && <DiffList load={() => api.diff(props.name)} only={props.objectKey} />}
        {tab === "events" && <EventList load={() => api.events(props.name, props.objectKey)} />}
        {tab === "logs" && <Logs name={props.name} objectKey={props.objectKey} />}
      </section>
    </main>
  );
}

const NAMES: Record<Tab, string> = { manifest: "Live manifest", diff: "Diff", events: "Events", logs: "Logs" };

function Manifest(props: { name: string; objectKey: string; version: number }) {
  const { value, error } = useLoad(() => api.manifest(props.name, props.objectKey), [props.name, props.objectKey, props.version]);
  if (error) return <Message error={error} />;
  if (value === undefined) return <p>Loading…</p>;
  return value ? <pre class="code" aria-label="Live manifest">{value}</pre> : <p>The object does not exist in the cluster.</p>;
}

/** The differing objects of the application (or only `only`), each as a unified diff from live to Git. */
export function DiffList(props: { load: () => Promise<ObjectDiffView[]>; only?: string }) {
  const { value, error } = useLoad(props.load, [props.only]);
  if (error) return <Message error={error} />;
  if (!value) return <p>Comparing Git with the cluster…</p>;
  const items = props.only ? value.filter((d) => d.key === props.only) : value;
  if (!items.length) return <p role="status">No differences: the cluster equals Git.</p>;
  return (
    <div class="diffs">
      {items.map((d) => (
        <section key={d.key} class="diff" aria-label={`Diff of ${d.name}`}>
          <h3>{d.name} <span class="badge">{CHANGE[d.change]}</span></h3>
          <pre class="code">{d.diff.split("\n").map((line, i) => (
            <span key={i} class={line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : line.startsWith("@@") ? "hunk" : ""}>{line || " "}</span>
          ))}</pre>
        </section>
      ))}
    </div>
  );
}

const CHANGE: Record<ObjectDiffView["change"], string> = { create: "to create", update: "differs", prune: "left Git" };

export function EventList(props: { load: () => Promise<EventView[]> }) {
  const { value, error } = useLoad(props.load, []);
  if (error) return <Message error={error} />;
  if (!value) return <p>Loading…</p>;
  if (!value.length) return <p>No events.</p>;
  return (
    <table class="events">
      <thead><tr><th>Type</th><th>Reason</th><th>Message</th><th>Count</th><th>Last seen</th></tr></thead>
      <tbody>
        {value.map((e, i) => (
          <tr key={i} class={e.type === "Warning" ? "warning" : ""}>
            <td data-label="Type">{e.type}</td><td data-label="Reason">{e.reason}</td><td data-label="Message">{e.message}</td>
            <td data-label="Count">{e.count}</td><td data-label="Last seen"><When at={e.lastTimestamp} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Logs(props: { name: string; objectKey: string }) {
  const [follow, setFollow] = useState(true);
  const [lines, setLines] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    setLines([]);
    setError(undefined);
    return streamLogs({ app: props.name, key: props.objectKey, follow }, (line) => setLines((prev) => [...prev.slice(-1999), line]), setError);
  }, [props.name, props.objectKey, follow]);
  return (
    <div>
      <label><input type="checkbox" checked={follow} onChange={() => setFollow(!follow)} /> Follow</label>
      <Message error={error} />
      <pre class="code logs" aria-label="Pod log" aria-live="polite">{lines.join("\n") || (error ? "" : "No log lines yet.")}</pre>
    </div>
  );
}

/** The object's resource actions (restart, scale, suspend…) as buttons; one with parameters asks for them first. */
function Actions(props: { name: string; objectKey: string }) {
  const { value, error } = useLoad(() => api.actions(props.name, props.objectKey), [props.name, props.objectKey]);
  const [status, setStatus] = useState<{ message?: string; error?: string }>({});
  // A tether-cm discovery.lua that fails is shown, not hidden: its message names the key to fix.
  if (error) return <Message error={error} />;
  if (!value?.length) return null;
  const run = (a: ResourceActionView) => {
    const params: Record<string, string> = {};
    for (const p of a.params ?? []) {
      const given = window.prompt(`${a.name}: ${p.name}`, p.default ?? "");
      if (given === null) return;
      params[p.name] = given;
    }
    if (!window.confirm(`Run ${a.name} on ${props.objectKey.split("/").slice(2).join("/")}?`)) return;
    api.runAction(props.name, props.objectKey, a.name, params)
      .then((r) => setStatus({ message: `Ran ${r.message}` }), (err: Error) => setStatus({ error: err.message }));
  };
  return (
    <div class="actions" role="group" aria-label="Resource actions">
      {value.map((a) => <button key={a.name} type="button" disabled={a.disabled} onClick={() => run(a)}>{a.displayName || a.name}</button>)}
      {status.message && <p role="status">{status.message}</p>}
      <Message error={status.error} />
    </div>
  );
}
