// Single sign-on with Argo CD's `oidc.config` (in ConfigMap `tether-cm`): the authorization code flow with
// PKCE, state and nonce against the provider's discovery document, the id token verified against its JWKS
// (openid-client, a certified relying party), then a session the agent signs (agent/rbac/tokens.ts) holding
// the claims RBAC reads. The login's state travels in a short-lived signed cookie, so any replica can
// finish a login another started.
import * as client from "openid-client";
import { SignJWT, jwtVerify } from "jose";
import { parse as parseYaml } from "yaml";
import { TetherError } from "../errors.ts";
import { signSession, type SigningKeys } from "../rbac/tokens.ts";

/** A login that cannot go on: the HTTP status to answer (401 refused, 502 provider unreachable) and why. */
export class SsoError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** The provider's own words for a failed exchange (its error and description), else the client's message. */
function oidcReason(err: unknown): string {
  if (err instanceof client.ResponseBodyError) return `${err.error}${err.error_description ? `: ${err.error_description}` : ""}`;
  if (err instanceof client.WWWAuthenticateChallengeError) {
    const p = err.cause[0]?.parameters;
    if (p?.error) return `${p.error}${p.error_description ? `: ${p.error_description}` : ""}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** `oidc.config` with Argo CD's keys, its secret references resolved. */
export interface OidcSettings {
  /** Shown on the login button: "Log in via <name>". */
  readonly name: string;
  readonly issuer: string;
  readonly clientID: string;
  readonly clientSecret?: string;
  readonly requestedScopes: readonly string[];
  /** Argo's `requestedIDTokenClaims`, sent as the `claims` request parameter (e.g. groups essential). */
  readonly requestedIDTokenClaims?: Readonly<Record<string, unknown>>;
  readonly logoutURL?: string;
  /** The agent's external URL (`url` in tether-cm): the redirect URI is `<url>/auth/callback`. */
  readonly url: string;
  /** The claims copied into the session for RBAC: `scopes` of tether-rbac-cm plus email and name. */
  readonly sessionClaims: readonly string[];
}

const CM = "tether-cm";

/**
 * Reads `url` and `oidc.config` from tether-cm data; undefined when SSO is not configured. `clientSecret`
 * may be `$key` (key of Secret tether-secret) or `$secret:key`, as Argo's `$oidc.clientSecret` references.
 */
export async function oidcSettingsFrom(
  data: Readonly<Record<string, string>> | undefined,
  resolveSecret: (secret: string, key: string) => Promise<string | undefined>,
  scopes: readonly string[] = ["groups"],
): Promise<OidcSettings | undefined> {
  const raw = data?.["oidc.config"];
  if (raw === undefined || raw.trim() === "") return undefined;
  const bad = (why: string) => new TetherError("InvalidSpecError", `${CM} oidc.config: ${why}`, { retryable: false });
  let cfg: Record<string, unknown>;
  try {
    cfg = parseYaml(raw) as Record<string, unknown>;
  } catch (err) {
    throw bad(`not YAML (${(err as Error).message.split("\n")[0] ?? ""}): fix the block`);
  }
  if (typeof cfg !== "object" || cfg === null) throw bad("not a YAML mapping of name, issuer, clientID, ...");
  const str = (k: string) => { const v = cfg[k]; return typeof v === "string" ? v.trim() : undefined; };
  const issuer = str("issuer");
  const clientID = str("clientID");
  if (!issuer) throw bad("issuer is missing: set the provider's issuer URL");
  if (!clientID) throw bad("clientID is missing: set the client ID registered with the provider");
  const url = data?.url?.trim() ?? "";
  if (url === "") throw bad(`'url' (the agent's external URL, e.g. https://tether.example.com) is missing in ${CM}: the redirect URI is <url>/auth/callback`);
  const clientSecret = await secretOf(str("clientSecret"), resolveSecret, bad);
  const requestedScopes = stringList(cfg.requestedScopes) ?? ["openid", "profile", "email"];
  if (!requestedScopes.includes("openid")) throw bad("requestedScopes must include openid");
  const claims = cfg.requestedIDTokenClaims;
  const logoutURL = str("logoutURL");
  return {
    name: str("name") ?? "SSO", issuer, clientID, url: url.replace(/\/+$/, ""), requestedScopes,
    ...(clientSecret ? { clientSecret } : {}),
    ...(claims && typeof claims === "object" ? { requestedIDTokenClaims: claims as Record<string, unknown> } : {}),
    ...(logoutURL ? { logoutURL } : {}),
    sessionClaims: [...new Set([...scopes, "email", "name", "preferred_username"])],
  };
}

const stringList = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((s): s is string => typeof s === "string") ? v : undefined);

/** `clientSecret` as written, or the Secret value a `$key` / `$secret:key` reference names. */
async function secretOf(value: string | undefined, resolve: (secret: string, key: string) => Promise<string | undefined>, bad: (why: string) => Error): Promise<string | undefined> {
  if (!value?.startsWith("$")) return value;
  const ref = value.slice(1);
  const colon = ref.indexOf(":");
  const [secret, key] = colon >= 0 ? [ref.slice(0, colon), ref.slice(colon + 1)] : ["tether-secret", ref];
  const resolved = await resolve(secret, key);
  if (resolved === undefined) throw bad(`clientSecret refers to key ${key} of Secret ${secret}, which is missing: create it in the agent's namespace`);
  return resolved;
}

const STATE_TYP = "oidc-state";

/**
 * The return path of a login `tether login --sso` started (`/auth/cli?port=P&challenge=C`): the session goes
 * to the CLI's loopback listener as a one-time code, never to a browser, and carries `cli: true` so the API
 * takes it without the browser's CSRF token.
 */
export const CLI_RETURN = "/auth/cli";
const STATE_SECONDS = 600;

/** What the browser brings back: the cookie set by `begin` (signed) and the provider's redirect. */
export interface LoginStart {
  readonly location: string;
  /** The value of the short-lived state cookie (a JWT the agent signed: state, PKCE verifier, nonce, return path). */
  readonly stateCookie: string;
  readonly maxAgeSeconds: number;
}

export interface LoginDone {
  readonly session: string;
  readonly subject: string;
  readonly returnTo: string;
  readonly maxAgeSeconds: number;
}

/** A loopback issuer may use plain HTTP (a provider on 127.0.0.1 in tests or a port-forward); others need HTTPS. */
function loopback(url: URL): boolean {
  return url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]";
}

