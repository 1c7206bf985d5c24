// How every git child process is started: a minimal environment, credentials only in that
// environment, and messages scrubbed of secrets and cache paths before anyone sees them.
import { simpleGit, type SimpleGit } from "simple-git";
import type { Credentials } from "./repo-url.ts";

/** Environment variables a git child inherits: what networking and TLS need, nothing else. */
const INHERITED_ENV = [
  "PATH", "HOME", "TMPDIR", "SSH_AUTH_SOCK",
  "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
  "SSL_CERT_FILE", "SSL_CERT_DIR", "GIT_SSL_CAINFO",
] as const;

const USER_VAR = "TETHER_GIT_USERNAME";
const PASSWORD_VAR = "TETHER_GIT_PASSWORD";

/**
 * A credential helper that answers `get` from two environment variables: the password reaches git
 * through the child's environment only, never through argv, a file, or the URL.
 */
const ENV_CREDENTIAL_HELPER =
  `!f() { test "$1" = get || exit 0; printf 'username=%s\\npassword=%s\\n' "$${USER_VAR}" "$${PASSWORD_VAR}"; }; f`;

/** The environment of a git child process; `sshCommand` is a GIT_SSH_COMMAND from agent/source/ssh.ts. */
export function gitEnv(credentials?: Credentials, sshCommand?: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  // A missing credential must fail at once instead of waiting for a terminal that is not there,
  // and English messages are what `classifyFetchError` reads.
  env.GIT_TERMINAL_PROMPT = "0";
  env.LC_ALL = "C";
  if (credentials !== undefined) {
    env[USER_VAR] = credentials.username;
    env[PASSWORD_VAR] = credentials.password;
  }
  if (sshCommand !== undefined) env.GIT_SSH_COMMAND = sshCommand;
  return env;
}

/** `-c` settings for every git command. */
export function gitConfig(credentials?: Credentials): string[] {
  // The empty value clears every helper configured on the machine first, so a `store` helper in
  // ~/.gitconfig can never write our password to disk after a successful fetch.
  const config = ["credential.helper="];
  if (credentials !== undefined) config.push(`credential.helper=${ENV_CREDENTIAL_HELPER}`);
  return config;
}

/** Options for {@link gitClient}. */
export interface GitClientOptions {
  readonly baseDir: string;
  readonly credentials?: Credentials;
  /** GIT_SSH_COMMAND naming a private key (agent/source/ssh.ts), for an SSH remote. */
  readonly sshCommand?: string;
  /** Kill a command that prints nothing for this long: a stalled server must not stall every app. */
  readonly timeoutMs: number;
}

/** A simple-git client that runs with {@link gitEnv} and {@link gitConfig}. */
export function gitClient(options: GitClientOptions): SimpleGit {
  return simpleGit({
    baseDir: options.baseDir,
    config: gitConfig(options.credentials),
    // Our own helper is the one credential.helper we pass; simple-git blocks the key by default.
    // GIT_SSH_COMMAND is ours too (agent/source/ssh.ts): ssh with the Secret's key and nothing else.
    unsafe: { allowUnsafeCredentialHelper: true, ...(options.sshCommand === undefined ? {} : { allowUnsafeSshCommand: true }) },
    timeout: { block: options.timeoutMs },
  }).env(gitEnv(options.credentials, options.sshCommand));
}

/** Removes every secret (raw and URL-encoded) and every local path from a message. */
export function scrub(text: string, secrets: readonly string[], paths: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret === "") continue;
    out = out.replaceAll(secret, "***").replaceAll(encodeURIComponent(secret), "***");
  }
  for (const path of paths) {
    if (path !== "") out = out.replaceAll(path, "<cache>");
  }
  return out;
}

const SSH_REASONS = /Host key verification failed|Permission denied \(publickey|REMOTE HOST IDENTIFICATION HAS CHANGED|Could not resolve hostname|Connection refused|Connection timed out|No route to host|Load key .*: (invalid format|bad permissions)/i;

/** The line of git's stderr that says what went wrong, without hints and progress noise. */
export function gitReason(stderr: string): string {
  const lines = stderr.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  // Over SSH git's fatal line is a generic "Could not read from remote repository"; ssh's own line says why.
  const ssh = lines.find((line) => SSH_REASONS.test(line));
  if (ssh !== undefined) return ssh.replace(/\.$/, "");
  // The first fatal line is the specific one; git follows it with generic advice.
  const chosen = lines.find((line) => /^(fatal|error):/.test(line)) ?? lines.at(-1) ?? "git failed without a message";
  return chosen.replace(/^(fatal|error):\s*/, "").replace(/\.$/, "");
}

/** What a failed fetch means for the user. */
export interface FetchFailure {
  /** What to do about it. */
  readonly hint: string;
  /** A wrong URL or credential does not fix itself; a network problem may. */
  readonly retryable: boolean;
}

/** Sorts a fetch failure into "fix the spec or the credentials" and "try again later". */
export function classifyFetchError(stderr: string, hadCredentials: boolean): FetchFailure {
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(stderr)) {
    return {
      hint: "the server's SSH host key is not known: add it to ConfigMap tether-ssh-known-hosts (key ssh_known_hosts) in the agent namespace, or set insecure: \"true\" in the repository Secret",
      retryable: false,
    };
  }
  if (/Authentication failed|could not read (Username|Password)|terminal prompts disabled|Access denied|Permission denied \(publickey|\b40[13]\b/i.test(stderr)) {
    return {
      hint: hadCredentials
        ? "the credentials for this repository were refused: update them"
        : "the server wants credentials: add credentials for this repository",
      retryable: false,
    };
  }
  if (/Repository not found|does not appear to be a git repository|not found|No such file or directory|\b404\b/i.test(stderr)) {
    return {
      hint: "check spec.source.repoURL (a private repository also answers 'not found' without credentials)",
      retryable: false,
    };
  }
  return { hint: "will retry", retryable: true };
}
