import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSshSession, sshCommand } from "./ssh.ts";

describe("sshCommand", () => {
  it("checks the host key strictly against the given known_hosts, with only the given key and never a prompt", () => {
    const command = sshCommand({ keyFile: "/t/d/key", knownHostsFile: "/t/d/known_hosts" });
    expect(command).toBe("ssh -F /dev/null -i '/t/d/key' -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile='/t/d/known_hosts'");
  });

  it("skips the host key check only when the Secret says insecure", () => {
    const command = sshCommand({ keyFile: "/t/key", knownHostsFile: "/t/kh", insecureIgnoreHostKey: true });
    expect(command).toContain("StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null");
    expect(command).not.toContain("/t/kh");
  });

  it("quotes paths for the shell git runs it through", () => {
    expect(sshCommand({ keyFile: "/t/it's here/key" })).toContain(`-i '/t/it'\\''s here/key'`);
  });
});

describe("openSshSession", () => {
  let tmp: string;
  beforeEach(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), "ssh-test-")); });
  afterEach(() => rm(tmp, { recursive: true, force: true }));

  it("writes the key 0600 in a 0700 directory, with its final newline, and removes both on dispose", async () => {
    const session = await openSshSession({ sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----", knownHosts: "[h]:22 ssh-ed25519 AAAA" }, tmp);
    const [dir] = await readdir(tmp);
    expect(dir).toMatch(/^tether-ssh-/);
    const full = path.join(tmp, dir!);
    expect((await stat(full)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(full, "key"))).mode & 0o777).toBe(0o600);
    expect(await readFile(path.join(full, "key"), "utf8")).toMatch(/END OPENSSH PRIVATE KEY-----\n$/);
    expect(await readFile(path.join(full, "known_hosts"), "utf8")).toBe("[h]:22 ssh-ed25519 AAAA\n");
    expect(session.command).toContain(`UserKnownHostsFile='${path.join(full, "known_hosts")}'`);
    await session.dispose();
    expect(await readdir(tmp)).toEqual([]);
  });

  it("writes no known_hosts when none is given, so ssh's own files decide", async () => {
    const session = await openSshSession({ sshPrivateKey: "k" }, tmp);
    expect(session.command).not.toContain("UserKnownHostsFile");
    await session.dispose();
  });
});
