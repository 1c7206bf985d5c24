// The OCI distribution API, read-only: tags (with `Link` pagination), manifests (HEAD for a digest, GET
// for the content, image indexes and Docker manifest lists included), and the image config blob for a
// build date. HTTPS, except for registries on this machine (plain HTTP, as Docker treats 127.0.0.0/8) and
// those named insecure. Credentials go to the registry they are for, as Basic or through the registry's
// Bearer token server; they never appear in a message.
import { createHash } from "node:crypto";
import { TetherError, errorMessage } from "../errors.ts";
import { basicAuth, parseChallenges, parseTokenResponse, tokenURL, type Challenge } from "./auth.ts";
import { RateLimiter } from "./ratelimit.ts";
import { apiHost, imageName, isLoopbackRegistry, type ImageRef } from "./reference.ts";

/** A username and password (or token) for one registry, and the Secret it came from. */
export interface RegistryAuth {
  readonly username: string;
  readonly password: string;
  /** `namespace/name` of the Secret: what messages show instead of the value. */
  readonly secretName?: string;
}

/** The credential for an image's registry, or undefined for anonymous access. */
export type RegistryCredentialsProvider = (image: ImageRef) => Promise<RegistryAuth | undefined>;

/** Options for {@link RegistryClient}. */
export interface RegistryClientOptions {
  readonly credentials?: RegistryCredentialsProvider;
  /** Shared by every client of the agent so the limit holds per registry, not per caller. Default: 20/s. */
  readonly rateLimiter?: RateLimiter;
  /** A request that has not answered in this long fails (retryable). Default 30 s. */
  readonly timeoutMs?: number;
  /** Registries (`host[:port]`) reached over plain HTTP besides loopback ones: Docker's insecure-registries. */
  readonly insecureRegistries?: readonly string[];
  /** Tags asked per page (`?n=`); registries cap it, and some answer fewer with a `Link` to the next page. */
  readonly pageSize?: number;
}

/** Media types a manifest request accepts, most specific first. */
export const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
] as const;
const INDEX_TYPES = new Set<string>([MANIFEST_TYPES[0], MANIFEST_TYPES[1]]);

/** A manifest as the registry served it. */
export interface Manifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly json: ManifestJSON;
}

/** The fields of an image manifest or index that Tether reads. */
export interface ManifestJSON {
  readonly mediaType?: string;
  readonly config?: { readonly digest: string; readonly mediaType?: string };
  readonly manifests?: readonly { readonly digest: string; readonly mediaType?: string; readonly platform?: Platform }[];
}

/** An image's platform. */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** What a tag points at. */
export interface TagInfo {
  /** The digest of the manifest (or index) the tag names: what `image@digest` pins. */
  readonly digest: string;
  /** The image config's `created`, when it has one (for an index: of the chosen platform's image). */
  readonly created?: Date;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_PER_SECOND = 20;
/** Tags asked per page; the registry may answer fewer and a `Link` to the next page. */
const PAGE_SIZE = 1000;
/** A registry that pages forever is cut off here rather than looping. */
const MAX_PAGES = 1000;

/** A registry's HTTP API for one agent. */
export class RegistryClient {
  private readonly options: RegistryClientOptions;
  private readonly limiter: RateLimiter;
  /** Bearer tokens by `host repository`, until they expire. */
  private readonly tokens = new Map<string, { readonly header: string; readonly expires: number }>();

  constructor(options: RegistryClientOptions = {}) {
    this.options = options;
    this.limiter = options.rateLimiter ?? new RateLimiter(DEFAULT_PER_SECOND);
  }

