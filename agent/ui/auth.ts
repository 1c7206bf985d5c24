// Who is calling and what they may do, decided by Kubernetes itself: no user database. The agent
// checks a bearer token with TokenReview and each request with SubjectAccessReview; `tether ui`
// holds one random token for its browser tab and asks SelfSubjectAccessReview with the kubeconfig.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { KubeHttp } from "../apply/http.ts";
import type { SsoIdentity } from "../sso/service.ts";

export interface Identity {
  readonly user: string;
  readonly groups: readonly string[];
  readonly uid?: string;
  readonly extra?: Readonly<Record<string, readonly string[]>>;
  /** A token the agent signed (SSO session or project token): authorised by Argo CD's RBAC, not SubjectAccessReview. */
  readonly sso?: SsoIdentity;
}

/** What a SubjectAccessReview asks: `verb` on `resource` (with `subresource`) in `namespace`. */
export interface ResourceAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** An answer with an HTTP status: 401 unauthenticated, 403 refused, 400 bad request, 404 missing. */
export class HttpError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

export interface Access {
  /** The caller behind a bearer token; HttpError 401 when there is none or it is not valid. */
  authenticate(token: string | undefined): Promise<Identity>;
  /** Resolves when the caller may do it; HttpError 403 naming the permission otherwise. */
  authorize(who: Identity, attrs: ResourceAttributes): Promise<void>;
}

const CACHE_MS = 10_000;

/** A small time-bounded memo, so a page load's dozen requests cost one review each. */
class Memo<T> {
  private readonly entries = new Map<string, { value: Promise<T>; until: number }>();
  get(key: string, make: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    if (this.entries.size > 1000) this.entries.clear();
    const value = make();
    this.entries.set(key, { value, until: now + CACHE_MS });
    value.catch(() => this.entries.delete(key));
    return value;
  }
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** `get applications.tether.dev/NAME in NAMESPACE` as a person reads it. */
export function describePermission(a: ResourceAttributes): string {
  const resource = `${a.resource}${a.subresource ? `/${a.subresource}` : ""}${a.group ? `.${a.group}` : ""}`;
  return `${a.verb} ${resource}${a.name ? `/${a.name}` : ""}${a.namespace ? ` in namespace ${a.namespace}` : ""}`;
}

function refusal(who: string, a: ResourceAttributes, reason: string | undefined): HttpError {
  return new HttpError(403, `${who} may not ${describePermission(a)}${reason ? ` (${reason})` : ""}; ask for a Role that grants it`);
}

/** The agent's access: the caller's token reviewed by the API server, each action by SubjectAccessReview. */
export function kubeAccess(http: KubeHttp): Access {
  const reviews = new Memo<Identity>();
  const decisions = new Memo<{ allowed: boolean; reason?: string }>();
  return {
    authenticate(token) {
      if (!token) return Promise.reject(new HttpError(401, "sign in with a bearer token (a ServiceAccount or OIDC token the cluster accepts)"));
      return reviews.get(sha(token), async () => {
        const body = await http.ok("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
          json: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } }, contentType: "application/json",
        }) as { status?: { authenticated?: boolean; error?: string; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } } };
        const user = body.status?.user;
        if (!body.status?.authenticated || !user?.username) {
          throw new HttpError(401, `the cluster did not accept this token${body.status?.error ? `: ${body.status.error}` : ""}; sign in again`);
        }
        return { user: user.username, groups: user.groups ?? [], ...(user.uid ? { uid: user.uid } : {}), ...(user.extra ? { extra: user.extra } : {}) };
      });
    },
    async authorize(who, attrs) {
      const decision = await decisions.get(sha(JSON.stringify([who, attrs])), async () => {
        const body = await http.ok("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
          json: {
            apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview",
            spec: { user: who.user, groups: who.groups, ...(who.uid ? { uid: who.uid } : {}), ...(who.extra ? { extra: who.extra } : {}), resourceAttributes: attrs },
          },
          contentType: "application/json",
        }) as { status?: { allowed?: boolean; reason?: string } };
        return { allowed: body.status?.allowed === true, ...(body.status?.reason ? { reason: body.status.reason } : {}) };
      });
      if (!decision.allowed) throw refusal(who.user, attrs, decision.reason);
    },
  };
}

/**
 * `tether ui`'s access: the browser holds a random token printed in the URL; every request then
 * runs with the kubeconfig's credentials, and SelfSubjectAccessReview says up front what they allow.
 */
export function localAccess(http: KubeHttp, token: string, user: string): Access {
  const decisions = new Memo<{ allowed: boolean; reason?: string }>();
  return {
    authenticate(given) {
      if (!given || !sameSecret(given, token)) {
        return Promise.reject(new HttpError(401, "open the URL `tether ui` printed (it carries this session's token)"));
      }
      return Promise.resolve({ user, groups: [] });
    },
    async authorize(who, attrs) {
      const decision = await decisions.get(sha(JSON.stringify(attrs)), async () => {
        const body = await http.ok("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
          json: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: attrs } },
          contentType: "application/json",
        }) as { status?: { allowed?: boolean; reason?: string } };
        return { allowed: body.status?.allowed === true, ...(body.status?.reason ? { reason: body.status.reason } : {}) };
      });
      if (!decision.allowed) throw refusal(who.user, attrs, decision.reason);
    },
  };
}

export function randomToken(): string {
  return randomBytes(24).toString("base64url");
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(sha(a));
  const y = Buffer.from(sha(b));
  return timingSafeEqual(x, y);
}

/**
 * The CSRF token for a bearer token: an HMAC under a per-process key, so it is bound to the
 * session, cannot be computed by another page, and needs no server-side store.
 */
export function csrfToken(key: Buffer, bearer: string): string {
  return createHmac("sha256", key).update(bearer).digest("base64url");
}

/**
 * Who may read `/metrics`: a bearer token the cluster accepts (TokenReview) whose user may `get` the
 * non-resource path `/metrics` (SubjectAccessReview), as kube-rbac-proxy and the kubelet decide it:
 * Prometheus' ServiceAccount bound to a ClusterRole with `nonResourceURLs: ["/metrics"], verbs: ["get"]`.
 */
export function metricsAccess(http: KubeHttp, access: Access = kubeAccess(http)): (authorization: string | undefined) => Promise<void> {
  const decisions = new Memo<boolean>();
  return async (authorization) => {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    const who = await access.authenticate(token);
    const allowed = await decisions.get(sha(JSON.stringify(who)), async () => {
      const body = await http.ok("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        json: {
          apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview",
          spec: { user: who.user, groups: who.groups, ...(who.uid ? { uid: who.uid } : {}), nonResourceAttributes: { path: "/metrics", verb: "get" } },
        },
        contentType: "application/json",
      }) as { status?: { allowed?: boolean } };
      return body.status?.allowed === true;
    });
    if (!allowed) throw new HttpError(403, `${who.user} may not get /metrics; bind a ClusterRole with nonResourceURLs ["/metrics"] and verb get`);
  };
}
