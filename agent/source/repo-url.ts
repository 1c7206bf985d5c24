// Turning a `spec.source.repoURL` into what git is given and what the mirror is keyed by.
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A username and password (or token) for an HTTPS repository. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
  /** The Secret they came from (`namespace/name`), so status and logs can name the credential without showing it. */
  readonly secretName?: string;
}

/** A private key for an SSH repository (`ssh://…` or `git@host:path`), from a Secret's `sshPrivateKey`. */
export interface SshCredentials {
  readonly sshPrivateKey: string;
  /** Connect without checking the server's host key (the Secret's `insecure` or `insecureIgnoreHostKey`, as Argo CD). */
  readonly insecureIgnoreHostKey?: boolean;
  /** known_hosts lines the server's key must be in; without them, ssh's own known_hosts files decide. */
  readonly knownHosts?: string;
  /** The Secret it came from (`namespace/name`). */
  readonly secretName?: string;
}

/** What a repository credential Secret yields: a password for HTTP(S) or a key for SSH. */
export type RepoCredentials = Credentials | SshCredentials;

/** Whether a credential is an SSH key. */
export function isSshCredentials(credentials: RepoCredentials | undefined): credentials is SshCredentials {
  return credentials !== undefined && "sshPrivateKey" in credentials;
}

/** A repository URL taken apart. */
export interface RepoLocation {
  /** What git is given and what messages show: the URL without any `user:password@`. */
  readonly url: string;
  /** Identity of the repository: spellings of one repository share one mirror. */
  readonly key: string;
  /** Only HTTP(S) remotes get a password; local paths and SSH never ask for one. */
  readonly isHttp: boolean;
  /** `ssh://…` or scp-like `git@host:path`: the remotes that take a private key. */
  readonly isSsh?: boolean;
  /** Credentials written into the URL itself, moved out of it so they are never stored with the mirror. */
  readonly inlineCredentials?: Credentials;
}

/** Parses a repoURL: `https://…`, `http://…`, `file://…`, `ssh://…`, `git@host:path` or a plain path. */
export function parseRepoUrl(raw: string): RepoLocation {
  const text = raw.trim();
  if (/^https?:\/\//i.test(text)) return parseHttpUrl(text);
  if (/^file:\/\//i.test(text)) {
    return { url: text, key: `file://${resolve(fileURLToPath(text))}`, isHttp: false };
  }
  // scp-like `git@host:path` and `ssh://`: git reads keys itself, nothing to move out of the URL.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || /^[^/]+@[^/:]+:/.test(text)) {
    const isSsh = /^(ssh|git\+ssh|ssh\+git):\/\//i.test(text) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(text);
    return { url: text, key: trimRepoSuffix(text.toLowerCase()), isHttp: false, isSsh };
  }
  const path = resolve(text);
  return { url: path, key: `file://${path}`, isHttp: false };
}

function parseHttpUrl(text: string): RepoLocation {
  const parsed = new URL(text);
  const inline = parsed.password === "" ? undefined : {
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
  parsed.username = "";
  parsed.password = "";
  const url = parsed.toString();
  // GitHub, GitLab and Gitea serve `/org/repo` and `/org/repo.git` as one repository.
  const key = trimRepoSuffix(`${parsed.protocol}//${parsed.host}${parsed.pathname.toLowerCase()}${parsed.search}`);
  return inline === undefined ? { url, key, isHttp: true } : { url, key, isHttp: true, inlineCredentials: inline };
}

function trimRepoSuffix(url: string): string {
  return url.replace(/\/+$/, "").replace(/\.git$/, "");
}

/** The mirror's directory name: readable for a person looking at the cache, unique by hash. */
export function mirrorName(key: string): string {
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 16);
  const base = key.split(/[/:]/).filter((part) => part !== "").pop() ?? "repo";
  const slug = base.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").slice(0, 40);
  return `${slug}-${hash}.git`;
}