  /** Every tag of the image's repository, following `Link: <…>; rel="next"` pages. */
  async listTags(image: ImageRef): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${image.repository}/tags/list?n=${this.options.pageSize ?? PAGE_SIZE}`;
    for (let page = 0; path !== undefined && page < MAX_PAGES; page++) {
      const res = await this.request(image, path, { accept: "application/json" });
      const body = await this.json(image, res, "tags list") as { tags?: unknown };
      if (Array.isArray(body.tags)) tags.push(...body.tags.filter((t): t is string => typeof t === "string"));
      path = nextPage(res.headers.get("link"), this.baseURL(image));
    }
    return [...new Set(tags)];
  }

  /** The digest `reference` (a tag or digest) names, by HEAD; GET when the registry sends no digest header. */
  async digest(image: ImageRef, reference: string): Promise<string> {
    const res = await this.request(image, `/v2/${image.repository}/manifests/${reference}`, { accept: MANIFEST_TYPES.join(", "), method: "HEAD" });
    const header = res.headers.get("docker-content-digest");
    if (header !== null && header !== "") return header;
    return (await this.manifest(image, reference)).digest;
  }

  /** The manifest or index `reference` names, checked against its digest when fetched by digest. */
  async manifest(image: ImageRef, reference: string): Promise<Manifest> {
    const res = await this.request(image, `/v2/${image.repository}/manifests/${reference}`, { accept: MANIFEST_TYPES.join(", ") });
    const bytes = Buffer.from(await res.arrayBuffer());
    const computed = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (reference.startsWith("sha256:") && reference !== computed) {
      throw this.error(image, `the manifest ${reference} the registry sent has digest ${computed}: refusing it`, false);
    }
    const json = parseJSON(bytes) as ManifestJSON | undefined;
    if (json === undefined) throw this.error(image, `the manifest ${reference} is not JSON`, false);
    const mediaType = (res.headers.get("content-type") ?? json.mediaType ?? "").split(";")[0]!.trim();
    const header = res.headers.get("docker-content-digest");
    return { digest: header !== null && header !== "" ? header : computed, mediaType, json };
  }

  /** The image config blob (`created`, `config.Labels`, …) by its digest, checked against it. */
  async config(image: ImageRef, digest: string): Promise<Record<string, unknown>> {
    const res = await this.request(image, `/v2/${image.repository}/blobs/${digest}`, { accept: "*/*" });
    const bytes = Buffer.from(await res.arrayBuffer());
    if (digest.startsWith("sha256:") && `sha256:${createHash("sha256").update(bytes).digest("hex")}` !== digest) {
      throw this.error(image, `the config blob ${digest} does not match its digest: refusing it`, false);
    }
    const json = parseJSON(bytes);
    if (typeof json !== "object" || json === null) throw this.error(image, `the config blob ${digest} is not a JSON object`, false);
    return json as Record<string, unknown>;
  }

  /**
   * What `tag` points at: its digest and build date. For an index the build date is the `platform`'s image
   * (default linux/amd64, else the first image listed).
   */
  async tagInfo(image: ImageRef, tag: string, platform?: Platform): Promise<TagInfo> {
    const top = await this.manifest(image, tag);
    let manifest = top;
    if (INDEX_TYPES.has(top.mediaType) || top.json.manifests !== undefined) {
      const chosen = pickPlatform(top.json.manifests ?? [], platform ?? { os: "linux", architecture: "amd64" });
      if (chosen === undefined) return { digest: top.digest };
      manifest = await this.manifest(image, chosen);
    }
    const configDigest = manifest.json.config?.digest;
    if (configDigest === undefined) return { digest: top.digest };
    const created = (await this.config(image, configDigest)).created;
    const date = typeof created === "string" ? new Date(created) : undefined;
    return { digest: top.digest, ...(date !== undefined && !Number.isNaN(date.getTime()) ? { created: date } : {}) };
  }

  /** `http(s)://host` of the image's registry. */
  baseURL(image: ImageRef): string {
    const host = apiHost(image.registry);
    const plain = isLoopbackRegistry(host) || (this.options.insecureRegistries ?? []).includes(image.registry);
    return `${plain ? "http" : "https"}://${host}`;
  }

  private async request(image: ImageRef, path: string, init: { accept: string; method?: string }): Promise<Response> {
    const url = new URL(path, this.baseURL(image)).toString();
    const key = `${image.registry} ${image.repository}`;
    const cached = this.tokens.get(key);
    let authorization = cached !== undefined && cached.expires > Date.now() ? cached.header : undefined;
    let res = await this.send(image, url, init, authorization);
    if (res.status === 401) {
      const auth = await this.options.credentials?.(image);
      authorization = await this.authorize(image, res.headers.get("www-authenticate") ?? "", auth);
      if (authorization !== undefined) res = await this.send(image, url, init, authorization);
      if (res.status === 401 || res.status === 403) throw this.refused(image, res.status, auth);
    }
    if (res.status === 403) throw this.refused(image, res.status, await this.options.credentials?.(image));
    if (!res.ok) throw this.statusError(image, res, path);
    return res;
  }

  private async send(image: ImageRef, url: string, init: { accept: string; method?: string }, authorization?: string): Promise<Response> {
    await this.limiter.wait(apiHost(image.registry));
    const headers: Record<string, string> = { accept: init.accept };
    if (authorization !== undefined) headers.authorization = authorization;
    try {
      return await fetch(url, { method: init.method ?? "GET", headers, signal: AbortSignal.timeout(this.timeoutMs()) });
    } catch (err) {
      throw this.error(image, `cannot reach the registry ${image.registry} (${networkReason(err)}); retrying`, true, err);
    }
  }

  /** The Authorization header the challenge asks for, or undefined when there is nothing to answer it with. */
  private async authorize(image: ImageRef, header: string, auth: RegistryAuth | undefined): Promise<string | undefined> {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === "bearer");
    if (bearer !== undefined) return this.bearer(image, bearer, auth);
    if (challenges.some((c) => c.scheme === "basic") && auth !== undefined) return basicAuth(auth.username, auth.password);
    return undefined;
  }

