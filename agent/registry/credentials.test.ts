import { describe, expect, it } from "vitest";
import { dockerConfigAuth, repositoryAuth } from "./credentials.ts";
import { parseImageRef } from "./reference.ts";

const b64 = (text: string): string => Buffer.from(text).toString("base64");
const pullSecret = (auths: Record<string, unknown>) => ({ type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": b64(JSON.stringify({ auths })) } });

describe("dockerConfigAuth", () => {
  it("uses only the entry for the image's registry", () => {
    const secret = pullSecret({ "ghcr.io": { auth: b64("bot:ghp") }, "127.0.0.1:5000": { username: "u", password: "p" } });
    expect(dockerConfigAuth(secret, parseImageRef("127.0.0.1:5000/app"), "ns/s")).toEqual({ username: "u", password: "p", secretName: "ns/s" });
    expect(dockerConfigAuth(secret, parseImageRef("ghcr.io/o/app"), "ns/s")).toEqual({ username: "bot", password: "ghp", secretName: "ns/s" });
    expect(dockerConfigAuth(secret, parseImageRef("quay.io/o/app"), "ns/s")).toBeUndefined();
  });

  it("knows Docker Hub's legacy key", () => {
    const secret = pullSecret({ "https://index.docker.io/v1/": { auth: b64("me:tok") } });
    expect(dockerConfigAuth(secret, parseImageRef("nginx"), "ns/s")?.username).toBe("me");
  });

  it("refuses a Secret that is no pull Secret, naming it", () => {
    expect(() => dockerConfigAuth({ data: { password: b64("x") } }, parseImageRef("nginx"), "ns/s")).toThrow(/Secret ns\/s is not a pull Secret/);
  });
});

describe("repositoryAuth", () => {
  const secret = (name: string, url: string) => ({
    metadata: { name, labels: { "argocd.argoproj.io/secret-type": "repo-creds" } },
    data: { type: b64("oci"), url: b64(url), username: b64(name), password: b64("pw") },
  });
  it("matches registry and repository path as Git credentials are", () => {
    const secrets = [secret("team", "oci://registry.example/team"), secret("other", "registry.example/other")];
    expect(repositoryAuth(parseImageRef("registry.example/team/app"), secrets, "tether-system")?.secretName).toBe("tether-system/team");
    expect(repositoryAuth(parseImageRef("registry.example/teamb/app"), secrets, "tether-system")).toBeUndefined();
    expect(repositoryAuth(parseImageRef("registry.example:8443/team/app"), secrets, "tether-system")).toBeUndefined();
  });
});
