// The Tether web UI: sign in, then the applications list, an application's page and an object's
// views, all kept current by the agent's server-sent events.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { adoptTokenFromUrl, api, ApiError, publicSettings, signOutEverywhere, startSso, subscribe, token, type AppPage as ListPage, type AppQuery, type Session } from "./api.ts";
import { queryParams } from "../../agent/ui/view.ts";
import { AppList, PAGE_SIZE } from "./AppList.tsx";
import { AppPage } from "./AppPage.tsx";
import { Login } from "./Login.tsx";
import { ObjectView } from "./ObjectView.tsx";
import { Pipeline, PipelineList } from "./Pipeline.tsx";
import { useRoute } from "./router.ts";
import "./style.css";

interface Live {
  /** The page of the list the stream serves (the list's query, or the one app a page shows). */
  readonly page?: ListPage;
  /** Whether `page` answers a query of the list (not the one app of an app's page). */
  readonly listPage: boolean;
  readonly loaded: boolean;
  /** Bumped per application on each watch event: pages showing it load it again. */
  readonly versions: Readonly<Record<string, number>>;
  readonly connected: boolean;
}

function useLive(session: Session | undefined, query: AppQuery): Live {
  const [live, setLive] = useState<Live>({ loaded: false, listPage: false, versions: {}, connected: false });
  const key = queryParams(query);
  useEffect(() => {
    if (!session) return undefined;
    return subscribe(query, (e) => setLive((prev) => {
      if (e.event === "page") {
        const versions = { ...prev.versions };
        for (const a of e.data.items) versions[a.name] = (versions[a.name] ?? 0) + 1;
        return { ...prev, page: e.data, listPage: query.name === undefined, loaded: true, versions };
      }
      const name = e.data.name;
      const items = (prev.page?.items ?? []).flatMap((a) => (a.name !== name ? [a] : e.event === "app" ? [e.data] : []));
      const page = prev.page ? { ...prev.page, items } : prev.page;
      return { ...prev, ...(page ? { page } : {}), versions: { ...prev.versions, [name]: (prev.versions[name] ?? 0) + 1 } };
    }), (connected) => setLive((prev) => (prev.connected === connected ? prev : { ...prev, connected })));
    // The query is the key: a new filter, order or page opens a new stream.
  }, [session, key]);
  return live;
}

function App() {
  const [session, setSession] = useState<Session>();
  const [authError, setAuthError] = useState<string>();
  const [attempt, setAttempt] = useState(0);
  const [sso, setSso] = useState<{ name: string }>();
  useEffect(() => { publicSettings().then((s) => setSso(s.sso)).catch(() => undefined); }, []);
  const route = useRoute();
  const [listQuery, setListQuery] = useState<AppQuery>({ limit: PAGE_SIZE });
  // An app's and an object's page follow that one app; the other pages, the list's page.
  const live = useLive(session, route.page === "app" || route.page === "object" ? { name: route.name, limit: 1 } : listQuery);

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
      {route.page === "list" && <AppList page={live.listPage ? live.page : undefined} query={listQuery} onQuery={setListQuery} live={live.connected}
        loaded={live.loaded && live.listPage}
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
