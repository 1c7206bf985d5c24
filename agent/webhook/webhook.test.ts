import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Application } from "../api/types.ts";
import { forgeOf, parsePush, verifySignature, type Headers } from "./forges.ts";
import { pushTargets, revisionPushed } from "./match.ts";
import { secretsFromData, Webhook, type WebhookOptions, type WebhookSecrets } from "./webhook.ts";

const SECRET = "It's a Secret to Everybody";
const hmac = (body: string, secret = SECRET) => createHmac("sha256", secret).update(body).digest("hex");

// Trimmed from the forges' documented push payloads.
const githubPush = JSON.stringify({
  ref: "refs/heads/main",
  repository: { clone_url: "https://github.com/acme/gitops.git", ssh_url: "git@github.com:acme/gitops.git", html_url: "https://github.com/acme/gitops", default_branch: "main" },
  commits: [{ added: ["apps/web/deploy.yaml"], modified: [], removed: [] }],
});
const gitlabPush = JSON.stringify({
  object_kind: "push", ref: "refs/heads/main",
  project: { git_http_url: "https://gitlab.com/acme/gitops.git", git_ssh_url: "git@gitlab.com:acme/gitops.git", default_branch: "main" },
  commits: [{ added: [], modified: ["apps/api/values.yaml"], removed: [] }],
});
const bitbucketCloudPush = JSON.stringify({
  repository: { links: { html: { href: "https://bitbucket.org/acme/gitops" } }, mainbranch: { name: "main" } },
  push: { changes: [{ new: { type: "branch", name: "release" } }] },
});
const bitbucketServerPush = JSON.stringify({
  repository: { links: { clone: [{ href: "https://bitbucket.acme.io/scm/ops/gitops.git", name: "http" }, { href: "ssh://git@bitbucket.acme.io:7999/ops/gitops.git", name: "ssh" }] } },
  changes: [{ ref: { id: "refs/tags/v1.2.0", type: "TAG" } }],
});

describe("verifySignature", () => {
  const body = Buffer.from(githubPush);
  it.each<[string, Headers]>([
    ["GitHub's X-Hub-Signature-256", { "x-github-event": "push", "x-hub-signature-256": `sha256=${hmac(githubPush)}` }],
    ["Gitea's X-Gitea-Signature", { "x-gitea-event": "push", "x-gitea-signature": hmac(githubPush) }],
    ["Forgejo's X-Forgejo-Signature", { "x-forgejo-event": "push", "x-forgejo-signature": hmac(githubPush) }],
    ["GitLab's X-Gitlab-Token", { "x-gitlab-event": "Push Hook", "x-gitlab-token": SECRET }],
    ["Bitbucket Cloud's X-Hub-Signature", { "x-event-key": "repo:push", "x-hook-uuid": "{1}", "x-hub-signature": `sha256=${hmac(githubPush)}` }],
    ["Bitbucket Server's X-Hub-Signature", { "x-event-key": "repo:refs_changed", "x-request-id": "1", "x-hub-signature": `sha256=${hmac(githubPush)}` }],
  ])("accepts %s made with the secret", (_name, headers) => {
    expect(verifySignature(forgeOf(headers), headers, body, SECRET)).toBe(true);
  });

  it.each<[string, Headers]>([
    ["a GitHub signature made with another secret", { "x-github-event": "push", "x-hub-signature-256": `sha256=${hmac(githubPush, "other")}` }],
    ["a GitHub signature of another body", { "x-github-event": "push", "x-hub-signature-256": `sha256=${hmac("{}")}` }],
    ["a GitHub delivery without a signature", { "x-github-event": "push" }],
    ["a wrong GitLab token", { "x-gitlab-event": "Push Hook", "x-gitlab-token": "guess" }],
    ["a Gitea delivery signed with GitHub's header only", { "x-gitea-event": "push", "x-hub-signature-256": "sha256=00" }],
    ["a request from no known forge", { "x-tether-token": SECRET }],
  ])("refuses %s", (_name, headers) => {
    expect(verifySignature(forgeOf(headers), headers, body, SECRET)).toBe(false);
  });
});

