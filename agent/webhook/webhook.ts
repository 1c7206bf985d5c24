// The git webhook: a forge says a repository was pushed, and the Applications that follow the pushed
// branch and path are refreshed at once; those of the branch whose paths did not change are queued
// to record the new revision once pushes are quiet (agent/webhook/match.ts). Only a request signed with the
// shared secret is believed; without any secret, deliveries are refused unless the agent runs with
// `--webhook-allow-unsigned`. Bodies are counted as they stream (413 past the limit, never buffered
// beyond it), a few deliveries are read at once (503 beyond), and a flood of pushes costs at most two
// refreshes per app and window: the first push at once, the rest together when the window closes.
import { timingSafeEqual } from "node:crypto";
import type http from "node:http";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { TetherClient } from "../api/client.ts";
import { REFRESH_ANNOTATION, type Application } from "../api/types.ts";
import { errorMessage } from "../errors.ts";
import { forgeOf, isPush, parsePush, verifySignature, type Forge, type Push } from "./forges.ts";
import { pushTargets, type PushTargets } from "./match.ts";

const COALESCE_MS = 300;
/**
 * The apps a push moved to a new revision without touching their paths record it once pushes to the
 * agent have been quiet this long (or at the next poll, which queues every app): while a busy
 * repository takes a commit every few seconds, their hundred reconciles would compete with the one
 * each push touched. Argo CD leaves them to the next refresh altogether.
 */
const BEHIND_QUIET_MS = 3000;
/** Once quiet, they still wait for the last refresh at most this long (a hook, a large chart). */
const BEHIND_WAIT_MS = 10_000;

export type Send = (code: number, body: string, type?: string) => void;

/** Shared secrets per forge; `default` serves a forge that has none of its own. */
export type WebhookSecrets = Partial<Record<Forge | "default" | "registry", string>>;

/** The Secret the agent reads the webhook secrets from, in its namespace. */
export const WEBHOOK_SECRET_NAME = "tether-webhook";

/** Keys of that Secret, spelled as in Argo CD's `argocd-secret` (`webhook.github.secret`, ...). */
const SECRET_KEYS: Record<string, Forge | "default" | "registry"> = {
  "webhook.secret": "default",
  "webhook.github.secret": "github",
  "webhook.gitlab.secret": "gitlab",
  "webhook.gitea.secret": "gitea",
  "webhook.gogs.secret": "gitea",
  "webhook.bitbucket.secret": "bitbucket",
  "webhook.bitbucketserver.secret": "bitbucketserver",
  "webhook.registry.secret": "registry",
};

/** Whether a delivery is a distribution registry's notification envelope. */
export function isRegistryEvent(headers: http.IncomingHttpHeaders): boolean {
  return (headers["content-type"] ?? "").split(";")[0]!.trim() === "application/vnd.docker.distribution.events.v2+json";
}

