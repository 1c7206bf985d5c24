import { describe, expect, it } from "vitest";
import { matchCredential } from "../../agent/source/credentials.ts";
import { repoCredentialSecret, secretNameFor } from "./add.ts";

const decoded = (data: unknown) => Object.fromEntries(Object.entries(data as Record<string, string>)
  .map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));

describe("repoCredentialSecret", () => {
  it("writes Argo CD's fields under the repository label, named after the URL", () => {
    const secret = repoCredentialSecret({ url: "https://git.example.com/acme/gitops.git", namespace: "tether-system", username: "robot", password: "t0ken" });
    expect(secret.metadata.labels?.["tether.dev/secret-type"]).toBe("repository");
    expect(secret.metadata.name).toMatch(/^repo-git-example-com-gitops-[0-9a-f]{8}$/);
    expect(decoded((secret as { data?: unknown }).data)).toEqual({
      type: "git", url: "https://git.example.com/acme/gitops.git", username: "robot", password: "t0ken",
    });
  });

  it("writes a repo-creds template that the agent's matcher then applies under its path only", () => {
    const secret = repoCredentialSecret({ url: "https://git.example.com/acme", namespace: "ns", password: "t", template: true });
    expect(secret.metadata.labels?.["tether.dev/secret-type"]).toBe("repo-creds");
    const entry = { secretName: secret.metadata.name ?? "", type: "repo-creds" as const, url: "https://git.example.com/acme", password: "t" };
    expect(matchCredential("https://git.example.com/acme/app.git", [entry])?.secretName).toBe(secret.metadata.name);
    expect(matchCredential("https://git.example.com/acme-evil/app.git", [entry])).toBeUndefined();
  });

  it("stores an SSH key for an scp-like URL", () => {
    const secret = repoCredentialSecret({ url: "git@github.com:acme/gitops.git", namespace: "ns", sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\n" });
    expect(decoded((secret as { data?: unknown }).data).sshPrivateKey).toContain("OPENSSH PRIVATE KEY");
    expect(decoded((secret as { data?: unknown }).data).insecure).toBeUndefined();
  });

  it("marks an SSH credential insecure only when asked, as Argo CD's `insecure` field", () => {
    const secret = repoCredentialSecret({ url: "ssh://git@h:2222/r", namespace: "ns", sshPrivateKey: "k", insecureIgnoreHostKey: true });
    expect(decoded((secret as { data?: unknown }).data).insecure).toBe("true");
  });

  it.each([
    ["a local path", { url: "/srv/git/repo", password: "x" }, /never sent to file:\/\/ or local paths/],
    ["a file URL", { url: "file:///srv/git/repo", password: "x" }, /never sent to file:\/\//],
    ["HTTPS without a password", { url: "https://h/r" }, /pass --password-stdin/],
    ["SSH without a key", { url: "ssh://git@h/r" }, /pass --ssh-key-file/],
    ["an SSH key for HTTPS", { url: "https://h/r", password: "x", sshPrivateKey: "k" }, /--ssh-key-file is for ssh/],
    ["no host key check for HTTPS", { url: "https://h/r", password: "x", insecureIgnoreHostKey: true }, /--insecure-ignore-host-key is for ssh/],
  ])("refuses %s, saying which flag fixes it", (_name, spec, message) => {
    expect(() => repoCredentialSecret({ namespace: "ns", ...spec })).toThrow(message);
  });

  it("gives every URL its own valid Secret name", () => {
    const a = secretNameFor("https://git.example.com/acme/a.git", "repository");
    const b = secretNameFor("https://git.example.com/acme/b.git", "repository");
    expect(a).not.toBe(b);
    for (const name of [a, b]) expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});
