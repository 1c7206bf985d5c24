// The ApplicationSets under the applications list: each set, whether it is up to date (or why not),
// and a link to every Application it generated. Loaded again whenever an application changes.
import { useEffect, useState } from "preact/hooks";
import { api, type AppSetSummary } from "./api.ts";
import { Message, Status } from "./components.tsx";
import { href } from "./router.ts";

export function AppSetList(props: { version: number }) {
  const [sets, setSets] = useState<readonly AppSetSummary[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api.appsets().then((s) => { setSets(s); setError(undefined); }, (err: Error) => setError(err.message));
  }, [props.version]);
  if (error) return <section class="appsets"><h2>ApplicationSets</h2><Message error={error} /></section>;
  if (!sets || sets.length === 0) return null;
  return (
    <section class="appsets" aria-label="ApplicationSets">
      <h2>ApplicationSets</h2>
      <table class="apps">
        <thead>
          <tr><th>Name</th><th>Generators</th><th>Up to date</th><th>Applications</th><th>Message</th></tr>
        </thead>
        <tbody>
          {sets.map((s) => (
            <tr key={s.name} data-appset={s.name}>
              <td data-label="Name">{s.name}{s.strategy === "RollingSync" ? <span class="badge">RollingSync</span> : null}</td>
              <td data-label="Generators">{s.generators.join(", ")}</td>
              <td data-label="Up to date">{s.upToDate}</td>
              <td data-label="Applications">
                {s.applications.length === 0 ? <span class="muted">none</span> : (
                  <ul class="appset-apps">
                    {s.applications.map((a) => (
                      <li key={a.name}>
                        <a href={href.app(a.name)}>{a.name}</a> <Status kind="sync" value={a.sync} /> <Status kind="health" value={a.health} />
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td data-label="Message">{s.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
