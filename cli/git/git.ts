// How the CLI runs git: the user's own environment and git configuration (SSH keys, proxies,
// credential helpers), except that a token given on the command line reaches git only through the
// child's environment, and every message is scrubbed of it before anyone sees it.
import { simpleGit, type SimpleGit } from "simple-git";
import { gitConfig, gitEnv, gitReason, scrub } from "../../agent/source/git.ts";
import type { Credentials } from "../../agent/source/repo-url.ts";

/**
 * Variables that point git at another repository or index: set when tether runs inside a git hook,
 * they would make every command act on the caller's repository instead of ours.
 */
const REDIRECTING_ENV = /^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|COMMON_DIR|PREFIX|NAMESPACE|QUARANTINE_PATH)$/;

/**
 * Variables for interactive use (editors, pagers, external diff tools, templates): tether never
 * opens an editor or a pager, and a dry-run diff must be plain text, so they are not passed on.
 */
const INTERACTIVE_ENV = /^(EDITOR|VISUAL|PAGER|PREFIX|GIT_(EDITOR|SEQUENCE_EDITOR|PAGER|EXTERNAL_DIFF|TEMPLATE_DIR|EXEC_PATH))$/;

/** A stalled server must not hang the CLI forever: a command silent for this long is killed. */
const SILENT_TIMEOUT_MS = 120_000;

/** The environment of a git child: the user's, minus repository redirections, plus the token. */
export function cliGitEnv(credentials?: Credentials): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !REDIRECTING_ENV.test(name) && !INTERACTIVE_ENV.test(name)) env[name] = value;
  }
  // gitEnv adds GIT_TERMINAL_PROMPT=0 (fail at once instead of asking on a terminal), LC_ALL=C (the
  // messages classifyGitError reads) and the credential variables.
  return { ...env, ...gitEnv(credentials) };
}

/** A simple-git client in `baseDir` that runs with {@link cliGitEnv}. */
export function cliGit(baseDir: string, credentials?: Credentials): SimpleGit {
  return simpleGit({
    baseDir,
    // Only with a token: then every configured helper is cleared first, so a `store` helper in
    // ~/.gitconfig cannot write the token to disk. Without one the user's helpers work as usual.
    config: credentials ? gitConfig(credentials) : [],
    // The environment is the user's own: their SSH command, askpass program and git config files
    // are how they reach their servers (simple-git blocks these by default for untrusted input).
    unsafe: {
      allowUnsafeCredentialHelper: true, allowUnsafeSshCommand: true, allowUnsafeAskPass: true,
      allowUnsafeConfigPaths: true, allowUnsafeConfigEnvCount: true, allowUnsafeGitProxy: true,
    },
    timeout: { block: SILENT_TIMEOUT_MS },
  }).env(cliGitEnv(credentials));
}

/** What went wrong talking to a repository, in the terms of what the user can do about it. */
export type GitFailure = "auth" | "not-found" | "missing-ref" | "network" | "rejected" | "refused" | "other";

/** Sorts git's stderr into a {@link GitFailure}. */
export function classifyGitError(stderr: string): GitFailure {
  if (/\[rejected\]|non-fast-forward|fetch first|failed to update ref|cannot lock ref|stale info/i.test(stderr)) return "rejected";
  if (/Authentication failed|could not read (Username|Password)|terminal prompts disabled|Access denied|Permission denied \(publickey|HTTP Basic: Access denied|\b40[13]\b/i.test(stderr)) return "auth";
  if (/couldn't find remote ref|Remote branch .* not found|unknown revision|not our ref|no such ref/i.test(stderr)) return "missing-ref";
  if (/Repository not found|does not appear to be a git repository|not a git repository|\b404\b|No such file or directory/i.test(stderr)) return "not-found";
  if (/\[remote rejected\]|pre-receive hook declined|hook declined|protected branch|denied/i.test(stderr)) return "refused";
  if (/Could not resolve host|Connection refused|Connection timed out|Operation timed out|Failed to connect|Network is unreachable|unable to access|Could not read from remote repository|early EOF|connection reset|SSL/i.test(stderr)) return "network";
  return "other";
}

/** Where the failure happened, for {@link explainGitError}. */
export interface GitContext {
  /** The repository as the user named it (no credentials). */
  readonly repo: string;
  /** Whether a token was given (`--git-token` / `TETHER_GIT_TOKEN`). */
  readonly hadToken: boolean;
  /** What was being done: "clone", "fetch", "push". */
  readonly action: string;
  /** Strings that must never be printed: the token. */
  readonly secrets?: readonly string[];
  /** Local paths replaced in messages: temporary directories mean nothing to the user. */
  readonly paths?: readonly string[];
}

/** A message for a failed git command: git's own reason, then the fix. */
export function explainGitError(stderr: string, ctx: GitContext): string {
  const reason = scrub(gitReason(stderr), ctx.secrets ?? [], []);
  const clean = (ctx.paths ?? []).reduce((text, p) => (p ? text.replaceAll(p, "<temp>") : text), reason);
  // What a server hook or a hosting service says ("main is protected...") is the most useful line.
  const said = stderr.split("\n").map((l) => /^remote:\s*(.*\S)/.exec(l)?.[1]).filter((l): l is string => l !== undefined && !/^(Enumerating|Counting|Compressing|Total|Resolving)/.test(l));
  const server = said.length > 0 ? `\nThe server said: ${scrub(said.join(" / "), ctx.secrets ?? [], [])}` : "";
  const head = `${ctx.action} ${ctx.repo} failed: ${clean}${server}`;
  switch (classifyGitError(stderr)) {
    case "auth":
      return ctx.hadToken
        ? `${head}\nThe server refused the token: check --git-token (or TETHER_GIT_TOKEN) and that it may write to the repository (--git-user sets the user name, default "git").`
        : `${head}\nThe server wants credentials: pass --git-token TOKEN or set TETHER_GIT_TOKEN for HTTPS, or use an SSH URL with a key your ssh-agent or ~/.ssh/config provides.`;
    case "not-found":
      return `${head}\nCheck --repo (or TETHER_GIT_REPO); a private repository also answers "not found" when no credentials are given.`;
    case "missing-ref":
      return `${head}\nThe branch, tag or commit does not exist there: check --branch, --revision or ?ref=.`;
    case "network":
      return `${head}\nCould not reach the server: check the URL and your network, then run the command again. Nothing was changed.`;
    case "refused":
      return `${head}\nThe server refused the push (a hook or branch protection): nothing was changed. Push through a pull request or ask for write access.`;
    default:
      return head;
  }
}
