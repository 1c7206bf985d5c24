import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathWithTools } from "../../test/harness/paths.ts";
import { chartRepoDir, serveDir, startRegistry, type ChartRepoDir, type Registry, type StaticServer } from "../../test/sources/chart-repos.ts";
import { TetherError } from "../errors.ts";
import { helmRepoAccess, type SecretLike } from "./helm-credentials.ts";
import { ChartFetcher, chartRepo, exactVersion, selectVersion, type IndexEntry } from "./helm-repo.ts";

/** helm and the registry are real processes: on two busy cores a pull can take several seconds. */
const HELM_TIMEOUT_MS = 60_000;

let repo: ChartRepoDir;
let server: StaticServer;
let registry: Registry;
let cacheRoot: string;
let caches = 0;

beforeAll(async () => {
  process.env.PATH = pathWithTools();
  cacheRoot = await mkdtemp(join(tmpdir(), "tether-charts-test-"));
  repo = await chartRepoDir();
  for (const version of ["1.0.0", "1.2.0", "2.0.0-rc.1", "2.0.0"]) await repo.add({ name: "shop", version });
  server = await serveDir(repo.dir);
  registry = await startRegistry();
  await registry.push({ name: "podinfo", version: "6.5.0" }, "charts");
  await registry.push({ name: "podinfo", version: "6.7.1" }, "charts");
}, 120_000);

afterAll(async () => {
  await server.close();
  await registry.stop();
  await repo.cleanup();
  await rm(cacheRoot, { recursive: true, force: true });
});

function fetcher(secrets: readonly SecretLike[] = []): ChartFetcher {
  return new ChartFetcher({ cacheDir: join(cacheRoot, `cache-${++caches}`), access: (url) => Promise.resolve(helmRepoAccess(url, secrets)) });
}

async function failure(promise: Promise<unknown>): Promise<TetherError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  return err as TetherError;
}

