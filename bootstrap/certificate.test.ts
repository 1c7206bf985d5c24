import https from "node:https";
import type { AddressInfo } from "node:net";
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fingerprint, generateCa, integer, issueServing, SERVING_DAYS, validFor } from "./certificate.ts";

const HOSTS = ["tether-agent", "tether-agent.tether-system.svc", "localhost", "127.0.0.1", "::1"];

/** A real TLS handshake: an HTTPS server with `serving`, a client that trusts only `ca`. */
async function handshake(serving: { cert: string; key: string }, ca: string, servername: string): Promise<string> {
  const server = https.createServer({ cert: serving.cert, key: serving.key }, (_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<string>((resolve, reject) => {
      https.get({ host: "127.0.0.1", port, ca, servername, headers: { host: servername }, path: "/" }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => { body += d.toString(); });
        res.on("end", () => resolve(body));
      }).on("error", reject);
    });
  } finally {
    server.close();
  }
}

describe("the agent's serving certificate", () => {
  const ca = generateCa("tether-agent-ca");
  const serving = issueServing(ca, "tether-agent", { hosts: HOSTS });

  it("makes a CA that node's X.509 parser reads as a CA, signed by itself", () => {
    const cert = new X509Certificate(ca.cert);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe("CN=tether-agent-ca");
    expect(cert.verify(cert.publicKey)).toBe(true);
  });

  it("issues a certificate for the Service's names and loopback, signed by the CA, for less than 825 days", () => {
    const cert = new X509Certificate(serving.cert);
    expect(cert.ca).toBe(false);
    expect(cert.issuer).toBe("CN=tether-agent-ca");
    expect(cert.verify(new X509Certificate(ca.cert).publicKey)).toBe(true);
    expect(cert.checkHost("tether-agent.tether-system.svc")).toBe("tether-agent.tether-system.svc");
    expect(cert.checkHost("evil.example")).toBeUndefined();
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkIP("::1")).toBe("::1");
    const days = (new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime()) / 86_400_000;
    expect(days).toBe(SERVING_DAYS);
    expect(days).toBeLessThan(825);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
  });

  it.each(["tether-agent.tether-system.svc", "localhost"])("serves TLS that a client trusting only the CA accepts for %s", async (name) => {
    expect(await handshake(serving, ca.cert, name)).toBe("ok");
  });

  it("is refused by a client that trusts another CA, and for a name it does not carry", async () => {
    await expect(handshake(serving, generateCa("other").cert, "localhost")).rejects.toThrow(/self.signed|unable to verify|certificate/i);
    await expect(handshake(serving, ca.cert, "tether-agent.other.svc")).rejects.toThrow(/altnames|Hostname/i);
  });

  it("says when a certificate needs renewing, and prints the fingerprint people compare", () => {
    expect(validFor(serving.cert, ca.cert, 30)).toBe(true);
    expect(validFor(serving.cert, ca.cert, SERVING_DAYS)).toBe(false);
    expect(validFor(serving.cert, generateCa("other").cert, 30)).toBe(false);
    expect(fingerprint(ca.cert)).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });
});

describe("DER integers", () => {
  // A serial of random bytes starting 0x00 0x01 was written with its leading zero: OpenSSL refused the
  // certificate ("illegal padding") about once in 256, which the real-engine `pulumi up` test hit.
  it.each([
    [[0x00, 0x01, 0x02], "02020102"],
    [[0x00, 0x00, 0x81], "02020081"],
    [[0x81], "02020081"],
    [[0x7f, 0x00], "02027f00"],
    [[0x00], "020100"],
    [[0x02], "020102"],
  ])("%j is %s", (bytes, hex) => expect(integer(Buffer.from(bytes)).toString("hex")).toBe(hex));
});
