import { describe, expect, it } from "vitest";
import { apiHost, formatImageRef, imageName, isLoopbackRegistry, parseImageRef } from "./reference.ts";

describe("parseImageRef", () => {
  it.each([
    ["nginx", { registry: "docker.io", repository: "library/nginx" }],
    ["nginx:1.25", { registry: "docker.io", repository: "library/nginx", tag: "1.25" }],
    ["bitnami/nginx:1.25", { registry: "docker.io", repository: "bitnami/nginx", tag: "1.25" }],
    ["docker.io/library/nginx", { registry: "docker.io", repository: "library/nginx" }],
    ["index.docker.io/nginx", { registry: "docker.io", repository: "library/nginx" }],
    ["ghcr.io/org/app:v1", { registry: "ghcr.io", repository: "org/app", tag: "v1" }],
    ["127.0.0.1:5000/team/app:1.0.0", { registry: "127.0.0.1:5000", repository: "team/app", tag: "1.0.0" }],
    ["localhost/app", { registry: "localhost", repository: "app" }],
    [`quay.io/a/b@sha256:${"a".repeat(64)}`, { registry: "quay.io", repository: "a/b", digest: `sha256:${"a".repeat(64)}` }],
  ])("%s", (text, expected) => expect(parseImageRef(text)).toEqual(expected));

  it.each([["", /empty/], ["Nginx", /invalid repository name .*Nginx/], ["app:bad tag", /invalid tag/], ["app@md5", /invalid digest/]])(
    "refuses %j", (text, message) => expect(() => parseImageRef(text)).toThrow(message));

  it("prints names as Docker does and knows Docker Hub's API host", () => {
    expect(imageName(parseImageRef("nginx"))).toBe("nginx");
    expect(imageName(parseImageRef("bitnami/nginx"))).toBe("bitnami/nginx");
    expect(formatImageRef(parseImageRef("127.0.0.1:5000/app:1"))).toBe("127.0.0.1:5000/app:1");
    expect(apiHost("docker.io")).toBe("registry-1.docker.io");
  });

  it.each([["127.0.0.1:5000", true], ["localhost:5000", true], ["[::1]:5000", true], ["127.1.2.3", true], ["ghcr.io", false], ["10.0.0.1:5000", false]])(
    "%s on this machine: %s", (registry, loopback) => expect(isLoopbackRegistry(registry)).toBe(loopback));
});
