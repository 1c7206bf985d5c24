// The UI's HTTP gate, before any request reaches the API server: tokens, CSRF, Host names, files.
// (What lies behind the gate is tested against the real control plane in test/ui.)
import http from "node:http";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeHttp } from "../apply/http.ts";
import { uiRoutes } from "./api.ts";
import { pathSegment } from "../apply/http.ts";
import { describePermission, HttpError, localAccess, type Access, type ResourceAttributes } from "./auth.ts";
import { refFromKey } from "./reads.ts";

const TOKEN = "session-token";
let server: http.Server;
let base: string;
let kc: KubeConfig;

/** A request with any headers (fetch refuses to set Host). */
function request(pathname: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(`${base}${pathname}`, { method: opts.method ?? "GET", headers: opts.headers ?? {} }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => { body += d.toString(); });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

beforeAll(async () => {
  kc = new KubeConfig();
  // Nothing listens there: every test below must be answered before the API server is asked.
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:1", skipTLSVerify: true }], users: [{ name: "u" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }], currentContext: "x",
  });
  const assets = await mkdtemp(path.join(os.tmpdir(), "tether-ui-assets-"));
  await mkdir(path.join(assets, "assets"));
  await writeFile(path.join(assets, "index.html"), "<!doctype html><title>Tether</title>");
  await writeFile(path.join(assets, "assets", "app-1.js"), "console.log(1)");
  const routes = uiRoutes({
    allowLocalRepos: false,
    kc, namespace: "tether-system", access: localAccess(new KubeHttp(kc), TOKEN, "alice"), cacheDir: assets, assetsDir: assets,
    allowedHosts: ["127.0.0.1", "localhost"], login: { code: "printed-code", token: TOKEN },
  });
  server = http.createServer((req, res) => void routes.handle(req, res, new URL(req.url ?? "/", "http://x")));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

const auth = { authorization: `Bearer ${TOKEN}` };

describe("the UI's API", () => {
  it("answers 401 without a token or with a wrong one, saying how to sign in", async () => {
    expect((await request("/api/v1/applications")).status).toBe(401);
    const wrong = await request("/api/v1/applications", { headers: { authorization: "Bearer guess" } });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).message).toContain("open the URL `tether ui` printed");
  });

  it("gives the session's user and a CSRF token bound to the bearer token", async () => {
    const session = await request("/api/v1/session", { headers: auth });
    expect(session.status).toBe(200);
    expect(JSON.parse(session.body)).toMatchObject({ user: "alice", namespace: "tether-system", csrf: expect.any(String) });
  });

  it("refuses an action without the CSRF token, or from another origin", async () => {
    const csrf = JSON.parse((await request("/api/v1/session", { headers: auth })).body).csrf as string;
    const bare = await request("/api/v1/applications/web/sync", { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: "{}" });
    expect(bare.status).toBe(403);
    expect(JSON.parse(bare.body).message).toContain("CSRF");
    const foreign = await request("/api/v1/applications/web/sync", {
      method: "POST", headers: { ...auth, "x-tether-csrf": csrf, origin: "https://evil.example", "content-type": "application/json" }, body: "{}",
    });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).message).toContain("cross-origin request from https://evil.example refused");
  });

  it("refuses a Host name it does not serve (DNS rebinding)", async () => {
    const res = await request("/api/v1/session", { headers: { ...auth, host: "evil.example:80" } });
    expect(res.status).toBe(403);
  });

  it("answers 404 naming an unknown route", async () => {
    const res = await request("/api/v1/applications/web/nosuch", { headers: auth });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body).message).toBe("no such API: GET /api/v1/applications/web/nosuch");
  });
});

describe("tether ui's sign-in (issue 22, finding 14)", () => {
  it("trades the printed code for the session token, handed back with the tab's own state", async () => {
    const res = await request("/api/v1/login?code=printed-code&state=0123456789abcdef0123456789abcdef");
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`/ui/#token=${TOKEN}&state=0123456789abcdef0123456789abcdef`);
  });

  it.each([
    ["a wrong code", "code=guess&state=0123456789abcdef"],
    ["no state", "code=printed-code"],
    ["a state that is not the page's", "code=printed-code&state=%2F%23token%3Dx"],
  ])("refuses %s", async (_what, query) => {
    expect((await request(`/api/v1/login?${query}`)).status).toBe(401);
  });
});

