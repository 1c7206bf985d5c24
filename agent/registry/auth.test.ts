import { describe, expect, it } from "vitest";
import { parseChallenges, parseTokenResponse, tokenURL } from "./auth.ts";
import { nextPage, pickPlatform } from "./client.ts";
import { RateLimiter } from "./ratelimit.ts";

describe("registry challenges", () => {
  it("reads Docker Hub's Bearer challenge", () => {
    const [c] = parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"');
    expect(c).toEqual({ scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/nginx:pull" } });
    expect(tokenURL(c!, "library/nginx")).toBe("https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull");
  });

  it("reads a Basic challenge and several challenges in one header", () => {
    expect(parseChallenges('Basic realm="Registry Realm"')).toEqual([{ scheme: "basic", params: { realm: "Registry Realm" } }]);
    expect(parseChallenges('Basic realm=x, Bearer realm="https://t/token"').map((c) => c.scheme)).toEqual(["basic", "bearer"]);
  });

  it("asks for pull on the repository when the challenge names no scope", () => {
    expect(tokenURL({ scheme: "bearer", params: { realm: "https://t/token" } }, "team/app")).toBe("https://t/token?scope=repository%3Ateam%2Fapp%3Apull");
  });

  it("takes token or access_token, 60 s when the server gives no lifetime", () => {
    expect(parseTokenResponse({ token: "t", expires_in: 300 })).toEqual({ token: "t", expiresInMs: 300_000 });
    expect(parseTokenResponse({ access_token: "a" })).toEqual({ token: "a", expiresInMs: 60_000 });
    expect(() => parseTokenResponse({})).toThrow(/without a token/);
  });
});

describe("tags list pages", () => {
  it("follows rel=next on the registry's own origin only", () => {
    expect(nextPage('</v2/app/tags/list?last=b&n=2>; rel="next"', "http://127.0.0.1:5000")).toBe("/v2/app/tags/list?last=b&n=2");
    expect(nextPage('<https://evil.example/v2/app/tags/list?last=b>; rel="next"', "https://r.example")).toBeUndefined();
    expect(nextPage(null, "https://r.example")).toBeUndefined();
  });
});

describe("pickPlatform", () => {
  const index = [
    { digest: "sha256:arm", platform: { os: "linux", architecture: "arm64" } },
    { digest: "sha256:amd", platform: { os: "linux", architecture: "amd64" } },
    { digest: "sha256:att", platform: { os: "unknown", architecture: "unknown" } },
  ];
  it("takes the asked platform, else the first image (never an attestation)", () => {
    expect(pickPlatform(index, { os: "linux", architecture: "amd64" })).toBe("sha256:amd");
    expect(pickPlatform(index, { os: "windows", architecture: "amd64" })).toBe("sha256:arm");
  });
});

describe("RateLimiter", () => {
  it("spaces requests to one host and not across hosts", () => {
    const limiter = new RateLimiter(10, () => 1000);
    expect([limiter.reserve("a"), limiter.reserve("a"), limiter.reserve("a"), limiter.reserve("b")]).toEqual([0, 100, 200, 0]);
  });
});
