// The promotion pipelines (agent/promote): the projects, then one project's stages left to right, the
// Freight (image tags) each runs, whether it is verified there, and what each stage may take next with a
// Promote button. Polled every few seconds: promotion objects have no watch stream of their own.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type FreightSummary, type PipelineView, type StageSummary } from "./api.ts";
import { Confirm, Message, Status, When } from "./components.tsx";
import { href } from "./router.ts";

const POLL_MS = 3000;

function usePolled<T>(load: () => Promise<T>, deps: readonly unknown[]): { data?: T; error?: string; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then((data) => live && setState({ data }), (err: Error) => live && setState((s) => ({ ...s, error: err.message })));
    const timer = setTimeout(() => setTick((t) => t + 1), POLL_MS);
    return () => { live = false; clearTimeout(timer); };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function PipelineList() {
  const { data, error } = usePolled(() => api.pipelines(), []);
  return (
    <main>
      <div class="page-head"><h1>Promotion pipelines</h1></div>
      <Message error={error} />
      {!data ? <p>Loading…</p> : data.length === 0 ? <p>No promotion projects (kind: Project) in the cluster.</p> : (
        <ul class="pipelines">
          {data.map((p) => <li key={p.name}><a href={href.pipeline(p.name)}>{p.name}</a> <span class="muted">{p.stages} stages</span></li>)}
        </ul>
      )}
    </main>
  );
}

export function Pipeline(props: { project: string }) {
  const { data, error, reload } = usePolled(() => api.pipeline(props.project), [props.project]);
  const [asked, setAsked] = useState<{ stage: StageSummary; freight: FreightSummary }>();
  const [result, setResult] = useState<{ error?: string; info?: string }>({});
  const promote = () => {
    if (!asked) return;
    const { stage, freight } = asked;
    setAsked(undefined);
    api.promote(props.project, stage.name, freight.name).then(
      (r) => { setResult({ info: `Promotion ${r.promotion}: ${freight.alias} to ${stage.name} requested` }); reload(); },
      (err: Error) => setResult({ error: err instanceof ApiError && err.status === 403 ? `Not allowed: ${err.message}` : err.message }),
    );
  };
  return (
    <main>
      <div class="page-head"><h1>Pipeline {props.project}</h1> <a href={href.pipelines()}>All pipelines</a></div>
      <Message error={result.error ?? error} info={result.info} />
      {!data ? <p>Loading…</p> : <Stages view={data} onPromote={(stage, freight) => setAsked({ stage, freight })} />}
      {asked && (
        <Confirm title={`Promote to ${asked.stage.name}?`} confirmLabel="Promote" onConfirm={promote} onClose={() => setAsked(undefined)}>
          <p>Freight <strong>{asked.freight.alias}</strong> ({asked.freight.images.map((i) => `${i.repoURL}:${i.tag}`).join(", ")}) is written to
            stage {asked.stage.name}'s branch, and its Applications are synced.</p>
        </Confirm>
      )}
    </main>
  );
}

function Stages(props: { view: PipelineView; onPromote: (stage: StageSummary, freight: FreightSummary) => void }) {
  if (props.view.stages.length === 0) return <p>No stages in this project.</p>;
  return (
    <ol class="pipeline" aria-label="Stages">
      {props.view.stages.map((s) => (
        <li key={s.name} class="stage" data-stage={s.name} aria-label={`Stage ${s.name}`}>
          <h2>{s.name}</h2>
          <p class="muted">{s.source} · {s.autoPromotion ? "auto-promotion" : "manual promotion"}</p>
          <p><Status kind="health" value={s.health} title={s.healthIssues.join("; ") || undefined} /> <Status kind="phase" value={s.phase} /></p>
          <section class="current" aria-label="Current freight">
            {s.current ? (
              <>
                <strong data-testid="current-freight">{s.current.alias}</strong>{" "}
                <span class={`badge ${s.current.verified ? "s-Healthy" : "s-Progressing"}`}>{s.current.verified ? "verified" : "verifying"}</span>
                <p class="muted"><code title={s.current.name}>{s.current.name.slice(0, 7)}</code> promoted <When at={s.current.promotedAt} /></p>
              </>
            ) : <span class="muted">no Freight yet</span>}
          </section>
          {s.healthIssues.length > 0 && <ul class="issues">{s.healthIssues.map((i) => <li key={i}>{i}</li>)}</ul>}
          <section aria-label="Available freight">
            <h3>Available</h3>
            {s.available.length === 0 ? <p class="muted">{s.upstream.length ? `nothing new verified in ${s.upstream.join(", ")}` : "nothing new from the Warehouse"}</p> : (
              <ul class="available">
                {s.available.slice(0, 5).map((f) => (
                  <li key={f.name}>
                    <span>{f.alias}</span>{" "}
                    <button type="button" class="primary" aria-label={`Promote ${f.alias} to ${s.name}`} onClick={() => props.onPromote(s, f)}>Promote</button>
                  </li>
                ))}
              </ul>
            )}
          </section>
          {s.lastPromotion && (
            <p class="muted" data-testid="last-promotion">Last promotion: {s.lastPromotion.phase}{s.lastPromotion.phase === "Failed" ? `: ${s.lastPromotion.message}` : ""}</p>
          )}
        </li>
      ))}
    </ol>
  );
}
