import { describe, expect, it } from "vitest";
import { credentialScope, matchCredential, type CredentialEntry } from "./credentials.ts";

const entry = (url: string, type: CredentialEntry["type"] = "repo-creds", secretName = `s-${url}`): CredentialEntry =>
  ({ secretName, type, url, username: "robot", password: "token" });

describe("matchCredential", () => {
  it.each([
    ["the same repository", "https://git.example.com/org/repo.git", "https://git.example.com/org/repo.git"],
    ["the repository without .git", "https://git.example.com/org/repo", "https://git.example.com/org/repo.git"],
    ["an organisation prefix", "https://git.example.com/org", "https://git.example.com/org/repo.git"],
    ["a prefix with a trailing slash", "https://git.example.com/org/", "https://git.example.com/org/repo"],
    ["the whole host", "https://git.example.com", "https://git.example.com/org/repo"],
    ["the default port written out", "https://git.example.com:443/org", "https://git.example.com/org/repo"],
    ["a host in another case", "https://GIT.example.com/Org", "https://git.example.com/org/repo"],
    ["an ssh prefix for an scp-like URL", "ssh://git@git.example.com/org", "git@git.example.com:org/repo.git"],
    ["an scp-like prefix for an ssh URL", "git@git.example.com:org", "ssh://git@git.example.com/org/repo.git"],
  ])("sends a credential for %s", (_name, credentialURL, repoURL) => {
    expect(matchCredential(repoURL, [entry(credentialURL)])?.url).toBe(credentialURL);
  });

  it.each([
    ["a port that only starts the same (issue 13, failure 1)", "http://127.0.0.1:3483", "http://127.0.0.1:34837/org/repo"],
    ["another port", "https://git.example.com:8443/org", "https://git.example.com/org/repo"],
    ["another scheme", "https://git.example.com/org", "http://git.example.com/org/repo"],
    ["a host that only starts the same", "https://git.example.com", "https://git.example.com.evil.io/org/repo"],
    ["a path segment that only starts the same", "https://git.example.com/org", "https://git.example.com/org-b/repo"],
    ["a longer path than the repository", "https://git.example.com/org/repo/sub", "https://git.example.com/org/repo"],
    ["a file URL", "file:///srv/git", "file:///srv/git/repo"],
    ["a URL that does not parse", "not a url", "https://git.example.com/org/repo"],
  ])("sends no credential for %s", (_name, credentialURL, repoURL) => {
    expect(matchCredential(repoURL, [entry(credentialURL)])).toBeUndefined();
  });

  it("prefers the longest matching path", () => {
    const chosen = matchCredential("https://git.example.com/org/team/repo", [
      entry("https://git.example.com"), entry("https://git.example.com/org/team"), entry("https://git.example.com/org"),
    ]);
    expect(chosen?.url).toBe("https://git.example.com/org/team");
  });

  it("prefers a repository Secret over a repo-creds template of the same URL", () => {
    const chosen = matchCredential("https://git.example.com/org/repo", [
      entry("https://git.example.com/org/repo", "repo-creds", "template"),
      entry("https://git.example.com/org/repo.git", "repository", "own"),
    ]);
    expect(chosen?.secretName).toBe("own");
  });
});

describe("credentialScope", () => {
  it("fills in the scheme's default port and drops user info", () => {
    expect(credentialScope("https://user:pw@Git.Example.com/Org/Repo.git")).toEqual({
      scheme: "https", host: "git.example.com", port: 443, segments: ["org", "repo"],
    });
  });
});
