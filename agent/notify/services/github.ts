// `service.github[.<name>]`: a commit status and/or a deployment (with its status) on the commit a
// notification is about, through GitHub's REST API: as a GitHub App (`appID`, `installationID`,
// `privateKey`: a JWT exchanged for an installation token, kept until it expires) as in Argo CD, or
// with a `token` (Tether's addition). `enterpriseBaseURL` points at GitHub Enterprise (`/api/v3/`
// appended as go-github does). The repository is the template's `github.repoURLPath` (default the
// app's repoURL), the commit its `github.revisionPath` (default the synced revision).
import { createSign } from "node:crypto";
import { fullNameByRepoURL } from "../helpers.ts";
import { block, field, type Notification } from "../render.ts";
import { expectOk, PermanentError, request } from "./http.ts";
import { options, type Sender } from "./options.ts";

/** go-github's WithEnterpriseURLs: the API lives under /api/v3/ unless the host is an api. host. */
export function githubApiBase(enterpriseBaseURL: string): string {
  if (enterpriseBaseURL === "") return "https://api.github.com/";
  const u = new URL(enterpriseBaseURL);
  if (!u.pathname.endsWith("/")) u.pathname += "/";
  if (!u.pathname.endsWith("/api/v3/") && !u.hostname.startsWith("api.") && !u.hostname.includes(".api.")) u.pathname += "api/v3/";
  return u.toString();
}

function appJwt(appID: string, privateKey: string, nowSeconds: number): string {
  const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const unsigned = `${enc({ alg: "RS256", typ: "JWT" })}.${enc({ iat: nowSeconds - 60, exp: nowSeconds + 540, iss: appID })}`;
  return `${unsigned}.${createSign("RSA-SHA256").update(unsigned).sign(privateKey).toString("base64url")}`;
}

const trunc = (s: string, n: number) => ([...s].length > n ? `${[...s].slice(0, n - 3).join("")}...` : s);

export function githubSender(service: string, raw: Readonly<Record<string, unknown>>): Sender {
  const key = `service.github${service === "github" ? "" : `.${service}`}`;
  const o = options(key, raw);
  const base = githubApiBase(o.string("enterpriseBaseURL"));
  const token = o.string("token");
  const app = { id: o.string("appID"), installation: o.string("installationID"), key: o.string("privateKey") };
  if (token === "" && (app.id === "" || app.installation === "" || app.key === "")) {
    throw new Error(`${key}: set appID, installationID and privateKey (a GitHub App), or token`);
  }
  const insecureSkipVerify = o.bool("insecureSkipVerify");
  let installation: { token: string; expires: number } | undefined;

  const authorization = async (signal: AbortSignal): Promise<string> => {
    if (token !== "") return `Bearer ${token}`;
    if (installation && installation.expires - 60_000 > Date.now()) return `Bearer ${installation.token}`;
    let jwt: string;
    try {
      jwt = appJwt(app.id, app.key, Math.floor(Date.now() / 1000));
    } catch {
      throw new PermanentError(`${key}: privateKey is not a PEM RSA private key`);
    }
    const req = { method: "POST", url: `${base}app/installations/${app.installation}/access_tokens`, signal, insecureSkipVerify,
      headers: { authorization: `Bearer ${jwt}`, accept: "application/vnd.github+json", "user-agent": "tether" } };
    const res = expectOk(await request(req), req);
    const body = JSON.parse(res.body) as { token?: string; expires_at?: string };
    if (typeof body.token !== "string") throw new Error(`${key}: GitHub gave no installation token`);
    installation = { token: body.token, expires: Date.parse(body.expires_at ?? "") || Date.now() + 600_000 };
    return `Bearer ${installation.token}`;
  };

  return async (n: Notification, _dest, signal: AbortSignal) => {
    if (block(n, "github") === undefined) throw new PermanentError("the template has no github block (github.status or github.deployment)");
    const repo = fullNameByRepoURL(field(n, "github.repoURLPath"));
    const revision = field(n, "github.revisionPath");
    if (!repo.includes("/")) throw new PermanentError(`github.repoURLPath (${field(n, "github.repoURLPath")}) does not name owner/repo`);
    if (revision === "") throw new PermanentError("github.revisionPath rendered empty: the notification is about no commit");
    const call = async (method: string, path: string, body?: object): Promise<unknown> => {
      const req = { method, url: `${base}repos/${repo}/${path}`, signal, insecureSkipVerify,
        headers: { authorization: await authorization(signal), accept: "application/vnd.github+json", "content-type": "application/json", "user-agent": "tether" },
        ...(body ? { body: JSON.stringify(body) } : {}) };
      const res = await request(req);
      if (res.status === 422 && path.startsWith("statuses/")) throw new PermanentError(`too many commit statuses for sha ${revision}`);
      return JSON.parse(expectOk(res, req).body || "null") as unknown;
    };
    const description = trunc(n.message, 140);
    const status = block(n, "github.status");
    if (status) {
      await call("POST", `statuses/${revision}`, {
        state: field(n, "github.status.state"), description, context: field(n, "github.status.label"), target_url: field(n, "github.status.targetURL"),
      });
    }
    if (block(n, "github.deployment")) await deploy(n, { call, revision, description });
  };
}

async function deploy(n: Notification, o: { call: (m: string, p: string, b?: object) => Promise<unknown>; revision: string; description: string }) {
  const d = block(n, "github.deployment") ?? {};
  const environment = field(n, "github.deployment.environment");
  const found = await o.call("GET", `deployments?ref=${encodeURIComponent(o.revision)}&environment=${encodeURIComponent(environment)}`);
  let id = Array.isArray(found) && found.length > 0 ? (found[0] as { id?: number }).id : undefined;
  if (id === undefined) {
    const created = await o.call("POST", "deployments", {
      ref: field(n, "github.deployment.reference") || o.revision, environment,
      required_contexts: Array.isArray(d.requiredContexts) ? d.requiredContexts : [],
      auto_merge: typeof d.autoMerge === "boolean" ? d.autoMerge : true,
      transient_environment: typeof d.transientEnvironment === "boolean" ? d.transientEnvironment : false,
    }) as { id?: number };
    id = created.id;
  }
  if (id === undefined) throw new Error("GitHub created a deployment without an id");
  await o.call("POST", `deployments/${id}/statuses`, {
    state: field(n, "github.deployment.state"), log_url: field(n, "github.deployment.logURL"), description: o.description,
    environment, environment_url: field(n, "github.deployment.environmentURL"),
  });
}
