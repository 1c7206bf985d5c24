// SSH keys for Git: how a repository Secret's `sshPrivateKey` reaches `git fetch` without lying on disk
// for anyone to read. ssh reads keys only from files (or an agent), so the key is written, mode 0600,
// into a fresh directory of mode 0700 under the agent's temporary directory, named in GIT_SSH_COMMAND,
// and the directory is removed as soon as the git command ends, whether it succeeded or not. Only the
// agent's own user can read it while it exists; it never goes to the mirror, the cache or a log.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import type { SshCredentials } from "./repo-url.ts";

/** A key on disk for the length of one git command. */
export interface SshSession {
  /** The GIT_SSH_COMMAND that uses it. */
  readonly command: string;
  /** Removes the key (and the known_hosts written with it); safe to call twice. */
  dispose(): Promise<void>;
}

/** The files an {@link sshCommand} points at. */
export interface SshFiles {
  readonly keyFile: string;
  /** A known_hosts file with the ConfigMap's entries; absent: ssh's own known_hosts files. */
  readonly knownHostsFile?: string;
  readonly insecureIgnoreHostKey?: boolean;
}

/**
 * The GIT_SSH_COMMAND for a key. Never a prompt (BatchMode), only this key (IdentitiesOnly; an
 * ssh-agent on the machine is not asked), the user's ssh config ignored (`-F /dev/null`) so the
 * behaviour is the same on every machine, and the host key checked strictly unless the Secret says
 * `insecure`.
 */
export function sshCommand(files: SshFiles): string {
  const args = ["ssh", "-F", "/dev/null", "-i", quote(files.keyFile), "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes"];
  if (files.insecureIgnoreHostKey === true) {
    args.push("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR");
  } else {
    args.push("-o", "StrictHostKeyChecking=yes");
    if (files.knownHostsFile !== undefined) args.push("-o", `UserKnownHostsFile=${quote(files.knownHostsFile)}`);
  }
  return args.join(" ");
}

/** Writes the key (0600) and known_hosts into a private directory and gives the command that uses them. */
export async function openSshSession(credentials: SshCredentials, tmpRoot = os.tmpdir()): Promise<SshSession> {
  // mkdtemp creates the directory with mode 0700.
  const dir = await mkdtemp(join(tmpRoot, "tether-ssh-"));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const keyFile = join(dir, "key");
    // ssh refuses a key without its final newline ("invalid format"); Secrets often lose it.
    const key = credentials.sshPrivateKey.endsWith("\n") ? credentials.sshPrivateKey : `${credentials.sshPrivateKey}\n`;
    await writeFile(keyFile, key, { mode: 0o600, flag: "wx" });
    let knownHostsFile: string | undefined;
    if (credentials.knownHosts !== undefined && credentials.knownHosts.trim() !== "") {
      knownHostsFile = join(dir, "known_hosts");
      await writeFile(knownHostsFile, credentials.knownHosts.endsWith("\n") ? credentials.knownHosts : `${credentials.knownHosts}\n`, { mode: 0o600, flag: "wx" });
    }
    const command = sshCommand({
      keyFile, ...(knownHostsFile === undefined ? {} : { knownHostsFile }),
      ...(credentials.insecureIgnoreHostKey === true ? { insecureIgnoreHostKey: true } : {}),
    });
    return { command, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** Single quotes for the shell git runs GIT_SSH_COMMAND through. */
function quote(path: string): string {
  return `'${path.replaceAll("'", "'\\''")}'`;
}
