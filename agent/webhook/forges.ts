// What a push webhook from a forge says, and whether the forge really sent it. Pure: headers and the
// raw body in, a verdict and a push description out.
//
// | forge               | recognised by                       | proof of origin                                   |
// |---------------------|-------------------------------------|---------------------------------------------------|
// | GitHub              | X-GitHub-Event                      | X-Hub-Signature-256: sha256=HMAC-SHA256(body)     |
// | Gitea / Forgejo     | X-Gitea-Event / X-Forgejo-Event     | X-Gitea-Signature / X-Forgejo-Signature: HMAC hex |
// | GitLab              | X-Gitlab-Event                      | X-Gitlab-Token: the secret itself                 |
// | Bitbucket Cloud     | X-Event-Key + X-Hook-UUID           | X-Hub-Signature: sha256=HMAC-SHA256(body)         |
// | Bitbucket Server    | X-Event-Key + X-Request-Id          | X-Hub-Signature: sha256=HMAC-SHA256(body)         |
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export type Forge = "github" | "gitea" | "gitlab" | "bitbucket" | "bitbucketserver" | "generic";

/** Request headers, lower-cased as Node gives them. */
export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** What a push changed, as far as the payload says. */
export interface Push {
  readonly forge: Forge;
  /** Every URL the payload gives for the repository (clone, SSH, web). */
  readonly repoURLs: readonly string[];
  /** The branches and tags pushed; empty when the payload does not say (then every revision matches). */
  readonly refs: readonly PushedRef[];
  /** The repository's default branch, when the payload says it: what `HEAD` means. */
  readonly defaultBranch?: string;
  /** Files added, modified or removed; undefined when the payload does not list them. */
  readonly changedFiles?: readonly string[];
}

export interface PushedRef {
  readonly kind: "branch" | "tag";
  readonly name: string;
}

/** Which forge sent the request, from the headers it always sets. */
export function forgeOf(headers: Headers): Forge {
  // Gitea and Forgejo also send GitHub's headers for compatibility: recognise them first.
  if (header(headers, "x-gitea-event") !== undefined || header(headers, "x-forgejo-event") !== undefined) return "gitea";
  if (header(headers, "x-github-event") !== undefined) return "github";
  if (header(headers, "x-gitlab-event") !== undefined) return "gitlab";
  if (header(headers, "x-event-key") !== undefined) return header(headers, "x-hook-uuid") !== undefined ? "bitbucket" : "bitbucketserver";
  return "generic";
}

/**
 * Whether the request carries a valid proof made with `secret`: a signature of the raw body (GitHub,
 * Gitea, Bitbucket) or the secret itself (GitLab). Compared in constant time. A request from an
 * unknown sender carries no proof and is never valid.
 */
export function verifySignature(forge: Forge, headers: Headers, body: Buffer, secret: string): boolean {
  const hmac = (): string => createHmac("sha256", secret).update(body).digest("hex");
  switch (forge) {
    case "github":
      return sameText(header(headers, "x-hub-signature-256"), `sha256=${hmac()}`);
    case "gitea":
      return sameText(header(headers, "x-gitea-signature") ?? header(headers, "x-forgejo-signature"), hmac());
    case "gitlab":
      return sameText(header(headers, "x-gitlab-token"), secret);
    case "bitbucket":
    case "bitbucketserver":
      return sameText(header(headers, "x-hub-signature"), `sha256=${hmac()}`);
    case "generic":
      return false;
  }
}

