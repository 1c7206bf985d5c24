// A real OpenID Connect provider on 127.0.0.1 for the SSO tests: panva's oidc-provider (OpenID Certified),
// with its development login pages (any login name; the account's claims come from `accounts`). And a
// small cookie-keeping client that walks a login through those pages as a browser would, for tests that
// do not need Chromium.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

export interface OidcAccount {
  readonly email?: string;
  readonly groups?: readonly string[];
}

export interface OidcClient {
  readonly client_id: string;
  readonly client_secret?: string;
  readonly redirect_uris: readonly string[];
}

export interface RunningProvider {
  readonly issuer: string;
  close(): Promise<void>;
}

export async function startOidcProvider(opts: { clients: readonly OidcClient[]; accounts: Readonly<Record<string, OidcAccount>> }): Promise<RunningProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      ...c, redirect_uris: [...c.redirect_uris], grant_types: ["authorization_code"], response_types: ["code"],
      token_endpoint_auth_method: c.client_secret ? "client_secret_basic" : "none",
    })),
    claims: { openid: ["sub"], email: ["email", "email_verified"], groups: ["groups"], profile: ["name", "preferred_username"] },
    features: { devInteractions: { enabled: true }, claimsParameter: { enabled: true } },
    pkce: { required: () => true },
    findAccount: (_ctx: unknown, id: string) => {
      const account = opts.accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: id, name: id, preferred_username: id, ...(account.email ? { email: account.email, email_verified: true } : {}), groups: [...(account.groups ?? [])] }),
      };
    },
    // Id tokens carry the claims (groups) as Dex and most providers send them, not only the userinfo endpoint.
    conformIdTokenClaims: false,
  });
  const handle = provider.callback();
  server.on("request", (req, res) => void handle(req, res));
  return {
    issuer,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A browser without a browser: follows redirects, keeps cookies per host, submits the provider's login and consent forms. */
export class CookieBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  /** Fetches with this host's cookies, following redirects until `stop` says the URL is the caller's. */
  async go(start: string, init: RequestInit = {}, stop: (url: URL) => boolean = () => false): Promise<{ url: URL; res: Response }> {
    let url = new URL(start);
    let request: RequestInit = init;
    for (let hop = 0; hop < 20; hop++) {
      if (stop(url)) return { url, res: new Response(null, { status: 204 }) };
      const headers = new Headers(request.headers);
      const cookies = this.jar.get(url.host);
      if (cookies?.size) headers.set("cookie", [...cookies].map(([k, v]) => `${k}=${v}`).join("; "));
      const res = await fetch(url, { ...request, headers, redirect: "manual" });
      this.keep(url, res);
      const location = res.headers.get("location");
      if (res.status < 300 || res.status >= 400 || !location) return { url, res };
      url = new URL(location, url);
      request = {};
    }
    throw new Error(`more than 20 redirects from ${start}`);
  }

  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.get(name);
  }

  private keep(url: URL, res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      const cookies = this.jar.get(url.host) ?? new Map<string, string>();
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === "") cookies.delete(name);
      else cookies.set(name, value);
      this.jar.set(url.host, cookies);
    }
  }

  /**
   * Walks a login started at `start` through the provider's pages as `login`, stopping at the first URL
   * `done` recognises (the relying party's callback, say); returns that URL.
   */
  async login(start: string, login: string, done: (url: URL) => boolean): Promise<URL> {
    let { url, res } = await this.go(start, {}, done);
    for (let step = 0; step < 4 && !done(url); step++) {
      const html = await res.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
      if (!action || !prompt) throw new Error(`no login or consent form at ${url.href} (status ${res.status}): ${html.slice(0, 300)}`);
      const body = new URLSearchParams(prompt === "login" ? { prompt, login, password: "any" } : { prompt });
      ({ url, res } = await this.go(new URL(action.replace(/&amp;/g, "&"), url).href, {
        method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" },
      }, done));
    }
    if (!done(url)) throw new Error(`the login as ${login} did not come back (last ${url.href})`);
    return url;
  }
}