  private async bearer(image: ImageRef, challenge: Challenge, auth: RegistryAuth | undefined): Promise<string> {
    let url: string;
    try {
      url = tokenURL(challenge, image.repository);
    } catch (err) {
      throw this.error(image, `the registry ${image.registry} asked for a token but ${errorMessage(err)}`, false);
    }
    await this.limiter.wait(new URL(url).host);
    const headers: Record<string, string> = { accept: "application/json" };
    if (auth !== undefined) headers.authorization = basicAuth(auth.username, auth.password);
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs()) });
    } catch (err) {
      throw this.error(image, `cannot reach the token server of ${image.registry} at ${new URL(url).origin} (${networkReason(err)}); retrying`, true, err);
    }
    if (res.status === 401 || res.status === 403) throw this.refused(image, res.status, auth);
    if (!res.ok) throw this.error(image, `the token server of ${image.registry} answered HTTP ${res.status}`, res.status >= 500);
    let token: { token: string; expiresInMs: number };
    try {
      token = parseTokenResponse(await res.json());
    } catch (err) {
      throw this.error(image, `the token server of ${image.registry}: ${errorMessage(err)}`, false);
    }
    const header = `Bearer ${token.token}`;
    // Renewed a little early, so a token never expires between the check and the request.
    this.tokens.set(`${image.registry} ${image.repository}`, { header, expires: Date.now() + token.expiresInMs - 5_000 });
    return header;
  }

  private async json(image: ImageRef, res: Response, what: string): Promise<Record<string, unknown>> {
    const json = parseJSON(Buffer.from(await res.arrayBuffer()));
    if (typeof json !== "object" || json === null) throw this.error(image, `the registry's ${what} is not a JSON object`, false);
    return json as Record<string, unknown>;
  }

  private refused(image: ImageRef, status: number, auth: RegistryAuth | undefined): TetherError {
    const fix = auth === undefined
      ? "it needs credentials: set <alias>.pull-secret to a dockerconfigjson Secret, or add a repository Secret for the registry"
      : `the credentials from ${auth.secretName ?? "the pull secret"} were refused: update them`;
    return this.error(image, `the registry ${image.registry} refused access to ${imageName(image)} (HTTP ${status}): ${fix}`, false);
  }

  private statusError(image: ImageRef, res: Response, path: string): TetherError {
    const what = path.includes("/tags/list") ? "its tags" : path.includes("/blobs/") ? "an image config" : `the manifest ${path.split("/").pop()}`;
    if (res.status === 404) {
      return this.error(image, `${imageName(image)} is not in the registry ${image.registry} (HTTP 404 for ${what}): check the image name`, false);
    }
    const hint = res.status === 429 ? "the registry is rate-limiting: lower the poll rate" : "retrying";
    return this.error(image, `the registry ${image.registry} answered HTTP ${res.status} for ${what} of ${imageName(image)}; ${hint}`, res.status >= 500 || res.status === 429);
  }

  private error(image: ImageRef, message: string, retryable: boolean, cause?: unknown): TetherError {
    return new TetherError("RegistryFailed", message, { object: imageName(image), retryable, ...(cause === undefined ? {} : { cause }) });
  }

  private timeoutMs(): number {
    return this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }
}

/** The path of the next page from a `Link: </v2/…?last=x&n=y>; rel="next"` header, or undefined. */
export function nextPage(link: string | null, base: string): string | undefined {
  if (link === null) return undefined;
  for (const part of link.split(",")) {
    const m = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (m === null || !/rel="?next"?/.test(m[2]!)) continue;
    const url = new URL(m[1]!, base);
    // A next page on another host would take the credentials elsewhere.
    if (url.origin !== new URL(base).origin) return undefined;
    return `${url.pathname}${url.search}`;
  }
  return undefined;
}

/** The digest of the platform's manifest in an index: exact os/architecture(/variant), else the first non-attestation. */
export function pickPlatform(manifests: ManifestJSON["manifests"] & object, platform: Platform): string | undefined {
  const images = manifests.filter((m) => m.platform?.os !== "unknown");
  const exact = images.find((m) => m.platform?.os === platform.os && m.platform.architecture === platform.architecture
    && (platform.variant === undefined || m.platform.variant === platform.variant));
  return (exact ?? images[0])?.digest;
}

function parseJSON(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}

function networkReason(err: unknown): string {
  if (err instanceof Error && err.name === "TimeoutError") return "no answer in time";
  const cause = err instanceof Error ? err.cause : undefined;
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined;
  return code ?? errorMessage(cause ?? err);
}
