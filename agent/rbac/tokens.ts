// Tokens the agent signs: SSO sessions (after an OIDC login) and project role tokens for CI (Argo CD's
// `argocd proj role create-token`). HS256 with a key from Secret `tether-server-key` (`key`, and during a
// rotation `key.previous`, still accepted). A project token is valid only while its entry is listed in the
// AppProject role's `jwtTokens`: deleting the entry (`tether proj role delete-token`) refuses it at once.
import { createHash, randomBytes } from "node:crypto";
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import type { AppProject } from "../api/types.ts";
import { KubeApiError, pathSegment, type KubeHttp } from "../apply/http.ts";
import { projectRoleSubject } from "./rbac.ts";

export const KEY_SECRET = "tether-server-key";
export const ISSUER = "tether";

/** The keys tokens are signed with (`current`) and still accepted with (`previous`, during a rotation). */
export interface SigningKeys {
  readonly current: Uint8Array;
  readonly previous?: Uint8Array;
}

/** A refused token: the reason, safe to show the caller (no token material). */
export class TokenRefused extends Error {}

/** Fresh key material: the Secret's `data.key` (base64 of 32 random bytes, as the API stores data). */
export function newKeyMaterial(): string {
  return randomBytes(32).toString("base64");
}

/** The keys in Secret `tether-server-key`'s data (base64 values, as the API returns them); none under 32 bytes. */
export function keysFromSecret(data: Readonly<Record<string, string>> | undefined): SigningKeys | undefined {
  const decode = (v: string | undefined) => (v ? new Uint8Array(Buffer.from(v, "base64")) : undefined);
  const current = decode(data?.key);
  if (!current || current.length < 32) return undefined;
  const previous = decode(data?.["key.previous"]);
  return previous && previous.length >= 32 ? { current, previous } : { current };
}

/**
 * The keys of Secret `tether-server-key` in the agent's namespace, the Secret created with a fresh key when
 * missing (the first login or token). Rotation: move `key` to `key.previous` and set a new `key`.
 */
export async function loadOrCreateKeys(http: KubeHttp, namespace: string): Promise<SigningKeys> {
  const path = `/api/v1/namespaces/${pathSegment(namespace)}/secrets`;
  const read = async () => {
    try {
      return { found: true, keys: keysFromSecret((await http.ok("GET", `${path}/${KEY_SECRET}`) as { data?: Record<string, string> }).data) };
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return { found: false, keys: undefined };
      throw err;
    }
  };
  let got = await read();
  if (!got.found) {
    try {
      await http.ok("POST", path, { contentType: "application/json", json: {
        apiVersion: "v1", kind: "Secret", metadata: { name: KEY_SECRET, labels: { "app.kubernetes.io/part-of": "tether" } },
        type: "Opaque", data: { key: newKeyMaterial() },
      } });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.code === 409)) throw err;
    }
    got = await read();
  }
  if (!got.keys) throw new Error(`Secret ${KEY_SECRET} in ${namespace} has no usable 'key' (32 bytes or more, base64): delete it and a new one is made`);
  return got.keys;
}

const kidOf = (key: Uint8Array) => createHash("sha256").update(key).digest("hex").slice(0, 16);

/** What a project token says: `proj:<project>:<role>`, issued at, optional expiry and id. */
export interface ProjectTokenClaims {
  readonly project: string;
  readonly role: string;
  /** Seconds since the epoch. */
  readonly iat: number;
  readonly exp?: number;
  readonly id?: string;
}

export async function signProjectToken(keys: SigningKeys, t: ProjectTokenClaims): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256", kid: kidOf(keys.current), typ: "JWT" })
    .setIssuer(ISSUER).setSubject(projectRoleSubject(t.project, t.role)).setIssuedAt(t.iat);
  if (t.exp !== undefined) jwt.setExpirationTime(t.exp);
  if (t.id !== undefined) jwt.setJti(t.id);
  return jwt.sign(keys.current);
}