/** The repositories a notification envelope says were pushed with a tag (manifest pushes; blob pushes and pulls ignored). */
export function registryPushes(envelope: unknown): string[] {
  const events = (envelope as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) return [];
  const out = new Set<string>();
  for (const e of events as { action?: unknown; target?: { repository?: unknown; tag?: unknown } }[]) {
    if (e.action === "push" && typeof e.target?.repository === "string" && typeof e.target.tag === "string" && e.target.tag !== "") out.add(e.target.repository);
  }
  return [...out];
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The secrets held by a Secret's decoded data; undefined when it holds none. */
export function secretsFromData(data: Readonly<Record<string, string>>): WebhookSecrets | undefined {
  const secrets: WebhookSecrets = {};
  for (const [key, forge] of Object.entries(SECRET_KEYS)) {
    const value = data[key]?.trim();
    if (value) secrets[forge] = value;
  }
  return Object.keys(secrets).length === 0 ? undefined : secrets;
}

export interface WebhookOptions {
  /** The configured secrets, read at each request (cache in the reader): a rotated Secret applies at once. */
  readonly secrets: () => Promise<WebhookSecrets | undefined>;
  /** The Applications the agent manages. */
  readonly applications: () => Promise<readonly Application[]>;
  /**
   * Refreshes these Applications with a fetch started at `since` or later (the delivery's arrival, so
   * the pushed commit is in it); resolves once they have run (the controller) or were asked to (the
   * refresh annotation, for apps another replica reconciles). `touched`: those of them a push's file
   * list named a file of (the others' pushes listed no files).
   */
  readonly refresh: (names: readonly string[], since: number, touched: readonly string[]) => Promise<void>;
  /**
   * Told, after the refresh of the apps a push touched, of the apps whose revision moved with nothing
   * changed under their paths: the controller queues them to record the revision (no render), sharing
   * the fetch started at `since` or later.
   */
  readonly revisionMoved?: (names: readonly string[], since: number) => void;
  readonly log: (line: string) => void;
  /** Larger bodies get 413, counted while they stream. Default 1 MiB: a push event is a few KiB (`--webhook-max-payload`). */
  readonly maxBodyBytes?: number;
  /** Deliveries read and checked at once; more get 503. Default 4: at most 4 × maxBodyBytes held in memory. */
  readonly maxConcurrent?: number;
  /**
   * Accept unsigned deliveries while no webhook secret is configured (`--webhook-allow-unsigned`).
   * Off, anyone who reaches the port cannot make the agent fetch and reconcile at will.
   */
  readonly allowUnsigned?: boolean;
  /**
   * Told of a registry's push notification (distribution's `application/vnd.docker.distribution.events.v2+json`
   * envelope): the image updater polls at once instead of at its next interval.
   */
  readonly onRegistryPush?: (repositories: readonly string[]) => void;
  /** Told of every verified push (the ApplicationSet controller refreshes the sets whose generators read the repository). */
  readonly onPush?: (push: Push) => void;
  /** Pushes after the first within this window cost one more refresh per app, when it closes. Default 300 ms: a burst of deliveries arrives within it. */
  readonly coalesceMs?: number;
  /** The apps a push did not touch are queued once no push came for this long. Default 3 s. */
  readonly behindQuietMs?: number;
}

const DEFAULT_MAX_BODY = 1024 * 1024;
const DEFAULT_MAX_CONCURRENT = 4;

/** Reads the body; resolves undefined (after answering 413) when it is larger than `limit`. */
function readBody(req: http.IncomingMessage, limit: number, send: Send): Promise<Buffer | undefined> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) {
    send(413, `payload larger than ${limit} bytes\n`);
    req.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        send(413, `payload larger than ${limit} bytes\n`);
        req.destroy();
        resolve(undefined);
      } else {
        chunks.push(chunk);
      }
    });
    req.on("end", () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export class Webhook {
  /** Apps to refresh, each with whether a push's file list named a file under its paths. */
  private readonly pending = new Map<string, boolean>();
  /** Apps whose revision moved without a change under their paths, queued once pushes are quiet. */
  private readonly behind = new Set<string>();
  /** When the latest push arrived: a fetch started since then has every pushed commit. */
  private behindSince = 0;
  private behindTimer: NodeJS.Timeout | undefined;
  /** The refresh of the latest window, which the apps behind wait for. */
  private refreshed: Promise<void> = Promise.resolve();
  /** Deliveries being read and checked now. */
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The Applications, read at most once per coalescing window: a flood of pushes costs one list. */
  private apps: { readonly at: number; readonly list: Promise<readonly Application[]> } | undefined;

  constructor(private readonly opts: WebhookOptions) {}

  /** Says at start-up what happens to deliveries when no secret is configured. */
  async warnIfUnsigned(namespace: string): Promise<void> {
    const secrets = await this.opts.secrets().catch(() => undefined);
    if (secrets !== undefined) return;
    const where = `Secret ${namespace}/${WEBHOOK_SECRET_NAME}, key webhook.secret or webhook.<forge>.secret`;
    this.opts.log(this.opts.allowUnsigned
      ? `warning: no webhook secret (${where}) and --webhook-allow-unsigned: /api/webhook accepts unsigned requests; anyone who can reach it can trigger refreshes`
      : `no webhook secret (${where}): /api/webhook refuses every delivery until one is set (or the agent runs with --webhook-allow-unsigned)`);
  }

  /** Handles `POST /api/webhook`. */
  handle(req: http.IncomingMessage, send: Send): void {
    if (this.inFlight >= (this.opts.maxConcurrent ?? DEFAULT_MAX_CONCURRENT)) {
      req.resume();
      return send(503, "too many webhook deliveries at once; retry shortly\n");
    }
    this.inFlight++;
    this.deliver(req, send).catch((err: unknown) => {
      this.opts.log(`webhook: ${errorMessage(err)}`);
      send(500, "internal error\n");
    }).finally(() => { this.inFlight--; });
  }

  /** Drops what is pending; the agent calls it on stop (the poll covers every app). */
  stop(): void {
    clearTimeout(this.timer);
    clearTimeout(this.behindTimer);
    this.timer = undefined;
    this.behindTimer = undefined;
  }

  private async deliver(req: http.IncomingMessage, send: Send): Promise<void> {
    const body = await readBody(req, this.opts.maxBodyBytes ?? DEFAULT_MAX_BODY, send);
    if (body === undefined) return;
    const secrets = await this.opts.secrets();
    if (isRegistryEvent(req.headers)) return this.registryEvent(req, body, { secrets, send });
    const forge = forgeOf(req.headers);
    if (secrets === undefined && !this.opts.allowUnsigned) {
      return send(401, `no webhook secret is configured: set one in Secret ${WEBHOOK_SECRET_NAME} (webhook.secret or webhook.<forge>.secret) `
        + "and in the forge, or start the agent with --webhook-allow-unsigned\n");
    }
    if (secrets !== undefined) {
      const secret = secrets[forge] ?? secrets.default;
      if (secret === undefined || !verifySignature(forge, req.headers, body, secret)) {
        return send(401, forge === "generic"
          ? "unsigned request: a webhook secret is configured, so only signed GitHub, GitLab, Gitea, Forgejo and Bitbucket deliveries are accepted\n"
          : `the ${forge} signature is missing or does not match the configured secret\n`);
      }
    }
    if (!isPush(forge, req.headers)) return send(200, "ignored: not a push event\n");
    let targets: PushTargets;
    try {
      const push = parsePush(forge, body);
      this.opts.onPush?.(push);
      targets = pushTargets(await this.applications(), push);
    } catch (err) {
      if (err instanceof SyntaxError) return send(400, "payload is not JSON\n");
      throw err;
    }
    this.schedule(targets);
    const behind = targets.revisionOnly.length > 0 ? `; ${targets.revisionOnly.length} more move to the new revision without a change under their paths` : "";
    send(202, `refreshing ${targets.refresh.length} application(s)${behind}\n`);
  }

  /**
   * A registry's notification: pushes of tagged manifests wake the image updater. With a secret configured
   * the registry must send it as `Authorization: Bearer <secret>` (its endpoint's `headers`), the key
   * `webhook.registry.secret` or `webhook.secret`; otherwise the same rule as forges (--webhook-allow-unsigned).
   */
  private registryEvent(req: http.IncomingMessage, body: Buffer, ctx: { secrets: WebhookSecrets | undefined; send: Send }): void {
    const { secrets, send } = ctx;
    if (secrets === undefined && !this.opts.allowUnsigned) {
      return send(401, `no webhook secret is configured: set webhook.registry.secret in Secret ${WEBHOOK_SECRET_NAME} and send it from the registry as Authorization: Bearer <secret>\n`);
    }
    const secret = secrets?.registry ?? secrets?.default;
    if (secrets !== undefined && (secret === undefined || !sameSecret(req.headers.authorization ?? "", `Bearer ${secret}`))) {
      return send(401, "the registry notification lacks Authorization: Bearer <webhook.registry.secret>\n");
    }
    let repositories: string[];
    try {
      repositories = registryPushes(JSON.parse(body.toString("utf8")));
    } catch {
      return send(400, "payload is not JSON\n");
    }
    if (repositories.length > 0) this.opts.onRegistryPush?.(repositories);
    send(202, `${repositories.length} pushed tag(s) noted\n`);
  }

  private applications(): Promise<readonly Application[]> {
    if (this.apps === undefined || Date.now() - this.apps.at >= (this.opts.coalesceMs ?? COALESCE_MS)) {
      const list = this.opts.applications();
      // A failed list is not kept: the next delivery asks again.
      list.catch(() => { this.apps = undefined; });
      this.apps = { at: Date.now(), list };
    }
    return this.apps.list;
  }

  private schedule(targets: PushTargets): void {
    // One instant for the delivery: the apps behind share the fetch the touched ones start now.
    const now = Date.now();
    for (const name of targets.refresh) {
      this.pending.set(name, this.pending.get(name) === true || targets.listed);
      this.behind.delete(name);
    }
    for (const name of targets.revisionOnly) if (!this.pending.has(name)) this.behind.add(name);
    // The first push of a quiet spell is refreshed at once; the window then collects the rest.
    if (this.timer === undefined) this.flush(now);
    if (this.behind.size > 0) this.deferBehind(now);
  }

  /** Refreshes what is pending; keeps a window open while pushes come. */
  private flush(now = Date.now()): void {
    const refresh = [...this.pending.keys()];
    const touched = refresh.filter((name) => this.pending.get(name) === true);
    this.pending.clear();
    if (refresh.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.opts.coalesceMs ?? COALESCE_MS);
    this.refreshed = this.opts.refresh(refresh, now, touched)
      .catch((err: unknown) => this.opts.log(`webhook: refresh of ${refresh.join(", ")} failed: ${errorMessage(err)}`));
  }

  /** Queues the apps behind once no push came for {@link BEHIND_QUIET_MS} and the last refresh ran. */
  private deferBehind(now: number): void {
    this.behindSince = now;
    clearTimeout(this.behindTimer);
    this.behindTimer = setTimeout(() => {
      this.behindTimer = undefined;
      const since = this.behindSince;
      let waited: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => { waited = setTimeout(resolve, BEHIND_WAIT_MS); });
      void Promise.race([this.refreshed, bound]).then(() => {
        clearTimeout(waited);
        const names = [...this.behind].filter((name) => !this.pending.has(name));
        this.behind.clear();
        if (names.length > 0) this.opts.revisionMoved?.(names, since);
      });
    }, this.opts.behindQuietMs ?? BEHIND_QUIET_MS);
  }
}

