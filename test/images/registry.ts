// The project's real distribution registry (tools/registry) on 127.0.0.1 for image tests: plain HTTP,
// optionally behind htpasswd (Basic) or token auth (a token server in this process signs the JWTs the
// registry checks against a JWKS file), optionally sending distribution notifications to a URL.
// `pushImage` uploads a minimal OCI image over the registry's HTTP API: one layer, a config blob with
// `created`, the manifest under a tag (or an index of several platforms).
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { stringify } from "yaml";
import { toolPath } from "../harness/paths.ts";
import { freePort } from "../sources/chart-repos.ts";

/** A user the registry (or its token server) accepts. */
export const REGISTRY_USER = { username: "pusher", password: "s3cret-pw" };
/** bcrypt of REGISTRY_USER.password (cost 5), as htpasswd writes it. */
const HTPASSWD = `${REGISTRY_USER.username}:$2b$05$/0WoAv2OZvBq9mjTmrGGce44gQ8Mc7IDCYFZC.pghbXO0c7P37hbC\n`;

export interface RegistryOptions {
  /** `basic`: htpasswd on the registry; `token`: Bearer tokens from a token server that wants Basic. */
  readonly auth?: "basic" | "token";
  /** Where the registry POSTs its notifications (distribution's envelope). */
  readonly notify?: string;
  /** Headers on every notification (the endpoint's `headers`: `Authorization: Bearer <secret>`). */
  readonly notifyHeaders?: Readonly<Record<string, readonly string[]>>;
  /** A port to listen on (to restart a stopped registry at the same address). */
  readonly port?: number;
}

export interface ImageRegistry {
  /** `127.0.0.1:PORT` */
  readonly host: string;
  readonly port: number;
  /** Requests the token server answered, by scope: proof the Bearer flow ran. */
  readonly tokenRequests: string[];
  /** Stops the registry process (its data stays until cleanup); `start` runs it again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startImageRegistry(options: RegistryOptions = {}): Promise<ImageRegistry> {
  const root = await mkdtemp(join(tmpdir(), "tether-imgreg-"));
  const port = options.port ?? await freePort();
  const host = `127.0.0.1:${port}`;
  const tokenRequests: string[] = [];
  let tokenServer: Server | undefined;
  const auth: Record<string, unknown> = {};
  if (options.auth === "basic") {
    await writeFile(join(root, "htpasswd"), HTPASSWD);
    auth.htpasswd = { realm: "tether-test", path: join(root, "htpasswd") };
  } else if (options.auth === "token") {
    const server = await startTokenServer(root, tokenRequests);
    tokenServer = server.server;
    auth.token = { realm: `${server.url}/token`, service: "tether-test-registry", issuer: "tether-test-issuer", jwks: server.jwks };
  }
  const config = join(root, "config.yml");
  await writeFile(config, stringify({
    version: 0.1, log: { level: "error", accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(root, "data") }, delete: { enabled: true } },
    http: { addr: host },
    ...(Object.keys(auth).length > 0 ? { auth } : {}),
    ...(options.notify === undefined ? {} : {
      notifications: { endpoints: [{
        name: "tether", url: options.notify, timeout: "2s", threshold: 3, backoff: "1s", ...(options.notifyHeaders ? { headers: options.notifyHeaders } : {}),
      }] },
    }),
  }));
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const proc = spawn(toolPath("registry"), ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    await waitFor(`http://${host}/v2/`, () => stderr);
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGTERM");
    await exited;
  };
  await start();
  return {
    host, port, tokenRequests, start, stop,
    async cleanup() {
      await stop();
      if (tokenServer !== undefined) {
        const s = tokenServer;
        s.closeAllConnections();
        await new Promise((resolve) => s.close(resolve));
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A token server as Docker's: Basic credentials in, a JWT granting pull and push on the asked repository out. */
async function startTokenServer(root: string, requests: string[]): Promise<{ server: Server; url: string; jwks: string }> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const kid = "tether-test-key";
  const jwks = join(root, "jwks.json");
  await writeFile(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" }] }));
  const expected = `Basic ${Buffer.from(`${REGISTRY_USER.username}:${REGISTRY_USER.password}`).toString("base64")}`;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const scope = url.searchParams.get("scope") ?? "";
    requests.push(scope);
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad credentials"}');
      return;
    }
    const [, name = "", actions = ""] = scope.split(":");
    const now = Math.floor(Date.now() / 1000);
    new SignJWT({ access: [{ type: "repository", name, actions: actions.split(",") }] })
      .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
      .setIssuer("tether-test-issuer").setAudience(url.searchParams.get("service") ?? "").setSubject(REGISTRY_USER.username)
      .setIssuedAt(now).setNotBefore(now - 5).setExpirationTime(now + 300).setJti(randomUUID())
      .sign(privateKey)
      .then((token) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, expires_in: 300 })),
        () => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return { server, url: `http://127.0.0.1:${port}`, jwks };
}