describe("parsePush", () => {
  it("reads GitHub's repository URLs, branch, default branch and changed files", () => {
    expect(parsePush("github", Buffer.from(githubPush))).toEqual({
      forge: "github", repoURLs: ["https://github.com/acme/gitops.git", "https://github.com/acme/gitops", "git@github.com:acme/gitops.git"],
      refs: [{ kind: "branch", name: "main" }], defaultBranch: "main", changedFiles: ["apps/web/deploy.yaml"],
    });
  });
  it("reads a payload without forge headers: repoURL, or a forge's repository fields", () => {
    expect(parsePush("generic", Buffer.from(JSON.stringify({ repoURL: "file:///srv/git/a.git" })))).toMatchObject({ repoURLs: ["file:///srv/git/a.git"], refs: [] });
    expect(parsePush("generic", Buffer.from(JSON.stringify({ repository: { clone_url: "https://h/o/r.git" } }))).repoURLs).toEqual(["https://h/o/r.git"]);
  });

  it("reads GitLab's project", () => {
    expect(parsePush("gitlab", Buffer.from(gitlabPush))).toMatchObject({ repoURLs: ["https://gitlab.com/acme/gitops.git", "git@gitlab.com:acme/gitops.git"], changedFiles: ["apps/api/values.yaml"] });
  });
  it("reads Bitbucket Cloud's changes", () => {
    expect(parsePush("bitbucket", Buffer.from(bitbucketCloudPush))).toMatchObject({ refs: [{ kind: "branch", name: "release" }], defaultBranch: "main" });
  });
  it("reads Bitbucket Server's clone links and tags", () => {
    expect(parsePush("bitbucketserver", Buffer.from(bitbucketServerPush))).toMatchObject({
      repoURLs: ["https://bitbucket.acme.io/scm/ops/gitops.git", "ssh://git@bitbucket.acme.io:7999/ops/gitops.git"], refs: [{ kind: "tag", name: "v1.2.0" }],
    });
  });
});

const app = (name: string, repoURL: string, [targetRevision, path]: [string, string], annotations?: Record<string, string>): Application => ({
  apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name, ...(annotations ? { annotations } : {}) },
  spec: { project: "default", source: { repoURL, targetRevision, path }, destination: { namespace: "x" } },
});

describe("pushTargets", () => {
  const apps = [
    app("web", "https://github.com/acme/gitops", ["main", "apps/web"]),
    app("web-ssh", "git@github.com:acme/gitops.git", ["HEAD", "apps/web"]),
    app("api", "https://github.com/acme/gitops.git", ["main", "apps/api"]),
    app("api-base", "https://github.com/acme/gitops.git", ["main", "apps/api"], { "argocd.argoproj.io/manifest-generate-paths": ".;/apps/web" }),
    app("staging", "https://github.com/acme/gitops.git", ["staging", "apps/web"]),
    app("other-repo", "https://github.com/acme/other.git", ["main", "apps/web"]),
    app("prefix-repo", "https://github.com/acme/gitops-old.git", ["main", "apps/web"]),
  ];

  it("refreshes the apps of that repository and branch whose path changed, and moves the others of the branch to the revision", () => {
    expect(pushTargets(apps, parsePush("github", Buffer.from(githubPush)))).toEqual({ refresh: ["api-base", "web", "web-ssh"], revisionOnly: ["api"], listed: true });
  });

  it("refreshes every app of the repository and branch when the payload lists no files", () => {
    const push = { forge: "github" as const, repoURLs: ["https://github.com/acme/gitops.git"], refs: [{ kind: "branch" as const, name: "main" }] };
    expect(pushTargets(apps, push)).toEqual({ refresh: ["api", "api-base", "web", "web-ssh"], revisionOnly: [], listed: false });
  });

  it.each([
    ["HEAD follows the default branch", "HEAD", "main", "main", true],
    ["HEAD ignores another branch", "HEAD", "feature", "main", false],
    ["a branch by name", "release", "release", undefined, true],
    ["a branch by full ref", "refs/heads/release", "release", undefined, true],
    ["another branch", "release", "main", undefined, false],
  ])("%s", (_name, targetRevision, pushed, defaultBranch, expected) => { // eslint-disable-line max-params -- an it.each row
    const push = { forge: "github" as const, repoURLs: [], refs: [{ kind: "branch" as const, name: pushed }], ...(defaultBranch ? { defaultBranch } : {}) };
    expect(revisionPushed(targetRevision, push)).toBe(expected);
  });
});

