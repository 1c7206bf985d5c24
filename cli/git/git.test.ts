import { describe, expect, it } from "vitest";
import { classifyGitError, explainGitError, type GitFailure } from "./git.ts";
import { parseLsRemote } from "./workspace.ts";

describe("git failures", () => {
  it.each<[string, GitFailure]>([
    [" ! [rejected]        HEAD -> main (fetch first)\nerror: failed to push some refs to 'x'", "rejected"],
    [" ! [rejected]        HEAD -> main (non-fast-forward)", "rejected"],
    ["fatal: Authentication failed for 'http://127.0.0.1:1234/gitops.git/'", "auth"],
    ["fatal: could not read Username for 'https://github.com': terminal prompts disabled", "auth"],
    ["git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.", "auth"],
    ["fatal: couldn't find remote ref v9.9.9", "missing-ref"],
    ["fatal: '/tmp/nope.git' does not appear to be a git repository", "not-found"],
    ["remote: Repository not found.\nfatal: repository 'https://github.com/x/y/' not found", "not-found"],
    [" ! [remote rejected] HEAD -> main (pre-receive hook declined)", "refused"],
    ["fatal: unable to access 'https://git.invalid/x/': Could not resolve host: git.invalid", "network"],
    ["fatal: unable to access 'http://127.0.0.1:1/x/': Failed to connect to 127.0.0.1 port 1: Connection refused", "network"],
    ["fatal: something new", "other"],
  ])("sorts %j as %s", (stderr, kind) => {
    expect(classifyGitError(stderr)).toBe(kind);
  });

  it("names the flag to fix and never prints the token or a temporary path", () => {
    const message = explainGitError("fatal: Authentication failed for 'http://git:s3cret@127.0.0.1/x.git' in /tmp/tether-repo-abc", {
      repo: "http://127.0.0.1/x.git", hadToken: true, action: "reading", secrets: ["s3cret"], paths: ["/tmp/tether-repo-abc"],
    });
    expect(message).toContain("reading http://127.0.0.1/x.git failed");
    expect(message).toContain("check --git-token (or TETHER_GIT_TOKEN)");
    expect(message).not.toContain("s3cret");
    expect(message).not.toContain("/tmp/tether-repo-abc");
  });

  it("passes on what the server said", () => {
    const stderr = "remote: main is protected: open a pull request\nTo /srv/gitops.git\n ! [remote rejected] HEAD -> main (pre-receive hook declined)\nerror: failed to push some refs to '/srv/gitops.git'";
    expect(explainGitError(stderr, { repo: "/srv/gitops.git", hadToken: false, action: "push" })).toBe("push /srv/gitops.git failed: failed to push some refs to '/srv/gitops.git'\n"
      + "The server said: main is protected: open a pull request\n"
      + "The server refused the push (a hook or branch protection): nothing was changed. Push through a pull request or ask for write access.");
  });

  it("asks for a token when the server wants credentials and none was given", () => {
    expect(explainGitError("fatal: could not read Username for 'https://x': terminal prompts disabled", { repo: "https://x", hadToken: false, action: "reading" }))
      .toContain("pass --git-token TOKEN or set TETHER_GIT_TOKEN");
  });
});

describe("ls-remote", () => {
  it("reads the default branch and the branches", () => {
    const out = "ref: refs/heads/trunk\tHEAD\n1111111111111111111111111111111111111111\tHEAD\n"
      + "1111111111111111111111111111111111111111\trefs/heads/trunk\n2222222222222222222222222222222222222222\trefs/heads/dev\n"
      + "3333333333333333333333333333333333333333\trefs/tags/v1\n";
    const parsed = parseLsRemote(out);
    expect(parsed.head).toBe("trunk");
    expect([...parsed.branches.keys()]).toEqual(["trunk", "dev"]);
    expect(parseLsRemote("")).toEqual({ branches: new Map() });
  });
});