describe("the UI's files", () => {
  it("serves index.html with a Content-Security-Policy that allows only this origin", async () => {
    const res = await request("/ui/");
    expect(res.status).toBe(200);
    expect(res.body).toContain("<title>Tether</title>");
    expect(res.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(res.headers["cache-control"]).toBe("no-cache");
  });

  it("serves hashed assets as immutable, redirects /ui to /ui/ and never leaves its directory", async () => {
    const asset = await request("/ui/assets/app-1.js");
    expect(asset.headers["content-type"]).toContain("text/javascript");
    expect(asset.headers["cache-control"]).toContain("immutable");
    expect((await request("/ui")).status).toBe(308);
    expect((await request("/ui/..%2f..%2fetc%2fpasswd")).status).toBe(404);
  });
});

describe("the UI's authorization of actions (issue 22, finding 12)", () => {
  let refusing: http.Server;
  let url: string;
  const asked: ResourceAttributes[] = [];
  beforeAll(async () => {
    // Bob is signed in and may do nothing: every answer names the permission the route asked for.
    const access: Access = {
      authenticate: () => Promise.resolve({ user: "bob", groups: [] }),
      authorize: (_who, attrs) => {
        asked.push(attrs);
        return Promise.reject(new HttpError(403, `bob may not ${describePermission(attrs)}`));
      },
    };
    const routes = uiRoutes({ allowLocalRepos: false, kc, namespace: "tether-system", access, cacheDir: os.tmpdir() });
    refusing = http.createServer((req, res) => void routes.handle(req, res, new URL(req.url ?? "/", "http://x")));
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(refusing.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise((resolve) => refusing.close(resolve)));

  const post = async (pathname: string, body: string) => {
    const headers = { authorization: "Bearer bob" };
    const csrf = (await (await fetch(`${url}/api/v1/session`, { headers })).json() as { csrf: string }).csrf;
    return await fetch(`${url}${pathname}`, { method: "POST", body, headers: { ...headers, "x-tether-csrf": csrf, "content-type": "application/json" } });
  };

  it.each([["sync", "{}"], ["rollback", "{\"id\": 1}"]])("asks for the verb sync on applications.tether.dev for %s, not update", async (action, body) => {
    const res = await post(`/api/v1/applications/web/${action}`, body);
    expect(res.status).toBe(403);
    expect((await res.json() as { message: string }).message).toBe("bob may not sync applications.tether.dev/web in namespace tether-system");
  });

  it("asks for the verb action on applications.tether.dev to run a resource action", async () => {
    const res = await post("/api/v1/applications/web/actions?key=apps/v1/Deployment/shop/web", "{\"action\": \"restart\"}");
    expect(res.status).toBe(403);
    expect((await res.json() as { message: string }).message).toBe("bob may not action applications.tether.dev/web in namespace tether-system");
  });

  it("still asks for update to refresh", async () => {
    asked.length = 0;
    expect((await post("/api/v1/applications/web/refresh", "{}")).status).toBe(403);
    expect(asked.map((a) => a.verb)).toEqual(["update"]);
  });

  it("refuses the names . and .. before they become URL paths", async () => {
    asked.length = 0;
    for (const name of ["%2e", "%2e%2e", "%2E%2E"]) {
      // Sent as written (fetch would resolve the dot segments itself).
      const status = await new Promise<number>((resolve, reject) => {
        const port = Number(new URL(url).port);
        http.get({ host: "127.0.0.1", port, path: `/api/v1/applications/${name}/tree`, headers: { authorization: "Bearer bob" } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on("error", reject);
      });
      expect(status).toBe(400);
    }
    expect(asked).toEqual([]);
  });
});

describe("object names as API path segments", () => {
  it.each([".", ".."])("refuses %j", (name) => {
    expect(() => pathSegment(name)).toThrow(/is not a valid object name/);
    expect(() => pathSegment("")).toThrow(/is not a valid object name/);
    expect(refFromKey(`/v1/ConfigMap/ns/${name}`)).toBeUndefined();
    expect(refFromKey(`/v1/ConfigMap/${name}/x`)).toBeUndefined();
  });

  it("encodes any other name", () => {
    expect(pathSegment("a.b")).toBe("a.b");
    expect(pathSegment("...")).toBe("...");
    expect(refFromKey("/v1/ConfigMap/ns/web")).toMatchObject({ kind: "ConfigMap", namespace: "ns", name: "web" });
  });
});
