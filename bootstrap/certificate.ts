// The agent's serving certificate: a CA of its own and a certificate for the agent's Service names,
// made with node:crypto (P-256 keys, ECDSA-SHA256) and a small DER writer, so neither `tether install`
// nor the Pulumi program needs openssl or a certificate library. Pure apart from the random keys.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from "node:crypto";
import { isIP } from "node:net";

/** A certificate and its private key, PEM. */
export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

export interface ServingOptions {
  /** DNS names and IP addresses the certificate is valid for (subjectAltName). */
  readonly hosts: readonly string[];
  /** When the certificate starts to be valid; now by default (less a minute for clocks that lag). */
  readonly now?: Date;
}

/** How long the CA is trusted: clients keep it, so long. */
const CA_DAYS = 3650;
/** How long a serving certificate is valid: Apple's platforms refuse TLS server certificates of more than 825 days. */
export const SERVING_DAYS = 820;
const DAY_MS = 86_400_000;

/** A new CA: `commonName` is what clients show when asked whom they trust. */
export function generateCa(commonName: string, now = new Date()): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const spki = publicKey.export({ type: "spki", format: "der" });
  const der = certificate({
    subject: commonName, issuer: commonName, spki, signer: privateKey, days: CA_DAYS, now,
    extensions: [
      extension(OID.basicConstraints, seq(bool(true)), true),
      extension(OID.keyUsage, bitString(0x86, 1), true), // digitalSignature, keyCertSign, cRLSign
      extension(OID.subjectKeyIdentifier, octets(keyId(spki))),
    ],
  });
  return { cert: pem(der), key: privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
}

/** A serving certificate for `opts.hosts`, signed by `ca`. */
export function issueServing(ca: KeyPair, commonName: string, opts: ServingOptions): KeyPair {
  if (opts.hosts.length === 0) throw new Error("a serving certificate needs at least one host name");
  const caCert = new X509Certificate(ca.cert);
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const spki = publicKey.export({ type: "spki", format: "der" });
  const der = certificate({
    subject: commonName, issuer: caCert.subject.replace(/^CN=/, ""), spki, signer: createPrivateKey(ca.key), days: SERVING_DAYS,
    now: opts.now ?? new Date(),
    extensions: [
      extension(OID.basicConstraints, seq(), true),
      extension(OID.keyUsage, bitString(0x80, 7), true), // digitalSignature
      extension(OID.extKeyUsage, seq(oid(OID.serverAuth))),
      extension(OID.subjectAltName, seq(...opts.hosts.map(generalName))),
      extension(OID.subjectKeyIdentifier, octets(keyId(spki))),
      extension(OID.authorityKeyIdentifier, seq(tlv(0x80, keyId(createPublicKey(ca.cert).export({ type: "spki", format: "der" }))))),
    ],
  });
  return { cert: pem(der), key: privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
}

/** Whether `cert` (PEM) is signed by `ca` and valid for `days` more days from `now`. */
export function validFor(cert: string, ca: string, days: number, now = new Date()): boolean {
  try {
    const leaf = new X509Certificate(cert);
    return leaf.verify(new X509Certificate(ca).publicKey) && new Date(leaf.validTo).getTime() - now.getTime() > days * DAY_MS;
  } catch {
    return false;
  }
}

/** The SHA-256 fingerprint people compare (`AB:CD:...`), as browsers and openssl show it. */
export function fingerprint(cert: string): string {
  return new X509Certificate(cert).fingerprint256;
}

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  subjectAltName: "2.5.29.17",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35",
} as const;

interface CertificateInput {
  readonly subject: string;
  readonly issuer: string;
  readonly spki: Buffer;
  readonly signer: KeyObject;
  readonly days: number;
  readonly now: Date;
  readonly extensions: readonly Buffer[];
}

/** An X.509 v3 certificate (RFC 5280), DER. */
function certificate(input: CertificateInput): Buffer {
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // positive
  const notBefore = new Date(input.now.getTime() - 60_000);
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    name(input.issuer),
    seq(time(notBefore), time(new Date(notBefore.getTime() + input.days * DAY_MS))),
    name(input.subject),
    input.spki,
    tlv(0xa3, seq(...input.extensions)),
  );
  return seq(tbs, algorithm, bitString(sign("sha256", tbs, input.signer)));
}

function tlv(tag: number, ...parts: readonly Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const seq = (...parts: readonly Buffer[]) => tlv(0x30, ...parts);
const octets = (data: Buffer) => tlv(0x04, data);
const bool = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0]));

/**
 * A non-negative INTEGER in DER's minimal form: leading zero bytes dropped (a random serial starting 0x00
 * 0x01… is "illegal padding" to OpenSSL, about one certificate in 256), one 0x00 added when the top bit is set.
 */
export function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const minimal = bytes.subarray(start);
  return tlv(0x02, (minimal[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), minimal]) : minimal);
}

/** A BIT STRING: `data` as whole bytes, or one byte of named bits with `unused` trailing zero bits. */
function bitString(data: Buffer | number, unused = 0): Buffer {
  return tlv(0x03, Buffer.from([unused]), typeof data === "number" ? Buffer.from([data]) : data);
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const chunk: number[] = [];
    for (let v = arc; ; v = Math.floor(v / 128)) {
      chunk.unshift((v % 128) | (chunk.length ? 0x80 : 0));
      if (v < 128) break;
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** A Name of one common name. */
function name(commonName: string): Buffer {
  return seq(tlv(0x31, seq(oid(OID.commonName), tlv(0x0c, Buffer.from(commonName, "utf8")))));
}

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 asks. */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), "ascii")) : tlv(0x18, Buffer.from(iso, "ascii"));
}

function extension(id: string, value: Buffer, critical = false): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

/** A dNSName or an iPAddress (v4 or v6). */
function generalName(host: string): Buffer {
  if (isIP(host) === 4) return tlv(0x87, Buffer.from(host.split(".").map(Number)));
  if (isIP(host) === 6) return tlv(0x87, ipv6(host));
  return tlv(0x82, Buffer.from(host, "ascii"));
}

function ipv6(address: string): Buffer {
  const [head = "", tail = ""] = address.split("::");
  const part = (s: string) => (s ? s.split(":") : []);
  const groups = address.includes("::")
    ? [...part(head), ...Array<string>(8 - part(head).length - part(tail).length).fill("0"), ...part(tail)] : part(address);
  return Buffer.concat(groups.map((g) => Buffer.from(g.padStart(4, "0"), "hex")));
}

/** The key identifier of RFC 5280's method 1 (SHA-1 of the key), over the whole SubjectPublicKeyInfo. */
function keyId(spki: Buffer): Buffer {
  return createHash("sha1").update(spki).digest();
}

function pem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`;
}
