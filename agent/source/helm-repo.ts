// Helm chart repositories as Argo CD reads them: `repoURL` is an HTTP(S) chart repository serving
// `index.yaml`, or an OCI registry (`oci://host/path`, or Argo CD's scheme-less `host/path`);
// `chart` names the chart; `targetRevision` is an exact version or a semver constraint.
// Charts are fetched once per (repository, chart, version), verified against the index digest, and
// kept in the cache directory as the `.tgz` the repository served.
import { createHash } from "node:crypto";
import { access, mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import semver from "semver";
import { parse as parseYaml } from "yaml";
import { TetherError, errorMessage } from "../errors.ts";
import { DEFAULT_MAX_CHART_BYTES, DEFAULT_MAX_INDEX_BYTES, readLimited, type LimitedRead } from "./limits.ts";
import { pullOciChart, type OciPull } from "./oci.ts";

/** How to reach one chart repository; from a repository Secret (see `helmRepoAccess`). */
export interface HelmRepoAccess {
  readonly username?: string;
  readonly password?: string;
  /** The Secret it came from: messages name it, never the password. */
  readonly secretName?: string;
  /** Argo CD's `insecureOCIForceHttp`: talk plain HTTP to an OCI registry (a registry on a private network). */
  readonly plainHttp?: boolean;
}

/** The access to use for a chart repository URL (as written in the Application); undefined for anonymous. */
export type HelmAccessProvider = (repoURL: string) => Promise<HelmRepoAccess | undefined>;

/** One chart to fetch: `spec.source.repoURL`, `chart` and `targetRevision`. */
export interface ChartRef {
  readonly repoURL: string;
  readonly chart: string;
  /** An exact version or a semver constraint (`1.2.*`, `>=1.0.0 <2.0.0`, `^1.2`); empty or `*`: the newest release. */
  readonly targetRevision?: string;
}

/** A fetched, verified chart archive in the cache. */
export interface FetchedChart {
  /** The `.tgz`, to be read only: it is shared by every app that uses this (repository, chart, version). */
  readonly archive: string;
  readonly chart: string;
  /** The version chosen for `targetRevision`: what status and history record as the source's revision. */
  readonly version: string;
}

/** Where a chart repository URL points. */
export type ChartRepo =
  | { readonly kind: "http"; readonly url: string }
  /** `ref` is `host/path` without scheme, the chart's repository without the chart name. */
  | { readonly kind: "oci"; readonly ref: string };

/** One release of a chart in a repository's index. */
export interface IndexEntry {
  readonly version: string;
  /** sha256 of the archive, hex, as `helm repo index` writes it; absent in hand-written indexes. */
  readonly digest?: string;
  readonly urls: readonly string[];
}

export interface ChartFetcherOptions {
  /** Charts are kept under `<cacheDir>/charts/`; on a persistent volume a restart fetches nothing again. */
  readonly cacheDir: string;
  readonly access?: HelmAccessProvider;
  /** A request that takes longer is abandoned (retryable). Default 60 s. */
  readonly timeoutMs?: number;
  /**
   * The most a repository's `index.yaml` may hold (default 64 MiB, several times the largest public
   * index): a repository must not make the agent buffer what it likes. Counted while reading.
   */
  readonly maxIndexBytes?: number;
  /** The most a chart archive (HTTP or OCI) may hold; default 32 MiB. */
  readonly maxChartBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** Whether a repoURL names an HTTP(S) chart repository or an OCI registry. */
export function chartRepo(repoURL: string): ChartRepo {
  const text = repoURL.trim().replace(/\/+$/, "");
  if (/^https?:\/\//i.test(text)) return { kind: "http", url: text };
  if (/^oci:\/\//i.test(text)) return { kind: "oci", ref: text.replace(/^oci:\/\//i, "") };
  // Argo CD's spelling for OCI registries: `registry-1.docker.io/bitnamicharts`, host[:port]/path without scheme.
  if (!/^[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._-]+)+$/.test(text)) {
    throw new TetherError("SourceFailed", `${repoURL} is not a chart repository: use https://host/path (index.yaml) or oci://host/path`, { object: repoURL });
  }
  return { kind: "oci", ref: text };
}

/** The releases of `chart` in an `index.yaml`, newest first as Helm lists them. */
export function parseIndex(text: string, where: ChartRef): IndexEntry[] {
  let index: unknown;
  try {
    index = parseYaml(text, { maxAliasCount: 10_000 });
  } catch (err) {
    throw new TetherError("SourceFailed", `${where.repoURL}/index.yaml is not valid YAML: ${errorMessage(err)}`, { object: where.repoURL });
  }
  const entries = isRecord(index) && isRecord(index.entries) ? index.entries : undefined;
  if (entries === undefined) {
    throw new TetherError("SourceFailed", `${where.repoURL}/index.yaml has no entries: is ${where.repoURL} a Helm chart repository?`, { object: where.repoURL });
  }
  const releases = entries[where.chart];
  if (!Array.isArray(releases) || releases.length === 0) {
    throw new TetherError("SourceFailed", `chart '${where.chart}' is not in ${where.repoURL}: fix spec.source.chart (the repository has ${listed(Object.keys(entries))})`, { object: chartName(where) });
  }
  return releases.filter(isRecord).map((r) => ({
    version: String(r.version),
    ...(typeof r.digest === "string" && r.digest !== "" ? { digest: r.digest.toLowerCase() } : {}),
    urls: Array.isArray(r.urls) ? r.urls.filter((u): u is string => typeof u === "string") : [],
  }));
}

/**
 * The release `targetRevision` selects, as Argo CD selects it: a version written exactly, else the
 * newest release satisfying the constraint (pre-releases only when the constraint names one).
 */
export function selectVersion(entries: readonly IndexEntry[], ref: ChartRef): IndexEntry {
  const wanted = (ref.targetRevision ?? "").trim();
  const exact = entries.find((e) => e.version === wanted || e.version === wanted.replace(/^v/, ""));
  if (exact !== undefined) return exact;
  const range = wanted === "" ? "*" : wanted;
  if (semver.validRange(range, { loose: true }) === null) {
    throw new TetherError("SourceFailed", `targetRevision '${wanted}' of chart ${ref.chart} is neither a version nor a semver constraint: fix spec.source.targetRevision`, { object: chartName(ref) });
  }
  const best = semver.maxSatisfying(entries.map((e) => e.version).filter((v) => semver.valid(v, { loose: true }) !== null), range, { loose: true });
  const chosen = best === null ? undefined : entries.find((e) => e.version === best);
  if (chosen === undefined) {
    const available = listed(entries.map((e) => e.version));
    throw new TetherError("SourceFailed", `no version of chart ${ref.chart} in ${ref.repoURL} matches '${wanted || "*"}' (available: ${available}): fix spec.source.targetRevision`, { object: chartName(ref) });
  }
  return chosen;
}

/** Where an index entry's archive is: its URL as written, or relative to the repository. */
export function archiveURL(repoURL: string, entry: IndexEntry): string {
  const first = entry.urls[0];
  if (first === undefined) throw new TetherError("SourceFailed", `${repoURL}/index.yaml lists version ${entry.version} without a URL`, { object: repoURL });
  return new URL(first, `${repoURL.replace(/\/+$/, "")}/`).toString();
}

/** `chart NAME from URL`: how messages and error objects name a chart. */
export function chartName(ref: ChartRef): string {
  return `chart ${ref.chart} from ${ref.repoURL}`;
}

/**
 * Fetches charts from chart repositories and OCI registries into a cache. A chart of an exact version
 * already in the cache is not asked for again; a constraint asks the repository which versions exist.
 */
export class ChartFetcher {
  private readonly options: ChartFetcherOptions;
  /** Downloads in flight, so concurrent apps wanting one chart download it once. */
  private readonly inflight = new Map<string, Promise<FetchedChart>>();

  constructor(options: ChartFetcherOptions) {
    this.options = options;
  }

  /** The verified archive of `ref`; throws `TetherError("SourceFailed")` naming the chart and repository. */
  async fetch(ref: ChartRef): Promise<FetchedChart> {
    const repo = chartRepo(ref.repoURL);
    const access = await this.options.access?.(ref.repoURL);
    const exact = exactVersion(ref.targetRevision);
    if (exact !== undefined) {
      const cached = await this.cached(ref, exact);
      if (cached !== undefined) return cached;
    }
    if (repo.kind === "oci") return this.once(ref, exact ?? ref.targetRevision ?? "", () => this.fetchOci(ref, repo.ref, access));
    const entry = selectVersion(parseIndex(await this.index(repo.url, ref, access), ref), ref);
    return this.once(ref, entry.version, async () => (await this.cached(ref, entry.version)) ?? this.download(ref, entry, access));
  }

  /**
   * The version `targetRevision` selects, without downloading when it can: an exact version is
   * itself, a constraint on an HTTP repository is decided by its index; on an OCI registry the
   * chart is pulled (helm resolves constraints only while pulling) and kept in the cache.
   */
  async resolve(ref: ChartRef): Promise<string> {
    const exact = exactVersion(ref.targetRevision);
    if (exact !== undefined) return exact;
    const repo = chartRepo(ref.repoURL);
    if (repo.kind === "oci") return (await this.fetch(ref)).version;
    const access = await this.options.access?.(ref.repoURL);
    return selectVersion(parseIndex(await this.index(repo.url, ref, access), ref), ref).version;
  }

  private once(ref: ChartRef, version: string, run: () => Promise<FetchedChart>): Promise<FetchedChart> {
    const key = `${ref.repoURL}\0${ref.chart}\0${version}`;
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = run().finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private archivePath(ref: ChartRef, version: string): string {
    const repoKey = createHash("sha256").update(ref.repoURL.trim().replace(/\/+$/, "").replace(/^oci:\/\//i, "oci:")).digest("hex").slice(0, 16);
    return join(this.options.cacheDir, "charts", repoKey, `${safeSegment(ref.chart)}-${safeSegment(version)}.tgz`);
  }

  private async cached(ref: ChartRef, version: string): Promise<FetchedChart | undefined> {
    const archive = this.archivePath(ref, version);
    return access(archive).then(() => ({ archive, chart: ref.chart, version }), () => undefined);
  }

  private async download(ref: ChartRef, entry: IndexEntry, repoAccess: HelmRepoAccess | undefined): Promise<FetchedChart> {
    const url = archiveURL(ref.repoURL, entry);
    // Helm's rule: credentials go to the archive only when it is on the repository's own host.
    const sameOrigin = new URL(url).origin === new URL(chartRepoURL(ref)).origin;
    const bytes = await this.getBytes(url, ref, { access: sameOrigin ? repoAccess : undefined, limit: this.maxChartBytes(), what: "chart archive", flag: "--max-chart-size" });
    const digest = createHash("sha256").update(bytes).digest("hex");
    if (entry.digest !== undefined && entry.digest !== digest) {
      throw new TetherError("SourceFailed", `${chartName(ref)} version ${entry.version}: the archive's sha256 ${digest} does not match the index digest ${entry.digest}; the chart was changed after it was indexed, or something between rewrote it`, { object: chartName(ref) });
    }
    return this.store(ref, entry.version, bytes);
  }

  private async fetchOci(ref: ChartRef, repoRef: string, repoAccess: HelmRepoAccess | undefined): Promise<FetchedChart> {
    const pull: OciPull = {
      ref: `${repoRef}/${ref.chart}`, version: ref.targetRevision ?? "", ...(repoAccess ? { access: repoAccess } : {}), timeoutMs: this.timeout(),
      maxBytes: this.maxChartBytes(),
    };
    const pulled = await pullOciChart(pull).catch((err: unknown) => {
      if (err instanceof TetherError) throw new TetherError(err.reason, `${chartName(ref)}: ${err.message}`, { object: chartName(ref), retryable: err.retryable, cause: err });
      throw err;
    });
    return (await this.cached(ref, pulled.version)) ?? this.store(ref, pulled.version, pulled.bytes);
  }

  /** Writes the archive under a temporary name first: a crash never leaves a half-written chart behind. */
  private async store(ref: ChartRef, version: string, bytes: Buffer): Promise<FetchedChart> {
    const archive = this.archivePath(ref, version);
    await mkdir(join(archive, ".."), { recursive: true });
    const tmp = `${archive}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, archive);
    return { archive, chart: ref.chart, version };
  }

  private timeout(): number {
    return this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  private maxChartBytes(): number {
    return this.options.maxChartBytes ?? DEFAULT_MAX_CHART_BYTES;
  }

  private async index(repoURL: string, ref: ChartRef, access: HelmRepoAccess | undefined): Promise<string> {
    const limit = this.options.maxIndexBytes ?? DEFAULT_MAX_INDEX_BYTES;
    return (await this.getBytes(`${repoURL}/index.yaml`, ref, { access, limit, what: "index.yaml", flag: "--max-helm-index-size" })).toString("utf8");
  }

  private async getBytes(url: string, ref: ChartRef, read: LimitedRead & { readonly access: HelmRepoAccess | undefined }): Promise<Buffer> {
    const repoAccess = read.access;
    const headers: Record<string, string> = {};
    if (repoAccess?.password !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${repoAccess.username ?? ""}:${repoAccess.password}`).toString("base64")}`;
    }
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(this.timeout()), redirect: "follow" });
    } catch (err) {
      throw new TetherError("SourceFailed", `${chartName(ref)}: cannot reach ${withoutSecrets(url)} (${causeOf(err)}); retrying`, { object: chartName(ref), retryable: true, cause: err });
    }
    if (!response.ok) throw statusError(response.status, url, ref, repoAccess);
    return await readLimited(response, { limit: read.limit, what: read.what, flag: read.flag, url: withoutSecrets(url), chart: chartName(ref) });
  }
}

function statusError(status: number, url: string, ref: ChartRef, repoAccess: HelmRepoAccess | undefined): TetherError {
  const where = withoutSecrets(url);
  const opts = { object: chartName(ref) };
  if (status === 401 || status === 403) {
    const which = repoAccess?.secretName === undefined ? "no repository Secret matches it: add one (argocd.argoproj.io/secret-type: repository, type: helm)" : `the credentials of Secret ${repoAccess.secretName} were refused`;
    return new TetherError("SourceFailed", `${chartName(ref)}: ${where} answered HTTP ${status}: ${which}`, opts);
  }
  if (status === 404) return new TetherError("SourceFailed", `${chartName(ref)}: ${where} answered HTTP 404: is ${ref.repoURL} a Helm chart repository?`, opts);
  return new TetherError("SourceFailed", `${chartName(ref)}: ${where} answered HTTP ${status}; retrying`, { ...opts, retryable: status >= 500 || status === 429 });
}

/** A targetRevision naming one version (not a constraint): a cache hit needs no network. */
export function exactVersion(targetRevision: string | undefined): string | undefined {
  const text = (targetRevision ?? "").trim().replace(/^v(?=\d)/, "");
  return semver.valid(text) === text ? text : undefined;
}

function chartRepoURL(ref: ChartRef): string {
  return `${ref.repoURL.replace(/\/+$/, "")}/`;
}

function withoutSecrets(url: string): string {
  const parsed = new URL(url);
  parsed.username = "";
  parsed.password = "";
  parsed.search = "";
  return parsed.toString();
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === "string") return cause.code;
  if (err instanceof Error && err.name === "TimeoutError") return "timed out";
  return errorMessage(err);
}

function listed(names: readonly string[]): string {
  if (names.length === 0) return "none";
  return names.length > 10 ? `${names.slice(0, 10).join(", ")}, …` : names.join(", ");
}

/** A chart name or version as a file name: Helm allows neither `/` nor `..` there, but Git is not Helm. */
function safeSegment(text: string): string {
  return text.replace(/[^A-Za-z0-9._+-]/g, "_").replace(/^\.+/, "_");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