/** Logins against one provider; discovery is done once and kept. */
export class OidcLogin {
  private config: Promise<client.Configuration> | undefined;

  constructor(
    readonly settings: OidcSettings,
    private readonly keys: () => Promise<SigningKeys>,
    private readonly sessionSeconds = 24 * 3600,
  ) {}

  get redirectUri(): string {
    return `${this.settings.url}/auth/callback`;
  }

  private discover(): Promise<client.Configuration> {
    this.config ??= (async () => {
      const issuer = new URL(this.settings.issuer);
      const auth = this.settings.clientSecret ? client.ClientSecretBasic(this.settings.clientSecret) : client.None();
      const options = loopback(issuer) ? { execute: [client.allowInsecureRequests] } : undefined;
      try {
        return await client.discovery(issuer, this.settings.clientID, undefined, auth, options);
      } catch (err) {
        this.config = undefined;
        throw new SsoError(502, `the OIDC issuer ${this.settings.issuer} did not answer its discovery document (${(err as Error).message}): check oidc.config issuer and that the agent can reach it`);
      }
    })();
    return this.config;
  }

  /** The redirect to the provider, and the state cookie that must come back with it. */
  async begin(returnTo: string): Promise<LoginStart> {
    const config = await this.discover();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const params: Record<string, string> = {
      redirect_uri: this.redirectUri, scope: this.settings.requestedScopes.join(" "), state, nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
    };
    if (this.settings.requestedIDTokenClaims) params.claims = JSON.stringify({ id_token: this.settings.requestedIDTokenClaims });
    const keys = await this.keys();
    const now = Math.floor(Date.now() / 1000);
    const stateCookie = await new SignJWT({ typ: STATE_TYP, state, verifier, nonce, returnTo: safeReturn(returnTo) })
      .setProtectedHeader({ alg: "HS256" }).setIssuedAt(now).setExpirationTime(now + STATE_SECONDS).sign(keys.current);
    return { location: client.buildAuthorizationUrl(config, params).href, stateCookie, maxAgeSeconds: STATE_SECONDS };
  }

  /** Exchanges the provider's code for tokens, verifies the id token, and signs the session. */
  async finish(callback: URL, stateCookie: string | undefined): Promise<LoginDone> {
    if (callback.searchParams.has("error")) {
      throw new SsoError(401, `the provider refused the login: ${callback.searchParams.get("error")} ${callback.searchParams.get("error_description") ?? ""}`.trim());
    }
    if (!stateCookie) throw new SsoError(401, "the login's state cookie is missing (it lasts 10 minutes and only in the browser that started the login): log in again");
    const keys = await this.keys();
    let saved: { state: string; verifier: string; nonce: string; returnTo: string };
    try {
      const { payload } = await jwtVerify(stateCookie, keys.current, { algorithms: ["HS256"] });
      if (payload.typ !== STATE_TYP) throw new Error("not a login state");
      saved = payload as unknown as typeof saved;
    } catch {
      throw new SsoError(401, "the login's state cookie is not valid or expired: log in again");
    }
    const config = await this.discover();
    const current = new URL(this.redirectUri);
    for (const [k, v] of callback.searchParams) current.searchParams.set(k, v);
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: saved.verifier, expectedState: saved.state, expectedNonce: saved.nonce, idTokenExpected: true,
      });
    } catch (err) {
      throw new SsoError(401, `the login could not be completed: ${oidcReason(err)}`);
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw new SsoError(401, "the provider returned no id token: add openid to requestedScopes");
    const claims: Record<string, unknown> = {};
    for (const k of this.settings.sessionClaims) if (idClaims[k] !== undefined) claims[k] = idClaims[k];
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.sessionSeconds;
    if (saved.returnTo.startsWith(`${CLI_RETURN}?`)) claims.cli = true;
    const session = await signSession(keys, { sub: idClaims.sub, claims, iat: now, exp });
    return { session, subject: idClaims.sub, returnTo: saved.returnTo, maxAgeSeconds: exp - now };
  }
}

/** Only a path of this site (`/ui/...`), never another origin or a protocol-relative `//host`. */
export function safeReturn(returnTo: string): string {
  return /^\/(?![/\\])[^\s]*$/.test(returnTo) ? returnTo : "/ui/";
}
