// The agent's side of SSO and Argo CD's RBAC, at the I/O edge: it reads `tether-cm` (`url`, `oidc.config`,
// from the agent's settings watch), `tether-rbac-cm`, the signing key Secret `tether-server-key` (created on first use) and AppProjects, and
// answers the UI's questions: who is behind a token the agent signed, may they do this, and the login.
// Kubernetes identities (TokenReview) never come here: they keep SubjectAccessReview (agent/ui/auth.ts).
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { AppProject } from "../api/types.ts";
import type { TetherClient } from "../api/client.ts";
import { KubeApiError, pathSegment, type KubeHttp } from "../apply/http.ts";
import { RBAC_CONFIGMAP, RbacEnforcer, groupsOf, rbacSettingsFrom, type RbacRequest, type RbacSettings } from "../rbac/rbac.ts";
import { TokenRefused, isTetherToken, loadOrCreateKeys, verifyToken, type SigningKeys } from "../rbac/tokens.ts";
import { SETTINGS_CONFIGMAP } from "../settings/index.ts";
import { OidcLogin, oidcSettingsFrom, type LoginDone, type LoginStart } from "./oidc.ts";


/** Who a token the agent signed stands for: an SSO user (with the claims RBAC reads) or a project role. */
export interface SsoIdentity {
  readonly subject: string;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly groups: readonly string[];
  readonly kind: "session" | "project";
  /** The token's id, for logout. */
  readonly jti?: string;
  /** A token that never lives in a browser (a project token, a `tether login --sso` session): no CSRF token needed. */
  readonly cli: boolean;
}

/** A `tether login --sso` session waiting for its CLI: one use, a minute, only with the PKCE verifier. */
interface CliCode {
  readonly session: string;
  readonly challenge: string;
  readonly subject: string;
  readonly expires: number;
}

const CLI_CODE_MS = 60_000;

/** Refused, with the HTTP status to answer and a message safe to show. */
export class SsoRefused extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

const TTL_MS = 2_000;

export class SsoService {
  private cached: { at: number; rbac: Record<string, string> | undefined } | undefined;
  private login: { config: string; login: OidcLogin } | undefined;
  private enforcer: { key: string; enforcer: RbacEnforcer; projects: Map<string, AppProject> } | undefined;
  private keys: Promise<SigningKeys> | undefined;
  /** Sessions logged out before they expire (by token id); bounded, sessions expire anyway. */
  private readonly revoked = new Set<string>();
  private readonly cliCodes = new Map<string, CliCode>();

  private readonly http: KubeHttp;
  private readonly client: TetherClient;
  private readonly namespace: string;
  private readonly tetherCm: () => Readonly<Record<string, string>>;

  constructor(deps: { http: KubeHttp; client: TetherClient; namespace: string; tetherCm: () => Readonly<Record<string, string>> }) {
    ({ http: this.http, client: this.client, namespace: this.namespace, tetherCm: this.tetherCm } = deps);
  }

