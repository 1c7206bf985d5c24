// `tether login` / `tether logout`: a session with an agent's API for people without a kubeconfig, stored
// as argocd stores its logins (a config file, 0600). With --sso the login runs through the identity
// provider of tether-cm's oidc.config: the browser goes to the agent's /auth/login, the agent hands a
// one-time code to this process's loopback listener, and only this process (holding the PKCE verifier)
// can trade it for the session (RFC 8252's flow for native apps).
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Command } from "commander";
import { TimeoutError, UsageError } from "../errors.ts";
import { parseDuration } from "../output.ts";
import { AgentApi, checkServerUrl } from "./api.ts";
import { configPath, contextOf, readConfig, withLogin, withoutLogin, writeConfig, type ServerEntry } from "./config.ts";

interface LoginFlags {
  readonly sso: boolean;
  readonly token?: string;
  readonly name?: string;
  readonly caFile?: string;
  readonly insecureSkipTlsVerify: boolean;
  readonly ssoPort: string;
  readonly timeout: string;
}

export function loginCommand(): Command {
  return new Command("login")
    .description("Log in to an agent's API (SSO through tether-cm's oidc.config, or a project token), for app commands without a kubeconfig")
    .argument("<server>", "the agent's URL, e.g. https://tether.example.com (http:// only for a loopback port-forward)")
    .option("--sso", "log in through the identity provider: open the printed URL in a browser", false)
    .option("--token <jwt>", "save this token instead (a project role's token from `tether proj role create-token`)")
    .option("--name <context>", "the context's name (default: the server's host:port)")
    .option("--ca-file <pem>", "the CA the agent's certificate chains to (`tether install` prints how to save it)")
    .option("--insecure-skip-tls-verify", "do not check the agent's certificate (a test cluster only)", false)
    .option("--sso-port <port>", "the loopback port the login comes back to (0: any free port)", "0")
    .option("--timeout <duration>", "how long to wait for the browser login", "5m")
    .addHelpText("after", `
The login is saved in $TETHER_CONFIG (default ~/.config/tether/config, mode 0600) and made current:
\`tether app list|get|history|sync|refresh|wait|rollback|diff|logs\` then go through the agent's API with it,
authorised by tether-rbac-cm. --kubeconfig or --context on a command uses the cluster directly instead;
\`tether logout\` forgets the login.

Examples:
  kubectl -n tether-system port-forward svc/tether-agent 8443:443 &
  tether login https://127.0.0.1:8443 --sso --ca-file tether-ca.pem
  tether login https://tether.example.com --token "$TETHER_CI_TOKEN" --name ci
  tether app list`)
    .action(async (serverText: string, flags: LoginFlags) => {
      if (flags.sso === (flags.token !== undefined)) throw new UsageError("pass either --sso (log in through the identity provider) or --token JWT");
      const url = checkServerUrl(serverText);
      const server: ServerEntry = {
        server: url.origin,
        ...(flags.caFile ? { "certificate-authority-data": await readCa(flags.caFile) } : {}),
        ...(flags.insecureSkipTlsVerify ? { insecure: true } : {}),
      };
      const name = flags.name ?? url.host;
      const got = flags.sso ? await ssoLogin(server, name, flags) : { token: flags.token ?? "", subject: "" };
      // The token is tried before it is saved: a typo or an expired token is told now, not at the next command.
      const session = await new AgentApi({ server, token: got.token, context: name }).json<{ user: string }>("GET", "/api/v1/session");
      const file = configPath();
      await writeConfig(file, withLogin(await readConfig(file), { name, server, token: got.token, subject: session.user }));
      process.stdout.write(`Logged in to ${server.server} as ${session.user} (context ${name}, saved in ${file}).\n`
        + "App commands now use this login; --kubeconfig or --context on a command uses the cluster instead.\n");
    });
}