/** One image to push. */
export interface ImageSpec {
  readonly repository: string;
  readonly tag: string;
  /** The config's `created`; default now. */
  readonly created?: Date;
  /** Push an index of these platforms (`linux/amd64`, …) instead of a single manifest. */
  readonly platforms?: readonly string[];
}

/** Pushes a minimal OCI image (or index) to `host`; returns the digest the tag now names. */
export async function pushImage(host: string, spec: ImageSpec, auth = false): Promise<string> {
  const push = new Pusher(host, spec.repository, auth);
  const created = (spec.created ?? new Date()).toISOString();
  if (spec.platforms === undefined) return push.manifest(spec.tag, await push.image(created, "linux/amd64", spec.tag));
  const manifests = [];
  for (const platform of spec.platforms) {
    const body = await push.image(created, platform, spec.tag);
    const digest = await push.manifest(sha(body), body);
    const [os = "", architecture = ""] = platform.split("/");
    manifests.push({ mediaType: OCI_MANIFEST, digest, size: body.length, platform: { os, architecture } });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  return push.manifest(spec.tag, index, OCI_INDEX);
}

/** Deletes the manifest a tag names (and so the tag), as `registry` allows with storage.delete. */
export async function deleteTag(host: string, repository: string, tag: string, auth = false): Promise<void> {
  const push = new Pusher(host, repository, auth);
  const head = await push.send("HEAD", `/v2/${repository}/manifests/${tag}`, { accept: OCI_MANIFEST });
  const digest = head.headers.get("docker-content-digest") ?? "";
  const res = await push.send("DELETE", `/v2/${repository}/manifests/${digest}`, {});
  if (res.status !== 202) throw new Error(`deleting ${repository}:${tag} answered HTTP ${res.status}`);
}

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

function sha(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

class Pusher {
  private token: string | undefined;
  constructor(private readonly host: string, private readonly repository: string, private readonly auth: boolean) {}

  async image(created: string, platform: string, tag: string): Promise<Buffer> {
    const [os = "linux", architecture = "amd64"] = platform.split("/");
    const layer = Buffer.from(`${this.repository}:${tag} ${platform} ${created}\n`);
    const config = Buffer.from(JSON.stringify({ created, architecture, os, config: { Labels: { tag } }, rootfs: { type: "layers", diff_ids: [sha(layer)] } }));
    await this.blob(layer);
    await this.blob(config);
    return Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.length },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha(layer), size: layer.length }],
    }));
  }

  async manifest(reference: string, body: Buffer, mediaType = OCI_MANIFEST): Promise<string> {
    const res = await this.send("PUT", `/v2/${this.repository}/manifests/${reference}`, { "content-type": mediaType }, body);
    if (res.status !== 201) throw new Error(`pushing the manifest ${this.repository}:${reference} answered HTTP ${res.status}: ${await res.text()}`);
    return res.headers.get("docker-content-digest") ?? sha(body);
  }

  private async blob(bytes: Buffer): Promise<void> {
    const start = await this.send("POST", `/v2/${this.repository}/blobs/uploads/`, {});
    if (start.status !== 202) throw new Error(`starting an upload to ${this.repository} answered HTTP ${start.status}: ${await start.text()}`);
    const location = new URL(start.headers.get("location") ?? "", `http://${this.host}`);
    location.searchParams.set("digest", sha(bytes));
    const put = await this.send("PUT", `${location.pathname}${location.search}`, { "content-type": "application/octet-stream" }, bytes);
    if (put.status !== 201) throw new Error(`uploading a blob to ${this.repository} answered HTTP ${put.status}: ${await put.text()}`);
  }

  async send(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Response> {
    const url = `http://${this.host}${path}`;
    const auth = (): Record<string, string> => (this.token === undefined ? {} : { authorization: this.token });
    let res = await fetch(url, { method, headers: { ...headers, ...auth() }, ...(body === undefined ? {} : { body }) });
    if (res.status === 401 && this.auth) {
      this.token = await this.authorize(res.headers.get("www-authenticate") ?? "");
      res = await fetch(url, { method, headers: { ...headers, ...auth() }, ...(body === undefined ? {} : { body }) });
    }
    return res;
  }

  private async authorize(challenge: string): Promise<string> {
    const basic = `Basic ${Buffer.from(`${REGISTRY_USER.username}:${REGISTRY_USER.password}`).toString("base64")}`;
    if (!challenge.startsWith("Bearer")) return basic;
    const realm = /realm="([^"]+)"/.exec(challenge)?.[1] ?? "";
    const service = /service="([^"]+)"/.exec(challenge)?.[1] ?? "";
    const url = new URL(realm);
    url.searchParams.set("service", service);
    url.searchParams.set("scope", `repository:${this.repository}:pull,push,delete`);
    const res = await fetch(url, { headers: { authorization: basic } });
    const body = await res.json() as { token: string };
    return `Bearer ${body.token}`;
  }
}

async function waitFor(url: string, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const up = await fetch(url).then((r) => r.status === 200 || r.status === 401, () => false);
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the registry did not answer ${url} within 20 s: ${stderr()}`);
}
