// Sign-in: through the identity provider when the agent has `oidc.config` ("Log in via <name>"), or a
// bearer token the cluster accepts (a ServiceAccount token from `kubectl create token`, or a project
// token from `tether proj role create-token`). Either is kept for this tab only.
import { useState } from "preact/hooks";
import { Message } from "./components.tsx";

export function Login(props: { error?: string | undefined; sso?: { name: string } | undefined; onSso: () => void; onToken: (token: string) => void }) {
  const [value, setValue] = useState("");
  return (
    <main class="login">
      <h1>Sign in to Tether</h1>
      {props.sso && <p><button type="button" class="primary sso" onClick={props.onSso}>Log in via {props.sso.name}</button></p>}
      <p>Paste a token the cluster accepts, for example from <code>kubectl create token NAME -n NAMESPACE</code>.
        What you may see and do follows that identity's RBAC on <code>applications.tether.dev</code>.</p>
      <Message error={props.error} />
      <form onSubmit={(e) => { e.preventDefault(); props.onToken(value); }}>
        <label for="token">Bearer token</label>
        <textarea id="token" rows={4} value={value} onInput={(e) => setValue(e.currentTarget.value)} autocomplete="off" spellcheck={false} />
        <button type="submit" class="primary" disabled={!value.trim()}>Sign in</button>
      </form>
    </main>
  );
}