/** Constant-time equality of two strings of any length (both are hashed to 32 bytes first). */
function sameText(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (text: string) => createHash("sha256").update(text.trim()).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Whether the request is a push (or a ping, which refreshes nothing). */
export function isPush(forge: Forge, headers: Headers): boolean {
  const event = header(headers, forge === "gitea" ? "x-gitea-event" : forge === "github" ? "x-github-event"
    : forge === "gitlab" ? "x-gitlab-event" : "x-event-key") ?? header(headers, "x-forgejo-event") ?? "";
  switch (forge) {
    case "github":
    case "gitea":
      return event === "push" || (forge === "gitea" && header(headers, "x-forgejo-event") === "push");
    case "gitlab":
      return event === "Push Hook" || event === "Tag Push Hook" || event === "System Hook";
    case "bitbucket":
      return event === "repo:push";
    case "bitbucketserver":
      return event === "repo:refs_changed";
    case "generic":
      return true;
  }
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? v as Json : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const strings = (...values: unknown[]): string[] => values.map(str).filter((v): v is string => v !== undefined);

/** The push a payload describes; throws SyntaxError when the body is not JSON. */
export function parsePush(forge: Forge, body: Buffer): Push {
  const payload = obj(JSON.parse(body.toString("utf8") || "{}"));
  switch (forge) {
    case "github":
    case "gitea":
      return githubPush(forge, payload);
    case "gitlab":
      return gitlabPush(payload);
    case "bitbucket":
      return bitbucketCloudPush(payload);
    case "bitbucketserver":
      return bitbucketServerPush(payload);
    case "generic": {
      // No forge headers (a script, or a forge's payload posted by hand): take what the payload names.
      const push = githubPush(forge, payload);
      const project = obj(payload.project);
      return { ...push, repoURLs: [...strings(payload.repoURL, obj(payload.repository).git_http_url, project.git_http_url), ...push.repoURLs] };
    }
  }
}

function refOf(ref: string | undefined): PushedRef[] {
  if (ref === undefined) return [];
  if (ref.startsWith("refs/heads/")) return [{ kind: "branch", name: ref.slice("refs/heads/".length) }];
  if (ref.startsWith("refs/tags/")) return [{ kind: "tag", name: ref.slice("refs/tags/".length) }];
  return [];
}

function changedFiles(commits: unknown): string[] | undefined {
  const list = arr(commits);
  if (list.length === 0) return undefined;
  return list.flatMap((c) => [...arr(obj(c).added), ...arr(obj(c).modified), ...arr(obj(c).removed)]).filter((f): f is string => typeof f === "string");
}

function withOptional(push: Omit<Push, "defaultBranch" | "changedFiles">, defaultBranch: string | undefined, files: string[] | undefined): Push {
  return { ...push, ...(defaultBranch === undefined ? {} : { defaultBranch }), ...(files === undefined ? {} : { changedFiles: files }) };
}

function githubPush(forge: Forge, payload: Json): Push {
  const repo = obj(payload.repository);
  return withOptional({
    forge, repoURLs: strings(repo.clone_url, repo.html_url, repo.ssh_url, repo.git_url, repo.url), refs: refOf(str(payload.ref)),
  }, str(repo.default_branch), changedFiles(payload.commits));
}

function gitlabPush(payload: Json): Push {
  const project = obj(payload.project);
  const repo = obj(payload.repository);
  return withOptional({
    forge: "gitlab",
    repoURLs: strings(project.git_http_url, project.git_ssh_url, project.web_url, repo.git_http_url, repo.git_ssh_url, repo.homepage),
    refs: refOf(str(payload.ref)),
  }, str(project.default_branch), changedFiles(payload.commits));
}

function bitbucketCloudPush(payload: Json): Push {
  const repo = obj(payload.repository);
  const html = str(obj(obj(repo.links).html).href);
  const refs = arr(obj(payload.push).changes).flatMap((change) => {
    const target = obj(obj(change).new);
    const name = str(target.name);
    if (name === undefined) return [];
    return [{ kind: target.type === "tag" ? "tag" as const : "branch" as const, name }];
  });
  // Bitbucket Cloud serves the repository at its web address, with or without `.git`.
  return withOptional({ forge: "bitbucket", repoURLs: strings(html, html === undefined ? undefined : `${html}.git`), refs },
    str(obj(repo.mainbranch).name), undefined);
}

function bitbucketServerPush(payload: Json): Push {
  const repo = obj(payload.repository);
  const clones = arr(obj(repo.links).clone).map((link) => str(obj(link).href));
  const refs = arr(payload.changes).flatMap((change) => refOf(str(obj(obj(change).ref).id) ?? str(obj(change).refId)));
  return { forge: "bitbucketserver", repoURLs: strings(...clones), refs };
}
