import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TetherError } from "../errors.ts";
import { ChartFetcher } from "./helm-repo.ts";

/**
 * A chart repository that never stops: `/index.yaml` streams YAML comments without a Content-Length,
 * `/declared/index.yaml` announces 1 GiB. Counts the bytes it managed to send.
 */
let server: http.Server;
let base: string;
let sent = 0;
let cache: string;

beforeAll(async () => {
  cache = await mkdtemp(join(tmpdir(), "tether-limits-"));
  server = http.createServer((req, res) => {
    if (req.url === "/declared/index.yaml") {
      res.writeHead(200, { "content-length": String(1024 ** 3) });
      res.write("# big\n");
      return;
    }
    res.writeHead(200, { "content-type": "application/yaml" });
    const chunk = `# ${"x".repeat(64 * 1024)}\n`;
    const pump = () => {
      while (!res.destroyed && res.write(chunk)) sent += chunk.length;
      if (!res.destroyed) res.once("drain", pump);
    };
    res.on("close", () => res.removeAllListeners("drain"));
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(cache, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<TetherError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  return err as TetherError;
}

describe("size limits on what is read from the network", () => {
  it("stops reading an index.yaml that grows past the limit, naming the URL and the limit", async () => {
    const fetcher = new ChartFetcher({ cacheDir: cache, maxIndexBytes: 1024 * 1024 });
    const err = await failure(fetcher.fetch({ repoURL: base, chart: "shop", targetRevision: "1.*" }));
    expect(err.reason).toBe("SourceFailed");
    expect(err.message).toContain(`the index.yaml at ${base}/index.yaml is larger than the limit of 1 MiB`);
    expect(err.message).toContain("raise the agent's --max-helm-index-size");
    // The body was cancelled once past the limit: not much more than the limit was ever sent.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
  });

  it("refuses before reading when Content-Length is over the limit", async () => {
    const fetcher = new ChartFetcher({ cacheDir: cache });
    const err = await failure(fetcher.resolve({ repoURL: `${base}/declared`, chart: "shop", targetRevision: "1.*" }));
    expect(err.message).toContain(`the index.yaml at ${base}/declared/index.yaml is larger than the limit of 64 MiB`);
  });
});
