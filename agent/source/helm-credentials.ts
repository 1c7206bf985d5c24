// Which repository Secret gives access to a Helm chart repository. Pure: the Secrets in, the access out.
// Argo CD's repository Secrets (`argocd.argoproj.io/secret-type: repository | repo-creds`, or Tether's
// `tether.dev/secret-type`) with `type: helm` (or `oci`) are the candidates; they are matched by
// `matchCredential` (scheme, host and port exactly, path prefix at a segment boundary). An OCI
// registry is written without scheme in Argo CD (`registry-1.docker.io/charts`, `enableOCI: "true"`)
// or as `oci://`; both sides are compared as `https://` so that the one rule applies to them too.
import { matchCredential, type CredentialEntry } from "./credentials.ts";
import type { HelmRepoAccess } from "./helm-repo.ts";

/** A Secret as the API returns it: base64 `data`. */
export interface SecretLike {
  readonly metadata?: { readonly name?: string; readonly labels?: Record<string, string> };
  readonly data?: Record<string, string>;
}

const TYPE_LABELS = ["tether.dev/secret-type", "argocd.argoproj.io/secret-type"];
/** The repository types that describe chart repositories (Argo CD 3.1 added `oci`). */
const CHART_TYPES = new Set(["helm", "oci"]);

/** The access a chart repository URL gets from `secrets`, or undefined for anonymous access. */
export function helmRepoAccess(repoURL: string, secrets: readonly SecretLike[]): HelmRepoAccess | undefined {
  const decoded = secrets.map(decode).filter((s): s is DecodedSecret => s !== undefined && CHART_TYPES.has(s.type));
  const entries: CredentialEntry[] = decoded.map((s) => ({
    secretName: s.name, type: s.kind, url: comparable(s.url),
    ...(s.username === undefined ? {} : { username: s.username }), ...(s.password === undefined ? {} : { password: s.password }),
  }));
  const match = matchCredential(comparable(repoURL), entries);
  if (match === undefined) return undefined;
  const secret = decoded.find((s) => s.name === match.secretName);
  return {
    secretName: match.secretName,
    ...(match.username === undefined ? {} : { username: match.username }),
    ...(match.password === undefined ? {} : { password: match.password }),
    ...(secret?.plainHttp === true ? { plainHttp: true } : {}),
  };
}

interface DecodedSecret {
  readonly name: string;
  readonly kind: "repository" | "repo-creds";
  readonly type: string;
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly plainHttp: boolean;
}

function decode(secret: SecretLike): DecodedSecret | undefined {
  const labels = secret.metadata?.labels ?? {};
  const kindLabel = TYPE_LABELS.map((l) => labels[l]).find((v) => v !== undefined);
  if (kindLabel !== "repository" && kindLabel !== "repo-creds") return undefined;
  const field = (key: string): string | undefined => {
    const value = secret.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
  };
  const url = field("url");
  if (url === undefined) return undefined;
  // An `oci://` URL or `enableOCI` on a `type: helm` Secret are Argo CD's ways to say "registry".
  const type = (field("type") ?? "git").trim().toLowerCase();
  const username = field("username");
  const password = field("password");
  return {
    name: secret.metadata?.name ?? "", kind: kindLabel, type, url,
    ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }),
    plainHttp: field("insecureOCIForceHttp")?.trim() === "true",
  };
}

/** `oci://h/p` and scheme-less `h/p` compared as `https://h/p`; an HTTP(S) URL as written. */
export function comparable(url: string): string {
  const text = url.trim();
  if (/^oci:\/\//i.test(text)) return `https://${text.slice("oci://".length)}`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  return `https://${text}`;
}
