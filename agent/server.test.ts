// The agent's HTTP surface: TLS when given a certificate, plain HTTP only on loopback or by flag (issue 22, finding 14).
import https from "node:https";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import type { Controller } from "./controller/controller.ts";
import type { Cluster } from "./apply/cluster.ts";
import { checkPlainHttp, isLoopback, startServer } from "./server.ts";

describe("plain HTTP", () => {
  it.each([["127.0.0.1", true], ["127.3.2.1", true], ["::1", true], ["[::1]", true], ["localhost", true], ["0.0.0.0", false], ["10.0.0.5", false], ["::", false]])(
    "%s is loopback: %s", (host, loopback) => {
      expect(isLoopback(host)).toBe(loopback);
    });

  it("is refused on other addresses unless TLS is served or --insecure-plain-http says so", () => {
    expect(() => checkPlainHttp("0.0.0.0", false, false)).toThrow(/--listen 0\.0\.0\.0: plain HTTP .* --tls-cert-file and --tls-key-file .* --insecure-plain-http/);
    expect(() => checkPlainHttp("0.0.0.0", true, false)).not.toThrow();
    expect(() => checkPlainHttp("0.0.0.0", false, true)).not.toThrow();
    expect(() => checkPlainHttp("127.0.0.1", false, false)).not.toThrow();
  });
});

const controller = {
  ready: true,
  metrics: { text: () => Promise.resolve("tether_up 1\n"), registry: { contentType: "text/plain" } },
} as unknown as Controller;

describe("the surface over TLS, /metrics behind its check", () => {
  it("serves HTTPS with the given certificate and answers /metrics only past the check", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "tether-tls-"));
    await execa("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", "key.pem", "-out", "cert.pem"], { cwd: dir });
    const cert = await readFile(path.join(dir, "cert.pem"));
    const server = await startServer({
      controller, cluster: {} as Cluster, host: "127.0.0.1", port: 0, tls: { cert, key: await readFile(path.join(dir, "key.pem")) },
      metricsAuth: (authorization) => (authorization === "Bearer prometheus" ? Promise.resolve()
        : Promise.reject(Object.assign(new Error("sign in"), { code: authorization ? 403 : 401 }))),
    });
    const port = (server.address() as { port: number }).port;
    const get = (p: string, headers: Record<string, string> = {}) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      https.get({ host: "127.0.0.1", port, path: p, ca: cert, headers }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => { body += d.toString(); });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      }).on("error", reject);
    });
    try {
      expect(await get("/healthz")).toEqual({ status: 200, body: "ok\n" });
      expect((await get("/metrics")).status).toBe(401);
      expect((await get("/metrics", { authorization: "Bearer guess" })).status).toBe(403);
      expect(await get("/metrics", { authorization: "Bearer prometheus" })).toEqual({ status: 200, body: "tether_up 1\n" });
    } finally {
      server.close();
    }
  });
});