function secret(name: string, data: Record<string, string>, type = "repository"): SecretLike {
  return {
    metadata: { name, labels: { "argocd.argoproj.io/secret-type": type } },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
}

describe("charts from an HTTP chart repository (index.yaml)", { timeout: HELM_TIMEOUT_MS }, () => {
  it("fetches an exact version, verified, and serves it again from the cache without asking the repository", async () => {
    const charts = fetcher();
    const first = await charts.fetch({ repoURL: server.url, chart: "shop", targetRevision: "1.2.0" });
    expect(first.version).toBe("1.2.0");
    expect((await readFile(first.archive)).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const asked = server.requests.length;
    const again = await charts.fetch({ repoURL: server.url, chart: "shop", targetRevision: "1.2.0" });
    expect(again.archive).toBe(first.archive);
    expect(server.requests.length).toBe(asked);
  });

  it.each([
    ["^1.0.0", "1.2.0"],
    ["1.*", "1.2.0"],
    [">=1.0.0 <1.2.0", "1.0.0"],
    ["*", "2.0.0"],
    ["", "2.0.0"],
    ["2.0.0-rc.1", "2.0.0-rc.1"],
  ])("takes targetRevision '%s' as Argo CD does: version %s", async (targetRevision, version) => {
    expect((await fetcher().fetch({ repoURL: server.url, chart: "shop", targetRevision })).version).toBe(version);
  });

  it("resolves a constraint from the index alone, and an exact version without any request", async () => {
    const asked = server.requests.length;
    expect(await fetcher().resolve({ repoURL: server.url, chart: "shop", targetRevision: "^1.0.0" })).toBe("1.2.0");
    expect(server.requests.slice(asked)).toEqual(["/index.yaml"]);
    expect(await fetcher().resolve({ repoURL: server.url, chart: "shop", targetRevision: "1.0.0" })).toBe("1.0.0");
    expect(server.requests.length).toBe(asked + 1);
  });

  it("names an unknown chart and lists what the repository has", async () => {
    const err = await failure(fetcher().fetch({ repoURL: server.url, chart: "shoop", targetRevision: "1.0.0" }));
    expect(err).toMatchObject({ reason: "SourceFailed", retryable: false, object: `chart shoop from ${server.url}` });
    expect(err.message).toBe(`chart 'shoop' is not in ${server.url}: fix spec.source.chart (the repository has shop)`);
  });

  it("names a version no release matches and lists the available ones", async () => {
    const err = await failure(fetcher().fetch({ repoURL: server.url, chart: "shop", targetRevision: "3.x" }));
    expect(err.message).toBe(`no version of chart shop in ${server.url} matches '3.x' (available: 2.0.0, 2.0.0-rc.1, 1.2.0, 1.0.0): fix spec.source.targetRevision`);
  });

  it("refuses an archive whose digest does not match the index, and caches nothing", async () => {
    const tampered = await chartRepoDir();
    try {
      await tampered.add({ name: "shop", version: "1.0.0" });
      await writeFile(join(tampered.dir, "shop-1.0.0.tgz"), Buffer.concat([await readFile(join(tampered.dir, "shop-1.0.0.tgz")), Buffer.from("x")]));
      const served = await serveDir(tampered.dir);
      const cacheDir = join(cacheRoot, "tampered");
      try {
        const err = await failure(new ChartFetcher({ cacheDir }).fetch({ repoURL: served.url, chart: "shop", targetRevision: "1.0.0" }));
        expect(err.reason).toBe("SourceFailed");
        expect(err.message).toMatch(/^chart shop from http:\/\/127\.0\.0\.1:\d+ version 1\.0\.0: the archive's sha256 [0-9a-f]{64} does not match the index digest [0-9a-f]{64}/);
        expect(await readdir(cacheDir).catch(() => [])).toEqual([]);
      } finally {
        await served.close();
      }
    } finally {
      await tampered.cleanup();
    }
  });

  it("says a repository that does not answer is unreachable, retryable", async () => {
    const down = await serveDir(repo.dir);
    await down.close();
    const err = await failure(fetcher().fetch({ repoURL: down.url, chart: "shop", targetRevision: "^1" }));
    expect(err).toMatchObject({ reason: "SourceFailed", retryable: true });
    expect(err.message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+\/index\.yaml \(ECONNREFUSED\)/);
  });

  it("sends the credentials of the matching repository Secret, and says which Secret was refused", async () => {
    const locked = await serveDir(repo.dir, { username: "ci", password: "s3cret" });
    try {
      const anonymous = await failure(fetcher().fetch({ repoURL: locked.url, chart: "shop", targetRevision: "1.0.0" }));
      expect(anonymous.message).toContain("answered HTTP 401: no repository Secret matches it");
      const good = secret("shop-charts", { type: "helm", url: locked.url, username: "ci", password: "s3cret" });
      expect((await fetcher([good]).fetch({ repoURL: locked.url, chart: "shop", targetRevision: "1.0.0" })).version).toBe("1.0.0");
      const wrong = secret("stale", { type: "helm", url: locked.url, username: "ci", password: "old" });
      const refused = await failure(fetcher([wrong]).fetch({ repoURL: locked.url, chart: "shop", targetRevision: "1.0.0" }));
      expect(refused.message).toContain("the credentials of Secret stale were refused");
      expect(refused.message).not.toContain("old");
    } finally {
      await locked.close();
    }
  });
});

describe("charts from an OCI registry (helm pull)", { timeout: HELM_TIMEOUT_MS }, () => {
  const plain = (url: string) => secret("registry", { type: "helm", enableOCI: "true", url, insecureOCIForceHttp: "true" });

  it("pulls oci://host/path and Argo CD's scheme-less host/path, exact and by constraint", async () => {
    const oci = `oci://${registry.host}/charts`;
    expect((await fetcher([plain(oci)]).fetch({ repoURL: oci, chart: "podinfo", targetRevision: "6.5.0" })).version).toBe("6.5.0");
    const bare = `${registry.host}/charts`;
    expect((await fetcher([plain(bare)]).fetch({ repoURL: bare, chart: "podinfo", targetRevision: "^6.0.0" })).version).toBe("6.7.1");
  });

  it("serves an exact version from the cache once pulled, even with the registry gone", async () => {
    const own = await startRegistry();
    const oci = `oci://${own.host}/charts`;
    await own.push({ name: "podinfo", version: "6.5.0" }, "charts");
    const charts = fetcher([plain(oci)]);
    const pulled = await charts.fetch({ repoURL: oci, chart: "podinfo", targetRevision: "6.5.0" });
    await own.stop();
    expect(await charts.fetch({ repoURL: oci, chart: "podinfo", targetRevision: "6.5.0" })).toEqual(pulled);
    const err = await failure(charts.fetch({ repoURL: oci, chart: "podinfo", targetRevision: "6.7.1" }));
    expect(err).toMatchObject({ reason: "SourceFailed", retryable: true, object: `chart podinfo from ${oci}` });
    expect(err.message).toContain("cannot reach the registry");
  });

  it("names a chart or version the registry does not have", async () => {
    const oci = `oci://${registry.host}/charts`;
    const err = await failure(fetcher([plain(oci)]).fetch({ repoURL: oci, chart: "podinfo", targetRevision: "9.9.9" }));
    expect(err).toMatchObject({ reason: "SourceFailed", retryable: false });
    expect(err.message).toMatch(/^chart podinfo from oci:\/\/127\.0\.0\.1:\d+\/charts: /);
  });
});

describe("size limits on chart archives (issue 22)", { timeout: HELM_TIMEOUT_MS }, () => {
  it("refuses an HTTP chart archive larger than the limit while reading it, naming the URL and the limit", async () => {
    const small = new ChartFetcher({ cacheDir: join(cacheRoot, `cache-${++caches}`), maxChartBytes: 100 });
    const err = await failure(small.fetch({ repoURL: server.url, chart: "shop", targetRevision: "1.0.0" }));
    expect(err.message).toMatch(/the chart archive at http:\/\/\S+shop-1\.0\.0\.tgz is larger than the limit of 100 bytes/);
  });

  it("refuses an OCI chart archive larger than the limit before reading it into memory", async () => {
    const secrets = [secret("registry", { type: "helm", enableOCI: "true", url: `oci://${registry.host}/charts`, insecureOCIForceHttp: "true" })];
    const access = (url: string) => Promise.resolve(helmRepoAccess(url, secrets));
    const fetcher = new ChartFetcher({ cacheDir: join(cacheRoot, `cache-${++caches}`), maxChartBytes: 100, access });
    const err = await failure(fetcher.fetch({ repoURL: `oci://${registry.host}/charts`, chart: "podinfo", targetRevision: "6.7.1" }));
    expect(err.message).toContain(`the chart archive at oci://${registry.host}/charts/podinfo is larger than the limit of 100 bytes`);
  });
});

describe("repository URLs and versions", () => {
  it.each([
    ["https://charts.example.com/stable/", { kind: "http", url: "https://charts.example.com/stable" }],
    ["oci://ghcr.io/org/charts", { kind: "oci", ref: "ghcr.io/org/charts" }],
    ["registry-1.docker.io/bitnamicharts", { kind: "oci", ref: "registry-1.docker.io/bitnamicharts" }],
  ])("reads %s", (url, want) => {
    expect(chartRepo(url)).toEqual(want);
  });

  it("refuses a URL that is no chart repository", () => {
    for (const url of ["git@github.com:org/repo.git", "ssh://git@github.com/org/repo", "charts", ""]) {
      expect(() => chartRepo(url)).toThrow(/is not a chart repository: use https:\/\/host\/path \(index.yaml\) or oci:\/\/host\/path/);
    }
  });

  it.each([["1.2.3", "1.2.3"], ["v1.2.3", "1.2.3"], ["^1.2", undefined], ["1.2", undefined], ["", undefined]])("exactVersion(%s) = %s", (text, want) => {
    expect(exactVersion(text)).toBe(want);
  });

  it("refuses a targetRevision that is neither a version nor a constraint", () => {
    const entries: IndexEntry[] = [{ version: "1.0.0", urls: ["a.tgz"] }];
    expect(() => selectVersion(entries, { repoURL: "https://x", chart: "a", targetRevision: "main" })).toThrow(/neither a version nor a semver constraint/);
  });
});

describe("helmRepoAccess", () => {
  const secrets = [
    secret("team", { type: "helm", url: "https://charts.example.com/team", username: "t", password: "p1" }),
    secret("git", { type: "git", url: "https://charts.example.com", username: "g", password: "p2" }),
    secret("ghcr", { type: "helm", enableOCI: "true", url: "ghcr.io/org", username: "o", password: "p3" }, "repo-creds"),
  ];

  it.each([
    ["https://charts.example.com/team", "team"],
    ["https://charts.example.com/team/sub", "team"],
    ["https://charts.example.com/team-b", undefined],
    ["http://charts.example.com/team", undefined],
    ["https://charts.example.com:8443/team", undefined],
    ["oci://ghcr.io/org/charts", "ghcr"],
    ["ghcr.io/org", "ghcr"],
    ["ghcr.io/organisation", undefined],
  ])("gives %s the credentials of %s (scheme, host, port exact; path at a segment boundary; helm Secrets only)", (url, name) => {
    expect(helmRepoAccess(url, secrets)?.secretName).toBe(name);
  });
});