/** The port each scheme uses when a URL names none: `https://h:443/x` and `https://h/x` are one repository. */
const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: "80", https: "443", ssh: "22", oci: "443" };

/**
 * The form in which a repository URL is compared with an AppProject's `sourceRepos` (and every other
 * rule about repositories): the URL git or helm is given, then scheme, host and path lowercased (as
 * Argo CD compares them), userinfo and default port dropped, `.` and `..` segments resolved, trailing
 * `/` and `.git` removed, `git@host:path` spelled `ssh://host/path`. A rule about a repository then
 * holds for every spelling of it: `https://h/team-b/../team-a/x` is `https://h/team-a/x`.
 */
export function normalizeRepoUrl(raw: string): string {
  const text = raw.trim();
  // What git and curl are given for HTTP(S): the WHATWG form (`\` is `/`, `%2e%2e` is `..`).
  if (/^https?:\/\//i.test(text) && URL.canParse(text)) return canonical(parseRepoUrl(text).url, false);
  return canonical(text, false);
}

/**
 * A `sourceRepos` pattern in the form of {@link normalizeRepoUrl}, its glob characters kept: a deny
 * pattern `!https://H/Team-A/**.git` denies `https://h/team-a/x` too. The leading `!` stays.
 */
export function normalizeRepoPattern(pattern: string): string {
  const text = pattern.trim();
  return text.startsWith("!") ? `!${canonical(text.slice(1), true)}` : canonical(text, true);
}

function canonical(text: string, pattern: boolean): string {
  const { scheme, authority, path } = split(text);
  const rooted = scheme !== "" || path.startsWith("/");
  // Until stable, so a key is its own key (`x.git.git/` is `x`; `%2e%2e.git` becomes `..`, resolved again).
  let trimmed = pattern || scheme === "" ? path : path.split(/[?#]/)[0]!;
  for (let previous = ""; previous !== trimmed;) {
    previous = trimmed;
    trimmed = resolveDots(trimmed, rooted).replace(/(?:\/|\.git)+$/i, "");
  }
  const query = pattern || scheme === "" ? "" : /\?[^#]*/.exec(path)?.[0] ?? "";
  const head = scheme === "" ? "" : `${scheme}://${hostOf(authority, scheme)}`;
  return `${head}${trimmed}${query}`.toLowerCase();
}

/** Scheme, authority and path; scp-like `user@host:path` is `ssh://host/path`; a plain path has neither. */
function split(text: string): { scheme: string; authority: string; path: string } {
  const url = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is.exec(text);
  if (url !== null) return { scheme: url[1]!.toLowerCase(), authority: url[2]!, path: url[3]! };
  const scp = /^[^/]+@([^/:]+):(.*)$/s.exec(text);
  if (scp !== null) return { scheme: "ssh", authority: scp[1]!, path: `/${scp[2]!.replace(/^\/+/, "")}` };
  return { scheme: "", authority: "", path: text };
}

function hostOf(authority: string, scheme: string): string {
  const host = authority.slice(authority.lastIndexOf("@") + 1);
  const port = /:(\d+)$/.exec(host);
  return port !== null && DEFAULT_PORTS[scheme] === port[1] ? host.slice(0, port.index) : host;
}

/** RFC 3986's remove_dot_segments, with WHATWG's `%2e` spellings of `.` and `..`; never above the root. */
function resolveDots(path: string, rooted: boolean): string {
  const out: string[] = [];
  const segments = path.split("/");
  for (const [i, segment] of segments.entries()) {
    const dots = segment.replace(/%2e/gi, ".");
    const last = i === segments.length - 1;
    if (dots === ".") {
      if (last) out.push("");
    } else if (dots === "..") {
      if (out.length > (rooted ? 1 : 0) && out.at(-1) !== "..") out.pop();
      else if (!rooted) out.push("..");
      if (last) out.push("");
    } else {
      out.push(segment);
    }
  }
  return out.join("/");
}
