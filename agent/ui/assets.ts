// The built frontend (`npm run build:ui` writes it to dist/ui), served under /ui/.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".json": "application/json", ".woff2": "font/woff2",
};

/**
 * Content Security Policy: scripts and styles only from this origin (Vite emits files, no inline
 * script), no framing, so an injected string in a manifest cannot run as code.
 */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Where the built files are: $TETHER_UI_DIR, else the nearest `dist/ui` above this module (a
 * checkout run from sources, or from the esbuild bundle in dist/).
 */
export function defaultAssetsDir(): string {
  if (process.env.TETHER_UI_DIR) return process.env.TETHER_UI_DIR;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, dir = path.dirname(dir)) {
    const candidates = [path.join(dir, "dist", "ui"), ...(path.basename(dir) === "dist" ? [path.join(dir, "ui")] : [])];
    const found = candidates.find((c) => existsSync(path.join(c, "index.html")));
    if (found) return found;
  }
  return path.resolve(dir, "dist", "ui");
}

export async function serveAsset(req: IncomingMessage, res: ServerResponse, opts: { pathname: string; dir?: string }): Promise<void> {
  if (opts.pathname === "/ui") {
    res.writeHead(308, { location: "/ui/" });
    res.end();
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" });
    res.end();
    return;
  }
  const dir = opts.dir ?? defaultAssetsDir();
  const relative = decodeURIComponent(opts.pathname.slice("/ui/".length)) || "index.html";
  const file = path.resolve(dir, relative);
  // The hash router keeps every page at /ui/, so anything else is a file of the build or nothing.
  if (!file.startsWith(dir + path.sep)) return notFound(res);
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    if (relative === "index.html") {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end(`the web UI is not built (no ${path.join(dir, "index.html")}); run \`npm run build:ui\`\n`);
      return;
    }
    return notFound(res);
  }
  res.writeHead(200, {
    "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
    "content-security-policy": CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY",
    // Vite names assets by content hash; index.html must be fetched fresh to find the new names.
    "cache-control": relative.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found\n");
}
