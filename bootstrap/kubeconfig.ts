// Kubeconfig text in and out: pure functions, so the cluster modes stay thin.
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseDocument } from "yaml";
import { ConfigError } from "./config.ts";

/** `tether:kubeconfig` holds either a path or the kubeconfig itself (YAML or JSON, always several lines). */
export function isInlineKubeconfig(value: string): boolean {
  const text = value.trim();
  return text.includes("\n") || text.startsWith("{") || text.startsWith("apiVersion:");
}

/** The kubeconfig text for a `tether:kubeconfig` value; a relative path is taken from `baseDir`. */
export function loadKubeconfig(value: string, baseDir: string): string {
  if (isInlineKubeconfig(value)) return value;
  const file = path.resolve(baseDir, value.replace(/^~(?=$|\/)/, os.homedir()));
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : "cannot be read";
    throw new ConfigError(`tether:kubeconfig names ${file}, which ${reason}; point it at a kubeconfig file `
      + "(pulumi config set tether:kubeconfig PATH) or store the kubeconfig itself (pulumi config set --secret tether:kubeconfig < FILE)");
  }
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "0.0.0.0", "[::1]", "[::]"]);

/**
 * k3s writes its kubeconfig for use on the machine itself (`server: https://127.0.0.1:6443`); this
 * points every loopback server at `host`, keeping scheme and port, so it works from elsewhere.
 */
export function pointServerAt(kubeconfig: string, host: string): string {
  const doc = parseDocument(kubeconfig);
  const clusters = doc.toJS() as { clusters?: { cluster?: { server?: string } }[] } | null;
  if (!clusters?.clusters?.length) throw new Error("the k3s kubeconfig has no clusters: is /etc/rancher/k3s/k3s.yaml complete?");
  clusters.clusters.forEach((entry, i) => {
    const server = entry.cluster?.server;
    if (!server) return;
    const url = new URL(server);
    if (!LOOPBACK.has(url.hostname)) return;
    url.hostname = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
    doc.setIn(["clusters", i, "cluster", "server"], url.toString().replace(/\/$/, ""));
  });
  return doc.toString();
}
