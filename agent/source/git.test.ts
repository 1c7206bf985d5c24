import { describe, expect, it } from "vitest";
import { classifyFetchError, gitReason } from "./git.ts";

const overSsh = (line: string) => `${line}\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n`;

describe("gitReason and classifyFetchError over SSH", () => {
  it("shows ssh's own reason instead of git's generic fatal line", () => {
    expect(gitReason(overSsh("Host key verification failed."))).toBe("Host key verification failed");
    expect(gitReason(overSsh("root@127.0.0.1: Permission denied (publickey)."))).toBe("root@127.0.0.1: Permission denied (publickey)");
    expect(gitReason("fatal: repository 'x' not found\n")).toBe("repository 'x' not found");
  });

  it("sends an unknown host key to the known hosts ConfigMap and a refused key to the credentials, neither retried", () => {
    const host = classifyFetchError(overSsh("Host key verification failed."), true);
    expect(host).toEqual({ hint: expect.stringContaining("ConfigMap tether-ssh-known-hosts") as unknown, retryable: false });
    const key = classifyFetchError(overSsh("git@h: Permission denied (publickey)."), true);
    expect(key).toEqual({ hint: "the credentials for this repository were refused: update them", retryable: false });
  });
});
