// Everything read from the network has a size limit, applied while the body streams in: a
// repository or registry must not make the agent hold more than it decided to.
import { TetherError } from "../errors.ts";

const MiB = 1024 * 1024;

/**
 * What the agent reads from chart repositories and registries at most (`--max-helm-index-size`,
 * `--max-chart-size`); webhook bodies have `--webhook-max-payload`. Unset fields keep the defaults.
 */
export interface FetchLimits {
  /** A repository's `index.yaml`; default 64 MiB, several times the largest public index. */
  readonly maxIndexBytes?: number;
  /** A chart archive (HTTP or OCI); default 32 MiB. */
  readonly maxChartBytes?: number;
}

export const DEFAULT_MAX_INDEX_BYTES = 64 * MiB;
export const DEFAULT_MAX_CHART_BYTES = 32 * MiB;

export interface LimitedRead {
  /** Bytes the body may hold. */
  readonly limit: number;
  /** What is read, for the message (`index.yaml`, `chart archive`). */
  readonly what: string;
  /** The agent flag that raises the limit, for the message. */
  readonly flag: string;
}

/**
 * The body of `response`, refused as soon as it grows past `limit` (and before reading when
 * Content-Length says so): never more than the limit is held in memory.
 */
export async function readLimited(response: Response, read: LimitedRead & { readonly url: string; readonly chart: string }): Promise<Buffer> {
  const tooLarge = () => new TetherError("SourceFailed",
    `${read.chart}: the ${read.what} at ${read.url} is larger than the limit of ${sizeLabel(read.limit)}; ` +
    `a repository that large is refused (raise the agent's ${read.flag} if it is genuine)`, { object: read.chart });
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > read.limit) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body === null) return Buffer.alloc(0);
  // Leaving the loop (the throw) cancels the stream: the rest is never read.
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > read.limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function sizeLabel(bytes: number): string {
  return bytes >= MiB ? `${Math.round((bytes / MiB) * 10) / 10} MiB` : `${bytes} bytes`;
}