describe("Webhook over HTTP", () => {
  let server: http.Server | undefined;
  let listed = 0;
  afterEach(() => server?.close());

  async function serve(secrets: WebhookSecrets | undefined, refreshed: string[][], maxBodyBytes?: number, coalesceMs = 400, // eslint-disable-line max-params -- test helper
    more: Partial<WebhookOptions> = {}): Promise<string> {
    const hook = new Webhook({
      ...more,
      secrets: () => Promise.resolve(secrets),
      applications: () => { listed++; return Promise.resolve([app("web", "https://github.com/acme/gitops", ["main", "apps/web"])]); },
      refresh: (names) => { refreshed.push([...names]); return Promise.resolve(); }, log: () => undefined, coalesceMs,
      ...(maxBodyBytes ? { maxBodyBytes } : {}),
    });
    server = http.createServer((req, res) => hook.handle(req, (code, body) => { res.writeHead(code); res.end(body); }));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/webhook`;
  }
  const github = (body: string, signature?: string) => ({
    method: "POST", body, headers: { "x-github-event": "push", ...(signature ? { "x-hub-signature-256": signature } : {}) },
  });

  it("answers 401 to an unsigned or wrongly signed push when a secret is set, and refreshes nothing", async () => {
    const refreshed: string[][] = [];
    const url = await serve({ github: SECRET }, refreshed);
    expect((await fetch(url, github(githubPush))).status).toBe(401);
    expect((await fetch(url, github(githubPush, `sha256=${hmac(githubPush, "wrong")}`))).status).toBe(401);
    expect((await fetch(url, { method: "POST", body: JSON.stringify({ repoURL: "https://github.com/acme/gitops" }) })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(refreshed).toEqual([]);
  });

  it("refreshes the first push at once and coalesces the rest of a flood into one more refresh and few reads of the Applications", async () => {
    const refreshed: string[][] = [];
    // A window long enough that the 20 deliveries land inside it even on a loaded machine.
    const url = await serve({ default: SECRET }, refreshed, undefined, 3_000, { maxConcurrent: 32 });
    listed = 0;
    const first = await fetch(url, github(githubPush, `sha256=${hmac(githubPush)}`));
    expect(first.status).toBe(202);
    expect(refreshed).toEqual([["web"]]);
    const answers = await Promise.all(Array.from({ length: 19 }, () => fetch(url, github(githubPush, `sha256=${hmac(githubPush)}`))));
    expect(answers.map((a) => a.status)).toEqual(Array(19).fill(202));
    expect(refreshed).toEqual([["web"]]);
    await vi.waitFor(() => expect(refreshed).toEqual([["web"], ["web"]]), { timeout: 10_000, interval: 50 });
    expect(listed).toBeLessThan(5);
  });

  it("queues the apps whose paths the push did not touch only after the touched one ran, sharing its fetch", async () => {
    const calls: string[] = [];
    const since: number[] = [];
    const hook = new Webhook({
      secrets: () => Promise.resolve({ default: SECRET }), log: () => undefined,
      applications: () => Promise.resolve([app("web", "https://github.com/acme/gitops", ["main", "apps/web"]),
        app("api", "https://github.com/acme/gitops", ["main", "apps/api"])]),
      refresh: async (names, at) => { since.push(at); await new Promise((r) => setTimeout(r, 50)); calls.push(`refresh ${names.join()}`); },
      revisionMoved: (names, at) => { since.push(at); calls.push(`revision ${names.join()}`); }, behindQuietMs: 100,
    });
    server = http.createServer((req, res) => hook.handle(req, (code, body) => { res.writeHead(code); res.end(body); }));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/webhook`, github(githubPush, `sha256=${hmac(githubPush)}`));
    expect(await res.text()).toBe("refreshing 1 application(s); 1 more move to the new revision without a change under their paths\n");
    await vi.waitFor(() => expect(calls).toEqual(["refresh web", "revision api"]), { timeout: 5_000, interval: 20 });
    // One fetch for both: the apps behind ask for one started when the delivery arrived, not when they are queued.
    expect(since[1]).toBeLessThanOrEqual(since[0]!);
    hook.stop();
  });

  it("holds the apps a busy repository's pushes did not touch until its pushes pause, then queues them once", async () => {
    const calls: string[] = [];
    const hook = new Webhook({
      secrets: () => Promise.resolve({ default: SECRET }), log: () => undefined, coalesceMs: 50, behindQuietMs: 600,
      applications: () => Promise.resolve([app("web", "https://github.com/acme/gitops", ["main", "apps/web"]),
        app("api", "https://github.com/acme/gitops", ["main", "apps/api"])]),
      refresh: (names) => { calls.push(`refresh ${names.join()}`); return Promise.resolve(); },
      revisionMoved: (names) => { calls.push(`revision ${names.join()}`); },
    });
    server = http.createServer((req, res) => hook.handle(req, (code, body) => { res.writeHead(code); res.end(body); }));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/webhook`;
    // A push every 200 ms for a second: each refreshes web; api waits.
    for (let i = 0; i < 5; i++) {
      await fetch(url, github(githubPush, `sha256=${hmac(githubPush)}`));
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(calls.filter((c) => c.startsWith("revision"))).toEqual([]);
    expect(calls.filter((c) => c.startsWith("refresh")).length).toBeGreaterThanOrEqual(3);
    await vi.waitFor(() => expect(calls.at(-1)).toBe("revision api"), { timeout: 5_000, interval: 20 });
    await new Promise((r) => setTimeout(r, 700));
    expect(calls.filter((c) => c.startsWith("revision"))).toEqual(["revision api"]);
    hook.stop();
  });

  it("answers 413 to a body over the limit", async () => {
    const url = await serve({ default: SECRET }, [], 1024);
    const res = await fetch(url, github("x".repeat(4096)));
    expect(res.status).toBe(413);
    // By default 1 MiB: a push event is a few KiB, and nothing larger is held before its signature is checked.
    const byDefault = await serve({ default: SECRET }, []);
    expect((await fetch(byDefault, github("x".repeat(2 * 1024 * 1024)))).status).toBe(413);
  });

  it("refuses every push while no secret is configured, naming the Secret and the flag", async () => {
    const refreshed: string[][] = [];
    const url = await serve(undefined, refreshed);
    const res = await fetch(url, github(githubPush));
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/no webhook secret is configured: set one in Secret tether-webhook .*--webhook-allow-unsigned/);
    await new Promise((r) => setTimeout(r, 100));
    expect(refreshed).toEqual([]);
  });

  it("accepts an unsigned push without a secret only with --webhook-allow-unsigned", async () => {
    const refreshed: string[][] = [];
    const url = await serve(undefined, refreshed, undefined, 400, { allowUnsigned: true });
    expect((await fetch(url, github(githubPush))).status).toBe(202);
    await vi.waitFor(() => expect(refreshed).toEqual([["web"]]), { timeout: 10_000, interval: 50 });
  });

  it("counts a streamed body without Content-Length and answers 413 past the limit, before reading the rest", async () => {
    const url = await serve({ default: SECRET }, [], 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // 256 MiB unless the server stops reading: it answers long before.
        sent += 64 * 1024;
        if (sent > 256 * 1024 * 1024) controller.close();
        else controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const res = await fetch(url, { method: "POST", body, duplex: "half", headers: { "x-github-event": "push" } });
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(32 * 1024 * 1024);
  });

  it("answers 503 beyond the deliveries it reads at once", async () => {
    const url = await serve({ default: SECRET }, [], undefined, 400, { maxConcurrent: 1 });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const slow = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode("{"));
        await held;
        controller.close();
      },
    });
    const first = fetch(url, { method: "POST", body: slow, duplex: "half", headers: { "x-github-event": "push" } });
    await new Promise((r) => setTimeout(r, 200));
    expect((await fetch(url, github(githubPush, `sha256=${hmac(githubPush)}`))).status).toBe(503);
    release();
    expect((await first).status).toBe(401);
    expect((await fetch(url, github(githubPush, `sha256=${hmac(githubPush)}`))).status).toBe(202);
  });
});

describe("secretsFromData", () => {
  it("reads Argo CD's key names and ignores empty values", () => {
    expect(secretsFromData({ "webhook.github.secret": "g", "webhook.gitlab.secret": " ", other: "x" })).toEqual({ github: "g" });
    expect(secretsFromData({})).toBeUndefined();
  });
});

describe("registry notifications", () => {
  it("takes the repositories of tagged manifest pushes from distribution's envelope", async () => {
    const { registryPushes, isRegistryEvent } = await import("./webhook.ts");
    const envelope = { events: [
      { action: "push", target: { mediaType: "application/vnd.oci.image.manifest.v1+json", repository: "team/web", tag: "1.2.0" } },
      { action: "push", target: { mediaType: "application/octet-stream", repository: "team/blob" } },
      { action: "pull", target: { repository: "team/pulled", tag: "1.0.0" } },
      { action: "push", target: { repository: "team/web", tag: "1.2.1" } },
    ] };
    expect(registryPushes(envelope)).toEqual(["team/web"]);
    expect(registryPushes({})).toEqual([]);
    expect(isRegistryEvent({ "content-type": "application/vnd.docker.distribution.events.v2+json; charset=utf-8" })).toBe(true);
    expect(isRegistryEvent({ "content-type": "application/json" })).toBe(false);
  });
});