/** Reads the webhook secrets from the Secret in the agent namespace, at most once per `ttlMs`. */
export function secretReader(kc: KubeConfig, namespace: string, ttlMs = 5000): () => Promise<WebhookSecrets | undefined> {
  const core = kc.makeApiClient(CoreV1Api);
  const read = () => core.readNamespacedSecret({ name: WEBHOOK_SECRET_NAME, namespace }).then(
    (secret) => secretsFromData(Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]))),
    (err: unknown) => {
      if ((err as { code?: unknown }).code === 404) return undefined;
      // Fail closed: a Secret that cannot be read must not turn signature checks off.
      throw err;
    });
  let cached: { at: number; value: Promise<WebhookSecrets | undefined> } | undefined;
  let ahead = false;
  return () => {
    const age = cached === undefined ? Infinity : Date.now() - cached.at;
    if (cached === undefined || age >= ttlMs) {
      cached = { at: Date.now(), value: read() };
      return cached.value;
    }
    // Read again ahead of expiry while deliveries keep coming: a busy repository's pushes never wait
    // on the API server, and a changed Secret still counts within the TTL.
    if (age >= ttlMs / 2 && !ahead) {
      ahead = true;
      const at = Date.now();
      const value = read();
      void value.then(() => { cached = { at, value }; }, () => undefined).finally(() => { ahead = false; });
    }
    return cached.value;
  };
}

/**
 * Refreshes Applications as Argo CD's webhook does: by setting the refresh annotation, which the
 * controller turns into a reconcile with a fresh fetch and then removes.
 */
export function refreshThroughAnnotation(client: TetherClient): (names: readonly string[]) => Promise<void> {
  return async (names) => {
    const value = new Date().toISOString();
    await Promise.all(names.map((name) => client.mergeApplication(name, { metadata: { annotations: { [REFRESH_ANNOTATION]: value } } })
      .catch((err: unknown) => { if ((err as { code?: unknown }).code !== 404) throw err; })));
  };
}