/** An SSO session: who logged in, the claims RBAC reads (groups and the like), and when it ends. */
export interface SessionClaims {
  readonly sub: string;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly iat: number;
  readonly exp: number;
}

export async function signSession(keys: SigningKeys, s: SessionClaims): Promise<string> {
  return new SignJWT({ ...s.claims, typ: "session" }).setProtectedHeader({ alg: "HS256", kid: kidOf(keys.current), typ: "JWT" })
    .setIssuer(ISSUER).setSubject(s.sub).setIssuedAt(s.iat).setExpirationTime(s.exp).setJti(randomBytes(12).toString("hex")).sign(keys.current);
}

export type Verified =
  | { readonly kind: "project"; readonly subject: string; readonly project: string; readonly role: string; readonly payload: JWTPayload }
  | { readonly kind: "session"; readonly subject: string; readonly payload: JWTPayload };

/** Whether a bearer value looks like a token this agent signed (so TokenReview is not asked about it). */
export function isTetherToken(token: string): boolean {
  if (token.split(".").length !== 3) return false;
  try {
    const header = decodeProtectedHeader(token);
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { iss?: unknown };
    return header.alg === "HS256" && payload.iss === ISSUER;
  } catch {
    return false;
  }
}

/**
 * Verifies signature, issuer and expiry; a project token also needs its project, its role and its entry in
 * the role's `jwtTokens` (by id, or by issued-at for a token without one, as Argo CD matches them).
 */
export async function verifyToken(token: string, keys: SigningKeys, projects: (name: string) => AppProject | undefined, now: Date = new Date()): Promise<Verified> {
  let payload: JWTPayload;
  try {
    const candidates = [keys.current, ...(keys.previous ? [keys.previous] : [])];
    const kid = decodeProtectedHeader(token).kid;
    const key = candidates.find((k) => kidOf(k) === kid);
    if (!key) throw new TokenRefused("the token was signed with a key this agent no longer has: sign in again or create a new token");
    ({ payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ["HS256"], currentDate: now }));
  } catch (err) {
    if (err instanceof TokenRefused) throw err;
    if (err instanceof joseErrors.JWTExpired) throw new TokenRefused("the token has expired: sign in again or create a new token");
    throw new TokenRefused("the token's signature or claims are not valid");
  }
  const subject = payload.sub ?? "";
  const parts = subject.split(":");
  if (parts.length === 3 && parts[0] === "proj") return projectToken(payload, { project: parts[1] ?? "", role: parts[2] ?? "" }, projects(parts[1] ?? ""), now);
  if (payload.typ !== "session" || subject === "") throw new TokenRefused("the token is not a session or project token");
  return { kind: "session", subject, payload };
}

/** A project token stands while its role lists it (spec.roles[].jwtTokens or status.jwtTokensByRole; by id, or by issued-at for a token without one) and has not expired. */
function projectToken(payload: JWTPayload, names: { project: string; role: string }, project: AppProject | undefined, now: Date): Verified {
  const { project: projectName, role: roleName } = names;
  const role = project?.spec.roles?.find((r) => r.name === roleName);
  if (!role) throw new TokenRefused(`the token's role ${roleName} of project ${projectName} does not exist`);
  const issued = [...(role.jwtTokens ?? []), ...(project?.status?.jwtTokensByRole?.[roleName]?.items ?? [])];
  const entry = issued.find((t) => (payload.jti !== undefined ? t.id === payload.jti : t.iat === payload.iat));
  if (!entry) throw new TokenRefused(`the token was deleted from role ${roleName} of project ${projectName}`);
  if (entry.exp !== undefined && entry.exp > 0 && entry.exp * 1000 <= now.getTime()) throw new TokenRefused("the token has expired: create a new token");
  return { kind: "project", subject: payload.sub ?? "", project: projectName, role: roleName, payload };
}
