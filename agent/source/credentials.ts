// Which repository credential applies to a repoURL. Pure: the candidate Secrets in, the one to use out.
//
// A credential written for `https://git.example.com/team` must never reach `https://git.example.com:8443/…`,
// `http://git.example.com/team` or `https://git.example.com/team-b/…`: the scheme, the host and the port
// must be equal, and the credential's path must be a prefix of the repository's path at a `/` boundary.
// Among the matches the longest path wins, and a `repository` Secret beats a `repo-creds` template of the
// same path, as Argo CD prefers a repository's own credential over a template.

/** The two kinds of credential Secret, spelled as Argo CD labels them (`…/secret-type: repository | repo-creds`). */
export type CredentialType = "repository" | "repo-creds";

/** One credential Secret, decoded. */
export interface CredentialEntry {
  /** The Secret's name: what status and logs show instead of the value. */
  readonly secretName: string;
  readonly type: CredentialType;
  /** `data.url`: the repository (or, for `repo-creds`, the URL prefix) this credential is for. */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly sshPrivateKey?: string;
  /** `insecure` / `insecureIgnoreHostKey: "true"`: SSH without a host key check (Argo CD's fields). */
  readonly insecure?: boolean;
}

/** A URL reduced to what credential matching compares. */
export interface CredentialScope {
  /** `https`, `http` or `ssh` (an scp-like `git@host:path` is `ssh`). */
  readonly scheme: string;
  /** Lower-case host name. */
  readonly host: string;
  /** The port, with the scheme's default filled in, so `https://h` and `https://h:443` are one scope. */
  readonly port: number;
  /** Path segments, lower-cased (as Argo CD normalises Git URLs), without a trailing `.git`. */
  readonly segments: readonly string[];
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ssh: 22 };

/** The scope of a repository or credential URL; undefined for a URL that no credential can apply to. */
export function credentialScope(raw: string): CredentialScope | undefined {
  const text = raw.trim();
  const scp = /^(?:[^@/:]+@)?([^/:]+):(?!\/\/)(.*)$/.exec(text);
  if (scp !== null && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    return { scheme: "ssh", host: scp[1]!.toLowerCase(), port: 22, segments: segmentsOf(scp[2]!) };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const scheme = url.protocol.replace(/:$/, "").toLowerCase();
  const defaultPort = DEFAULT_PORTS[scheme];
  if (defaultPort === undefined || url.hostname === "") return undefined;
  const port = url.port === "" ? defaultPort : Number(url.port);
  return { scheme, host: url.hostname.toLowerCase(), port, segments: segmentsOf(decodeURIComponent(url.pathname)) };
}

function segmentsOf(path: string): string[] {
  const segments = path.toLowerCase().split("/").filter((s) => s !== "");
  const last = segments.length - 1;
  if (last >= 0) segments[last] = segments[last]!.replace(/\.git$/, "");
  return segments.filter((s) => s !== "");
}

/** Whether a credential written for `credential` may be sent to `repo`. */
export function scopeCovers(credential: CredentialScope, repo: CredentialScope): boolean {
  return credential.scheme === repo.scheme
    && credential.host === repo.host
    && credential.port === repo.port
    && credential.segments.length <= repo.segments.length
    && credential.segments.every((segment, i) => repo.segments[i] === segment);
}

/** The credential to use for `repoURL`, or undefined when none applies. */
export function matchCredential(repoURL: string, entries: readonly CredentialEntry[]): CredentialEntry | undefined {
  const repo = credentialScope(repoURL);
  if (repo === undefined) return undefined;
  let best: { entry: CredentialEntry; rank: number } | undefined;
  for (const entry of entries) {
    const scope = credentialScope(entry.url);
    if (scope === undefined || !scopeCovers(scope, repo)) continue;
    const rank = scope.segments.length * 2 + (entry.type === "repository" ? 1 : 0);
    if (best === undefined || rank > best.rank) best = { entry, rank };
  }
  return best?.entry;
}
