// Tether's KSOPS as a kustomize exec plugin. kustomize runs the executable it finds in its plugin
// home (`viaduct.ai/<version>/ksops/ksops`) once per generator, with the generator config in a file named
// by the first argument and the kustomization's directory as working directory, and reads the
// generated objects from its stdout (kustomize's legacy exec-plugin protocol, which KSOPS speaks).
//
// That executable is a small shim: it hands the config to the renderer that started kustomize, over
// a Unix socket in the render's private scratch directory, and prints what comes back. The KSOPS
// work (and sops, with the keys) stays in the agent process: plaintext moves from sops' stdout
// through the socket to the shim's stdout, never to a file, and the age keys never reach kustomize.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { TetherError, errorMessage, type Reason } from "../../errors.ts";
import { generate, type DecryptFileFn } from "./generate.ts";

/** The `viaduct.ai/<version>` generators KSOPS answers to (v1 documented, v2 in its KRM test corpus). */
const KSOPS_VERSIONS = ["v1", "v2"];

/** Linux refuses longer socket paths (sun_path is 108 bytes, with its terminating zero). */
const MAX_SOCKET_PATH = 107;

/** Prefix of the stderr line on which the plugin reports a TetherError as JSON. */
const ERROR_PREFIX = "tether-ksops-error: ";

interface Request {
  readonly config: string;
  readonly cwd: string;
}

/** What the renderer answers: the objects, or the stderr line for an error. */
type Reply = { readonly output: string } | { readonly error: string };

interface ReportedError {
  readonly reason: Reason;
  readonly message: string;
  readonly object?: string;
}

export interface KsopsServer {
  /** The plugin home for `KUSTOMIZE_PLUGIN_HOME`: it holds KSOPS and nothing else. */
  readonly pluginHome: string;
  close(): Promise<void>;
}

export interface KsopsServerOptions {
  /** A private directory (mode 0700) for the socket and the plugin home. */
  readonly dir: string;
  /** The checkout root: no file outside it is read, whatever a generator says. */
  readonly root: string;
  readonly decrypt: DecryptFileFn;
}

/** Serves KSOPS generators for one `kustomize build`; close it when the build is over. */
export async function serveKsops(opts: KsopsServerOptions): Promise<KsopsServer> {
  const socketPath = join(opts.dir, "ksops.sock");
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new TetherError("RenderFailed", `the temporary directory's path is too long for a Unix socket (${socketPath.length} characters): set TMPDIR to a shorter path`, { retryable: false });
  }
  // Half-open: the shim ends its side once the request is sent, and still reads the reply.
  const server = createServer({ allowHalfOpen: true }, (conn) => void answer(conn, opts));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  const pluginHome = await writePluginHome(join(opts.dir, "plugins"), socketPath);
  return {
    pluginHome,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function answer(conn: Socket, opts: KsopsServerOptions): Promise<void> {
  let reply: Reply;
  try {
    const request = JSON.parse(await readAll(conn)) as Request;
    const output = await generate(request.config, { cwd: request.cwd, root: opts.root, decrypt: opts.decrypt, readFile: (path) => readFile(path) });
    reply = { output };
  } catch (err) {
    // Only Tether's own messages go back: they never hold plaintext.
    const typed = err instanceof TetherError ? err : new TetherError("RenderFailed", `ksops generator failed: ${errorMessage(err).split("\n")[0] ?? ""}`);
    reply = { error: formatPluginError(typed) };
  }
  conn.end(JSON.stringify(reply));
}

function readAll(conn: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    conn.on("data", (chunk: Buffer) => chunks.push(chunk));
    conn.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    conn.on("error", reject);
  });
}

/**
 * The plugin executable: a shell script that runs the shim with the Node that runs the agent. The
 * shim is plain CommonJS, so it starts in a few tens of milliseconds, compiled or not.
 */
async function writePluginHome(home: string, socketPath: string): Promise<string> {
  const shim = join(home, "shim.cjs");
  await mkdir(home, { recursive: true });
  await writeFile(shim, shimSource(socketPath));
  // kustomize looks a generator up by its apiVersion: one executable per KSOPS version, the same shim.
  for (const version of KSOPS_VERSIONS) {
    const dir = join(home, "viaduct.ai", version, "ksops");
    await mkdir(dir, { recursive: true });
    const executable = join(dir, "ksops");
    await writeFile(executable, `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(shim)} "$@"\n`);
    await chmod(executable, 0o755);
  }
  return home;
}

function shimSource(socketPath: string): string {
  const unreachable = JSON.stringify(formatPluginError(new TetherError("RenderFailed", "the ksops plugin runs only inside Tether's kustomize renderer")));
  const unanswered = JSON.stringify(formatPluginError(new TetherError("RenderFailed", "the ksops plugin got no answer from Tether's kustomize renderer")));
  return `"use strict";
const fs = require("node:fs");
const net = require("node:net");
const fail = (line) => { process.stderr.write(line); process.exitCode = 1; };
let request;
try {
  request = JSON.stringify({ config: fs.readFileSync(process.argv[2], "utf8"), cwd: process.cwd() });
} catch {
  return fail(${unreachable});
}
const chunks = [];
const socket = net.connect(${JSON.stringify(socketPath)});
socket.on("data", (chunk) => chunks.push(chunk));
socket.on("end", () => {
  let reply;
  try {
    reply = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return fail(${unanswered});
  }
  if (typeof reply.output === "string") process.stdout.write(reply.output);
  else fail(reply.error);
});
socket.on("error", () => fail(${unreachable}));
socket.end(request);
`;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The stderr line for a TetherError. */
export function formatPluginError(err: TetherError): string {
  const reported: ReportedError = { reason: err.reason, message: err.message, ...(err.object === undefined ? {} : { object: err.object }) };
  return `${ERROR_PREFIX}${JSON.stringify(reported)}\n`;
}

/** The TetherError the plugin reported in kustomize's stderr, if it did. */
export function pluginErrorIn(stderr: string): TetherError | undefined {
  const line = stderr.split("\n").find((l) => l.includes(ERROR_PREFIX));
  if (line === undefined) return undefined;
  try {
    const reported = JSON.parse(line.slice(line.indexOf(ERROR_PREFIX) + ERROR_PREFIX.length)) as ReportedError;
    return new TetherError(reported.reason, reported.message, { ...(reported.object === undefined ? {} : { object: reported.object }), retryable: false });
  } catch {
    return undefined;
  }
}
