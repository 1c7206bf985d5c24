// The Tether web UI: sign in, then the applications list, an application's page and an object's
// views, all kept current by the agent's server-sent events.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { adoptTokenFromUrl, api, ApiError, publicSettings, signOutEverywhere, startSso, subscribe, token, type AppSummary, type Session } from "./api.ts";
import { AppList } from "./AppList.tsx";
import { AppPage } from "./AppPage.tsx";
import { Login } from "./Login.tsx";
import { ObjectView } from "./ObjectView.tsx";
import { Pipeline, PipelineList } from "./Pipeline.tsx";
import { useRoute } from "./router.ts";
import "./style.css";

interface Live {
  readonly apps: readonly AppSummary[];
  readonly loaded: boolean;
  /** Bumped per application on each watch event: pages showing it load it again. */
  readonly versions: Readonly<Record<string, number>>;
  readonly connected: boolean;
}

function useLive(session: Session | undefined): Live {
  const [live, setLive] = useState<Live>({ apps: [], loaded: false, versions: {}, connected: false });
  useEffect(() => {
    if (!session) return undefined;
    return subscribe((e) => setLive((prev) => {
      if (e.event === "snapshot") {
        const versions = { ...prev.versions };
        for (const a of e.data.items) versions[a.name] = (versions[a.name] ?? 0) + 1;
        return { ...prev, apps: e.data.items, loaded: true, versions };
      }
      const name = e.data.name;
      const rest = prev.apps.filter((a) => a.name !== name);
      const apps = e.event === "app" ? [...rest, e.data].sort((a, b) => a.name.localeCompare(b.name)) : rest;
      return { ...prev, apps, versions: { ...prev.versions, [name]: (prev.versions[name] ?? 0) + 1 } };
    }), (connected) => setLive((prev) => (prev.connected === connected ? prev : { ...prev, connected })));
  }, [session]);
  return live;
}

function App() {
  const [session, setSession] = useState<Session>();
  const [authError, setAuthError] = useState<string>();
  const [attempt, setAttempt] = useState(0);
  const [sso, setSso] = useState<{ name: string }>();
  useEffect(() => { publicSettings().then((s) => setSso(s.sso)).catch(() => undefined); }, []);
  const route = useRoute();
  const live = useLive(session);

  useEffect(() => {
    if (!token.get()) return;
    api.session().then(setSession).catch((err: Error) => {
      if (err instanceof ApiError && err.status === 401) token.clear();
      setAuthError(err.message);
    });
  }, [attempt]);

  if (!session) {
    return <Login error={authError} sso={sso} onSso={startSso} onToken={(t) => { token.set(t); setAuthError(undefined); setAttempt(attempt + 1); }} />;
  }
  const signOut = () => { void signOutEverywhere().then(() => setSession(undefined)); };
  return (
    <>
      <header class="top">
        <a href="#/" class="brand">Tether</a>
        <a href="#/pipelines" class="nav">Pipelines</a>
        <span class="user" title={`namespace ${session.namespace}`}>{session.user}</span>
        <button type="button" onClick={signOut}>Sign out</button>
      </header>
      {route.page === "list" && <AppList apps={live.apps} live={live.connected} loaded={live.loaded}
        version={Object.values(live.versions).reduce((sum, v) => sum + v, 0)} />}
      {route.page === "app" && <AppPage key={route.name} name={route.name} version={live.versions[route.name] ?? 0} />}
      {route.page === "object" && <ObjectView key={route.key} name={route.name} objectKey={route.key} version={live.versions[route.name] ?? 0} />}
      {route.page === "pipelines" && <PipelineList />}
      {route.page === "pipeline" && <Pipeline key={route.project} project={route.project} />}
    </>
  );
}

adoptTokenFromUrl();
const root = document.getElementById("root");
if (root) render(<App />, root);
