// agent/registry against the real distribution registry on 127.0.0.1: tags over several pages, digests of
// manifests and indexes, build dates from config blobs, Basic and Bearer token auth, a registry that is down.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RateLimiter, RegistryClient, discoverTags, parseImageRef, selectTag, type RegistryAuth } from "../../agent/registry/index.ts";
import { REGISTRY_USER, deleteTag, pushImage, startImageRegistry, type ImageRegistry } from "./registry.ts";

const at = (day: number): Date => new Date(Date.UTC(2026, 0, day));

describe("the registry client on an open registry", () => {
  let registry: ImageRegistry;
  beforeAll(async () => {
    registry = await startImageRegistry();
    for (const [tag, day] of [["1.0.0", 1], ["1.2.0", 3], ["1.2.5", 2], ["2.0.0", 4], ["latest", 5]] as const) {
      await pushImage(registry.host, { repository: "team/app", tag, created: at(day) });
    }
  });
  afterAll(async () => registry?.cleanup());

  it("lists every tag across Link pages", async () => {
    const client = new RegistryClient({ pageSize: 2 });
    const tags = await client.listTags(parseImageRef(`${registry.host}/team/app`));
    expect(tags.sort()).toEqual(["1.0.0", "1.2.0", "1.2.5", "2.0.0", "latest"]);
  });

  it("reads a tag's digest and build date, for a manifest and for an index", async () => {
    const pushed = await pushImage(registry.host, { repository: "team/multi", tag: "3.0.0", created: at(9), platforms: ["linux/arm64", "linux/amd64"] });
    const client = new RegistryClient();
    const image = parseImageRef(`${registry.host}/team/multi`);
    expect(await client.digest(image, "3.0.0")).toBe(pushed);
    expect(await client.tagInfo(image, "3.0.0")).toEqual({ digest: pushed, created: at(9) });
    const single = await client.tagInfo(parseImageRef(`${registry.host}/team/app`), "1.2.5");
    expect(single.created).toEqual(at(2));
    expect(single.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("chooses by semver and by build date from what the registry holds", async () => {
    const client = new RegistryClient();
    const image = parseImageRef(`${registry.host}/team/app`);
    const names = await client.listTags(image);
    const semverPick = selectTag(names.map((name) => ({ name })), { strategy: "semver", constraint: "~1.2" });
    expect(semverPick.kind === "selected" && semverPick.tag.name).toBe("1.2.5");
    const dated = await Promise.all(names.map(async (name) => ({ name, ...(await client.tagInfo(image, name)) })));
    const newest = selectTag(dated, { strategy: "newest-build", ignore: ["latest"] });
    expect(newest.kind === "selected" && newest.tag.name).toBe("2.0.0");
    const found = await discoverTags(client, image, { strategy: "newest-build", ignore: ["latest"] }, { limit: 2 });
    expect(found.listed).toBe(5);
    expect(found.ranked.map((t) => t.name)).toEqual(["2.0.0", "1.2.0"]);
    expect(found.selection).toMatchObject({ kind: "selected", tag: { name: "2.0.0", digest: await client.digest(image, "2.0.0"), created: at(4) } });
  });

  it("says a repository is not there, naming the image", async () => {
    const client = new RegistryClient();
    await expect(client.listTags(parseImageRef(`${registry.host}/team/nothing`))).rejects.toThrow(
      `${registry.host}/team/nothing is not in the registry ${registry.host} (HTTP 404 for its tags): check the image name`);
  });

  it("no longer lists a deleted tag", async () => {
    await pushImage(registry.host, { repository: "team/gone", tag: "0.1.0", created: at(1) });
    await pushImage(registry.host, { repository: "team/gone", tag: "0.2.0", created: at(2) });
    await deleteTag(registry.host, "team/gone", "0.2.0");
    expect(await new RegistryClient().listTags(parseImageRef(`${registry.host}/team/gone`))).toEqual(["0.1.0"]);
  });

  it("spaces requests to one registry by the rate limit", async () => {
    const client = new RegistryClient({ rateLimiter: new RateLimiter(10), pageSize: 1 });
    const started = Date.now();
    await client.listTags(parseImageRef(`${registry.host}/team/app`));
    // Five pages at ten a second: the last request waits about 400 ms for its slot.
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });
});

describe("the registry client with credentials", () => {
  const good: RegistryAuth = { ...REGISTRY_USER, secretName: "tether-system/pull" };
  const bad: RegistryAuth = { username: REGISTRY_USER.username, password: "wrong", secretName: "tether-system/stale" };

  it.each(["basic", "token"] as const)("%s auth: reads with the Secret's credentials, and names the Secret when they are refused", async (auth) => {
    const registry = await startImageRegistry({ auth });
    try {
      await pushImage(registry.host, { repository: "private/app", tag: "1.0.0" }, true);
      const image = parseImageRef(`${registry.host}/private/app`);
      expect(await new RegistryClient({ credentials: () => Promise.resolve(good) }).listTags(image)).toEqual(["1.0.0"]);
      if (auth === "token") expect(registry.tokenRequests).toContain("repository:private/app:pull");
      await expect(new RegistryClient({ credentials: () => Promise.resolve(bad) }).listTags(image)).rejects.toThrow(
        /refused access to .*private\/app \(HTTP 401\): the credentials from tether-system\/stale were refused: update them/);
      await expect(new RegistryClient().listTags(image)).rejects.toThrow(/it needs credentials: set <alias>.pull-secret/);
    } finally {
      await registry.cleanup();
    }
  });
});

describe("a registry that is down", () => {
  it("is a retryable error naming the registry", async () => {
    const registry = await startImageRegistry();
    await registry.cleanup();
    const error = await new RegistryClient().listTags(parseImageRef(`${registry.host}/team/app`)).catch((err: unknown) => err);
    expect(error).toMatchObject({ reason: "RegistryFailed", retryable: true, message: expect.stringContaining(`cannot reach the registry ${registry.host} (ECONNREFUSED)`) });
  });
});
