import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CookieBrowser, startOidcProvider, type RunningProvider } from "../../test/harness/oidc.ts";
import { keysFromSecret, newKeyMaterial, verifyToken } from "../rbac/tokens.ts";
import { OidcLogin, oidcSettingsFrom, safeReturn } from "./oidc.ts";

// The relying party against a real OpenID provider (oidc-provider) on 127.0.0.1: discovery, code + PKCE,
// id token checked against the provider's JWKS, the session signed by the agent.
const keys = keysFromSecret({ key: newKeyMaterial() })!;
const AGENT = "http://127.0.0.1:1"; // only the redirect URI's prefix: the test stops at the callback
let provider: RunningProvider;

beforeAll(async () => {
  provider = await startOidcProvider({
    clients: [{ client_id: "tether", client_secret: "s3cret", redirect_uris: [`${AGENT}/auth/callback`] }],
    accounts: { alice: { email: "alice@example.org", groups: ["my-org:team-a"] } },
  });
});
afterAll(async () => provider.close());

const settingsData = () => ({
  url: AGENT,
  "oidc.config": `name: Example\nissuer: ${provider.issuer}\nclientID: tether\nclientSecret: $oidc.clientSecret\nrequestedScopes: [openid, profile, email, groups]\nrequestedIDTokenClaims: {groups: {essential: true}}\n`,
});
const secrets = (secret: string, key: string) => Promise.resolve(secret === "tether-secret" && key === "oidc.clientSecret" ? "s3cret" : undefined);
const atCallback = (url: URL) => url.href.startsWith(`${AGENT}/auth/callback`);

describe("SSO through a real OIDC provider", () => {
  it("logs a user in and signs a session with the groups RBAC reads", async () => {
    const settings = (await oidcSettingsFrom(settingsData(), secrets))!;
    expect(settings).toMatchObject({ name: "Example", clientSecret: "s3cret", url: AGENT });
    const login = new OidcLogin(settings, () => Promise.resolve(keys));
    const start = await login.begin("/ui/applications/web");
    const browser = new CookieBrowser();
    const callback = await browser.login(start.location, "alice", atCallback);
    const done = await login.finish(callback, start.stateCookie);
    expect(done).toMatchObject({ subject: "alice", returnTo: "/ui/applications/web" });
    const session = await verifyToken(done.session, keys, () => undefined);
    expect(session).toMatchObject({ kind: "session", subject: "alice", payload: { groups: ["my-org:team-a"], email: "alice@example.org" } });
  });

  it("refuses a callback whose state cookie belongs to another login (CSRF on the callback)", async () => {
    const login = new OidcLogin((await oidcSettingsFrom(settingsData(), secrets))!, () => Promise.resolve(keys));
    const mine = await login.begin("/ui/");
    const theirs = await login.begin("/ui/");
    const callback = await new CookieBrowser().login(theirs.location, "alice", atCallback);
    await expect(login.finish(callback, mine.stateCookie)).rejects.toThrow("the login could not be completed");
    await expect(login.finish(callback, undefined)).rejects.toThrow("state cookie is missing");
    await expect(login.finish(callback, "not.a.jwt")).rejects.toThrow("state cookie is not valid");
  });

  it("refuses a code replayed after it was used", async () => {
    const login = new OidcLogin((await oidcSettingsFrom(settingsData(), secrets))!, () => Promise.resolve(keys));
    const start = await login.begin("/ui/");
    const callback = await new CookieBrowser().login(start.location, "alice", atCallback);
    await login.finish(callback, start.stateCookie);
    await expect(login.finish(callback, start.stateCookie)).rejects.toThrow("the login could not be completed");
  });

  it("a wrong client secret fails the login with the provider's reason", async () => {
    const bad = await oidcSettingsFrom(settingsData(), () => Promise.resolve("wrong"));
    const login = new OidcLogin(bad!, () => Promise.resolve(keys));
    const start = await login.begin("/ui/");
    const callback = await new CookieBrowser().login(start.location, "alice", atCallback);
    await expect(login.finish(callback, start.stateCookie)).rejects.toThrow(/could not be completed.*invalid_client/);
  });

  it("says when the issuer does not answer", async () => {
    const settings = (await oidcSettingsFrom({ ...settingsData(), "oidc.config": "issuer: http://127.0.0.1:9/dex\nclientID: x\n" }, secrets))!;
    await expect(new OidcLogin(settings, () => Promise.resolve(keys)).begin("/ui/")).rejects.toThrow("the OIDC issuer http://127.0.0.1:9/dex did not answer");
  });

  it.each([
    [{ "oidc.config": "clientID: x" }, "issuer is missing"],
    [{ "oidc.config": "issuer: https://x" }, "clientID is missing"],
    [{ "oidc.config": "issuer: https://x\nclientID: y" }, "'url' (the agent's external URL"],
    [{ url: "https://t", "oidc.config": "issuer: https://x\nclientID: y\nclientSecret: $nope" }, "key nope of Secret tether-secret, which is missing"],
    [{ url: "https://t", "oidc.config": "issuer: https://x\nclientID: y\nrequestedScopes: [email]" }, "must include openid"],
  ])("names what is wrong in oidc.config: %j", async (data, message) => {
    await expect(oidcSettingsFrom(data, secrets)).rejects.toThrow(message);
  });

  it("is off without oidc.config, and keeps the return path on this site", async () => {
    expect(await oidcSettingsFrom({ url: "https://t" }, secrets)).toBeUndefined();
    expect(safeReturn("/ui/applications/x")).toBe("/ui/applications/x");
    expect(safeReturn("//evil.example/x")).toBe("/ui/");
    expect(safeReturn("https://evil.example/")).toBe("/ui/");
    expect(safeReturn("/\\evil.example")).toBe("/ui/");
  });
});
