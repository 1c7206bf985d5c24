// The CLI's own config for logins to an agent's API (`tether login`), in the shape of argocd's
// `~/.config/argocd/config`: contexts naming a server and a user, the servers' TLS settings, the users'
// tokens. The file holds bearer tokens, so it is written 0600 in a 0700 directory, atomically.
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { UsageError } from "../errors.ts";

export interface ServerEntry {
  readonly server: string;
  /** PEM of the CA the agent's certificate chains to (`tether install` prints how to save it). */
  readonly "certificate-authority-data"?: string;
  readonly insecure?: boolean;
}

export interface UserEntry {
  readonly name: string;
  readonly "auth-token": string;
  /** Who the token stands for, for `tether login` messages. */
  readonly subject?: string;
}

export interface ContextEntry {
  readonly name: string;
  readonly server: string;
  readonly user: string;
}

export interface CliConfig {
  readonly "current-context"?: string;
  readonly contexts: readonly ContextEntry[];
  readonly servers: readonly ServerEntry[];
  readonly users: readonly UserEntry[];
}

export const EMPTY_CONFIG: CliConfig = { contexts: [], servers: [], users: [] };

/** `$TETHER_CONFIG`, else `$XDG_CONFIG_HOME/tether/config`, else `~/.config/tether/config`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TETHER_CONFIG) return env.TETHER_CONFIG;
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config"), "tether", "config");
}

export async function readConfig(file: string): Promise<CliConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return EMPTY_CONFIG;
    throw err;
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not YAML (${(err as Error).message}); fix it or delete it and run \`tether login\` again`);
  }
  if (doc === null || doc === undefined) return EMPTY_CONFIG;
  if (typeof doc !== "object" || Array.isArray(doc)) throw new UsageError(`${file}: expected a mapping with contexts, servers and users`);
  const d = doc as Partial<CliConfig>;
  return { ...d, contexts: d.contexts ?? [], servers: d.servers ?? [], users: d.users ?? [] };
}

/** Writes the file 0600 (its directory 0700) through a temporary file, so a crash never leaves half a config. */
export async function writeConfig(file: string, config: CliConfig): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, stringify(config), { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
}

/** The context named, or the current one; undefined when there is none. */
export function contextOf(config: CliConfig, name?: string): { context: ContextEntry; server: ServerEntry; user: UserEntry } | undefined {
  const wanted = name ?? config["current-context"];
  const context = config.contexts.find((c) => c.name === wanted);
  if (!context) return undefined;
  const server = config.servers.find((s) => s.server === context.server) ?? { server: context.server };
  const user = config.users.find((u) => u.name === context.user);
  return user ? { context, server, user } : undefined;
}

/** The config with a login saved under `name` (default the server's host:port) and made current. Pure. */
export function withLogin(config: CliConfig, login: { name: string; server: ServerEntry; token: string; subject?: string }): CliConfig {
  const { name, server } = login;
  const user: UserEntry = { name, "auth-token": login.token, ...(login.subject ? { subject: login.subject } : {}) };
  return {
    ...config,
    "current-context": name,
    contexts: [...config.contexts.filter((c) => c.name !== name), { name, server: server.server, user: name }],
    servers: [...config.servers.filter((s) => s.server !== server.server), server],
    users: [...config.users.filter((u) => u.name !== name), user],
  };
}

/** The config without the context `name` and its user (its server stays if another context uses it). Pure. */
export function withoutLogin(config: CliConfig, name: string): CliConfig {
  const contexts = config.contexts.filter((c) => c.name !== name);
  const gone = config.contexts.find((c) => c.name === name);
  const servers = config.servers.filter((s) => s.server !== gone?.server || contexts.some((c) => c.server === s.server));
  const rest: CliConfig = { contexts, servers, users: config.users.filter((u) => u.name !== gone?.user) };
  return config["current-context"] === name ? rest : { ...rest, ...(config["current-context"] ? { "current-context": config["current-context"] } : {}) };
}
