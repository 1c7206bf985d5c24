// Real Git servers on 127.0.0.1 for the tests: `git http-backend` behind a Node server that wants a
// password (HTTP Basic), as GitHub, GitLab and Gitea do, and OpenSSH's sshd (non-daemon, random port)
// that takes one public key, as a forge's deploy key.
import { spawn, type ChildProcess } from "node:child_process";
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

/** A smart-HTTP server for every bare repository under `projectRoot`; the password must be `password`. */
export interface GitHttpServer {
  readonly base: string;
  /** The user names of the requests that got in. */
  readonly users: string[];
  close(): Promise<void>;
}

export function gitHttpHandler(projectRoot: string, password: string, users: string[]): http.RequestListener {
  return (req, res) => {
    const [user, given] = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString().split(":");
    if (given !== password) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end("authentication required\n");
      return;
    }
    users.push(user ?? "");
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const cgi = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH ?? "", GIT_PROJECT_ROOT: projectRoot, GIT_HTTP_EXPORT_ALL: "1", REMOTE_USER: user ?? "", REMOTE_ADDR: "127.0.0.1",
        PATH_INFO: url.pathname, QUERY_STRING: url.search.slice(1), REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "", HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""),
        GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let sent = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (sent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, end).toString().split("\r\n")) {
        const [key = "", ...rest] = line.split(":");
        if (key.toLowerCase() === "status") status = Number.parseInt(rest.join(":").trim(), 10);
        else headers[key] = rest.join(":").trim();
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
      sent = true;
    });
    cgi.on("close", () => res.end());
  };
}

export async function startGitHttpServer(projectRoot: string, password: string): Promise<GitHttpServer> {
  const users: string[] = [];
  const server = http.createServer(gitHttpHandler(projectRoot, password, users));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, users,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export const SSHD = "/usr/sbin/sshd";

/** An sshd that lets the user running the tests in with one key, and nothing else. */
export interface SshServer {
  readonly port: number;
  /** The user to put in ssh:// URLs: the one running the tests (sshd runs commands as that user). */
  readonly user: string;
  /** The private key it accepts (OpenSSH format) and the file it is in. */
  readonly clientKey: string;
  readonly clientKeyFile: string;
  /** The server's host key as a known_hosts line for `[127.0.0.1]:port`. */
  readonly knownHostsLine: string;
  /** sshd's log (-e), for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

async function keypair(file: string): Promise<{ key: string; pub: string }> {
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "tether-test", "-f", file]);
  return { key: await readFile(file, "utf8"), pub: (await readFile(`${file}.pub`, "utf8")).trim() };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts `sshd -D -e` (in the foreground, logging to stderr) on a random port of 127.0.0.1 with keys
 * generated in `dir`. Fails with the next step when OpenSSH's server is not installed.
 */
export async function startSshd(dir: string): Promise<SshServer> {
  await access(SSHD).catch(() => {
    throw new Error(`${SSHD} is missing: install Debian's openssh-server (tools/setup.sh does when run as root: apt-get install openssh-server)`);
  });
  await mkdir(dir, { recursive: true });
  const host = await keypair(path.join(dir, "host_ed25519"));
  const client = await keypair(path.join(dir, "client_ed25519"));
  await writeFile(path.join(dir, "authorized_keys"), `${client.pub}\n`, { mode: 0o600 });
  // The privilege separation directory sshd insists on; only root can (and must) create it.
  if (process.getuid?.() === 0) await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const config = [
    "ListenAddress 127.0.0.1", `HostKey ${path.join(dir, "host_ed25519")}`, `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
    "PidFile none", "StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password", "LogLevel VERBOSE",
  ].join("\n");
  await writeFile(path.join(dir, "sshd_config"), `${config}\n`);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    let output = "";
    const child: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", path.join(dir, "sshd_config"), "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const listening = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 20_000);
      child.stderr?.on("data", () => { if (/Server listening on 127\.0\.0\.1 port/.test(output)) { clearTimeout(timer); resolve(true); } });
      child.once("exit", () => { clearTimeout(timer); resolve(false); });
    });
    if (!listening) {
      child.kill("SIGKILL");
      await exited;
      // Another process may have taken the port between freePort and sshd's bind: try another one.
      if (/Address already in use/.test(output) && attempt < 5) continue;
      throw new Error(`sshd did not start on 127.0.0.1:${port}:\n${output}`);
    }
    return {
      port, user: os.userInfo().username, clientKey: client.key, clientKeyFile: path.join(dir, "client_ed25519"),
      knownHostsLine: `[127.0.0.1]:${port} ${host.pub.split(" ").slice(0, 2).join(" ")}`,
      logs: () => output,
      async stop() {
        child.kill("SIGTERM");
        await exited;
      },
    };
  }
}