  private async configMap(name: string): Promise<Record<string, string> | undefined> {
    try {
      const cm = await this.http.ok("GET", `/api/v1/namespaces/${pathSegment(this.namespace)}/configmaps/${pathSegment(name)}`) as { data?: Record<string, string> };
      return cm.data ?? {};
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  /** tether-cm from the settings watch; tether-rbac-cm read again when older than two seconds. */
  private async settings(): Promise<{ cm: Readonly<Record<string, string>>; rbac: Record<string, string> | undefined }> {
    if (!this.cached || Date.now() - this.cached.at > TTL_MS) this.cached = { at: Date.now(), rbac: await this.configMap(RBAC_CONFIGMAP) };
    return { cm: this.tetherCm(), rbac: this.cached.rbac };
  }

  private async rbacSettings(): Promise<RbacSettings> {
    try {
      return rbacSettingsFrom((await this.settings()).rbac);
    } catch (err) {
      throw new SsoRefused(500, (err as Error).message);
    }
  }

  /** The signing keys, re-read after a minute so a rotation is seen without a restart. */
  signingKeys(): Promise<SigningKeys> {
    if (!this.keys) {
      this.keys = loadOrCreateKeys(this.http, this.namespace).catch((err: unknown) => {
        this.keys = undefined;
        throw err;
      });
      setTimeout(() => { this.keys = undefined; }, 60_000).unref();
    }
    return this.keys;
  }

  /** The login button's words, or undefined without `oidc.config` (the UI then shows the token form only). */
  async public(): Promise<{ sso?: { name: string } }> {
    const login = await this.oidc().catch(() => undefined);
    return login ? { sso: { name: login.settings.name } } : {};
  }

  private async oidc(): Promise<OidcLogin | undefined> {
    const { cm } = await this.settings();
    const rbac = await this.rbacSettings();
    const config = JSON.stringify([cm.url, cm["oidc.config"], rbac.scopes]);
    if (this.login?.config === config) return this.login.login;
    const settings = await oidcSettingsFrom(cm, (secret, key) => this.secretValue(secret, key), rbac.scopes)
      .catch((err: unknown) => { throw new SsoRefused(500, (err as Error).message); });
    if (!settings) return undefined;
    const login = new OidcLogin(settings, () => this.signingKeys());
    this.login = { config, login };
    return login;
  }

  private async secretValue(secret: string, key: string): Promise<string | undefined> {
    try {
      const s = await this.http.ok("GET", `/api/v1/namespaces/${pathSegment(this.namespace)}/secrets/${pathSegment(secret)}`) as { data?: Record<string, string> };
      const v = s.data?.[key];
      return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  async begin(tabState: string, returnTo: string): Promise<LoginStart> {
    const login = await this.oidc();
    if (!login) throw new SsoRefused(404, `SSO is not configured: set oidc.config and url in ConfigMap ${SETTINGS_CONFIGMAP} (README: Single sign-on)`);
    return login.begin(`${returnTo}\u0000${tabState}`);
  }

  async finish(url: URL, stateCookie: string | undefined): Promise<LoginDone & { tabState: string }> {
    const login = await this.oidc();
    if (!login) throw new SsoRefused(404, "SSO is not configured");
    const done = await login.finish(url, stateCookie);
    const [returnTo = "/ui/", tabState = ""] = done.returnTo.split("\u0000");
    return { ...done, returnTo, tabState };
  }

  /** The identity behind a token this agent signed; undefined for any other bearer (a Kubernetes token). */
  async authenticate(token: string | undefined): Promise<SsoIdentity | undefined> {
    if (!token || !isTetherToken(token)) return undefined;
    const scopes = (await this.rbacSettings()).scopes;
    // A project token's project is read at every request: a token deleted from its role is refused at once.
    const projectName = /^proj:([^:]*):[^:]*$/.exec(unverifiedSubject(token))?.[1];
    const project = projectName === undefined ? undefined : await this.client.getProject(projectName);
    try {
      const v = await verifyToken(token, await this.signingKeys(), (n) => (n === projectName ? project : undefined));
      const jti = v.payload.jti;
      if (v.kind === "session" && jti !== undefined && this.revoked.has(jti)) throw new TokenRefused("the session was logged out: log in again");
      const claims = v.payload as Record<string, unknown>;
      return {
        subject: v.subject, claims, groups: v.kind === "session" ? groupsOf(claims, scopes) : [], kind: v.kind,
        cli: v.kind === "project" || claims.cli === true, ...(jti ? { jti } : {}),
      };
    } catch (err) {
      if (err instanceof TokenRefused) throw new SsoRefused(401, err.message);
      throw err;
    }
  }

  /** Parks a CLI login's session under a one-time code for its loopback listener (RFC 8252's native-app flow). */
  issueCliCode(session: string, subject: string, challenge: string, now = Date.now()): string {
    for (const [code, parked] of this.cliCodes) if (parked.expires < now) this.cliCodes.delete(code);
    if (this.cliCodes.size > 1_000) throw new SsoRefused(429, "too many CLI logins waiting: try again in a minute");
    const code = randomBytes(24).toString("base64url");
    this.cliCodes.set(code, { session, subject, challenge, expires: now + CLI_CODE_MS });
    return code;
  }

  /** The session for a one-time code, given the verifier whose S256 challenge the login started with. */
  exchangeCliCode(code: string, verifier: string, now = Date.now()): { token: string; subject: string } {
    const parked = this.cliCodes.get(code);
    this.cliCodes.delete(code);
    if (!parked || parked.expires < now) throw new SsoRefused(401, "the login code is unknown, used or older than a minute: run `tether login --sso` again");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    if (!sameText(challenge, parked.challenge)) throw new SsoRefused(401, "the login code does not belong to this CLI (PKCE verifier mismatch): run `tether login --sso` again");
    return { token: parked.session, subject: parked.subject };
  }

  logout(who: SsoIdentity): void {
    if (!who.jti) return;
    if (this.revoked.size > 10_000) this.revoked.clear();
    this.revoked.add(who.jti);
  }

  /** Resolves when RBAC allows it; SsoRefused 403 naming what was refused otherwise. */
  async authorize(who: SsoIdentity, req: RbacRequest): Promise<void> {
    if (!(await this.allowed(who, req))) {
      throw new SsoRefused(403, `permission denied: ${req.resource}, ${req.action}, ${req.object}, sub: ${who.subject}`);
    }
  }

  async allowed(who: SsoIdentity, req: RbacRequest): Promise<boolean> {
    const enforcer = await this.rbacEnforcer();
    return enforcer.enforce({ subject: who.subject, claims: who.claims }, req);
  }

  private async rbacEnforcer(): Promise<RbacEnforcer> {
    const settings = await this.rbacSettings();
    const projects = await this.client.listProjects();
    const key = JSON.stringify([settings, projects.map((p) => [p.metadata?.name, p.spec.roles])]);
    if (this.enforcer?.key === key) return this.enforcer.enforcer;
    const byName = new Map(projects.map((p) => [p.metadata?.name ?? "", p]));
    const enforcer = new RbacEnforcer(settings, (n) => byName.get(n));
    this.enforcer = { key, enforcer, projects: byName };
    return enforcer;
  }
}

/** The `sub` of a token before its signature is checked: only to know which AppProject to read. */
function unverifiedSubject(token: string): string {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { sub?: unknown };
    return typeof payload.sub === "string" ? payload.sub : "";
  } catch {
    return "";
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