export function logoutCommand(): Command {
  return new Command("logout")
    .description("End a login to an agent's API and forget its token (the current context, or the one named)")
    .argument("[context]", "the context to log out of (default: the current one)")
    .addHelpText("after", "\nExample:\n  tether logout\n  tether logout ci")
    .action(async (name: string | undefined) => {
      const file = configPath();
      const config = await readConfig(file);
      const login = contextOf(config, name);
      if (!login) throw new UsageError(name ? `no login named ${name} in ${file}` : `no current login in ${file}: nothing to log out of`);
      // The agent refuses the session from now on; a server that is gone cannot, and the token is forgotten anyway.
      const api = new AgentApi({ server: login.server, token: login.user["auth-token"], context: login.context.name });
      const ended = await api.json("POST", "/auth/logout", {}).then(() => true, () => false);
      await writeConfig(file, withoutLogin(config, login.context.name));
      process.stdout.write(`Logged out of ${login.server.server} (context ${login.context.name})${ended ? "" : "; the agent could not be told, the token was only forgotten here"}.\n`);
    });
}

async function readCa(file: string): Promise<string> {
  const text = await readFile(file, "utf8").catch((err: unknown) => {
    throw new UsageError(`--ca-file ${file}: ${(err as Error).message}`);
  });
  if (!text.includes("-----BEGIN CERTIFICATE-----")) throw new UsageError(`--ca-file ${file}: expected a PEM certificate`);
  return text;
}

/** The browser login: a loopback listener for the one-time code, then the code and verifier traded for the session. */
async function ssoLogin(server: ServerEntry, name: string, flags: LoginFlags): Promise<{ token: string; subject: string }> {
  const api = new AgentApi({ server, context: name });
  const settings = await api.json<{ sso?: { name: string } }>("GET", "/api/v1/settings");
  if (!settings.sso) throw new UsageError(`${server.server} has no single sign-on: set oidc.config in ConfigMap tether-cm (README: Single sign-on), or log in with --token`);
  const port = Number(flags.ssoPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--sso-port ${flags.ssoPort}: expected a port number, or 0 for any`);
  const timeoutMs = parseDuration(flags.timeout, "--timeout");
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const state = randomBytes(16).toString("hex");
  const listener = await listenForCode(port, state);
  try {
    const start = new URL("/auth/login", server.server);
    start.search = new URLSearchParams({ state, cli: String(listener.port), challenge }).toString();
    process.stderr.write(`Open this URL in a browser to log in via ${settings.sso.name} (waiting up to ${flags.timeout}):\n\n  ${start.href}\n\n`);
    const code = await Promise.race([listener.code, new Promise<never>((_, reject) => setTimeout(() =>
      reject(new TimeoutError(`no login came back within ${flags.timeout}; run \`tether login ${server.server} --sso\` again`)), timeoutMs).unref())]);
    return await api.json<{ token: string; subject: string }>("POST", "/auth/token", { code, verifier });
  } finally {
    listener.close();
  }
}

/** An HTTP listener on 127.0.0.1 that takes one `/auth/callback?code=&state=` with this login's state. */
async function listenForCode(port: number, state: string): Promise<{ port: number; code: Promise<string>; close: () => void }> {
  let settle: (code: string) => void = () => undefined;
  const code = new Promise<string>((resolve) => { settle = resolve; });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const page = (status: number, text: string) => {
      res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "referrer-policy": "no-referrer" });
      res.end(`<!doctype html><title>tether login</title><p>${text}</p>`);
    };
    const given = url.searchParams.get("code");
    if (url.pathname !== "/auth/callback" || !given) return page(404, "Not a login callback.");
    if (url.searchParams.get("state") !== state) return page(400, "This login was not started by this <code>tether login</code>: start it again.");
    page(200, "Logged in. You can close this tab and return to the terminal.");
    settle(given);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new UsageError(`--sso-port ${port}: ${err.message}`)));
    server.listen(port, "127.0.0.1", resolve);
  });
  return { port: (server.address() as AddressInfo).port, code, close: () => server.close() };
}
