// `tether ui`: the web UI on localhost for people outside the cluster network. The browser talks to
// this process, which talks to the API server with the kubeconfig's credentials, so RBAC decides
// what the UI may show and do exactly as it does for kubectl.
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { Command } from "commander";
import type { KubeConfig } from "@kubernetes/client-node";
import { DEFAULT_NAMESPACE } from "../../agent/api/types.ts";
import { KubeHttp } from "../../agent/apply/http.ts";
import { localAccess, randomToken, uiRoutes } from "../../agent/ui/index.ts";
import { UsageError } from "../errors.ts";
import { kubeOptions, loadKubeConfig, type KubeFlags } from "../kube.ts";
import { useRepoTools } from "../tools.ts";
import { ensureUiBuilt } from "./build.ts";

interface UiFlags extends KubeFlags {
  readonly port: string;
  readonly address: string;
  readonly repoCache?: string;
  readonly allowLocalRepos: boolean;
}

export interface LocalUi {
  /** The address to open: it carries this session's sign-in code after `#`, which the browser never sends to a server. */
  readonly url: string;
  stop(): Promise<void>;
}

/** Serves the UI on `address:port` (0 picks a free port) with `kc`'s credentials. */
export async function startLocalUi(opts: {
  kc: KubeConfig; namespace: string; address: string; port: number; cacheDir: string; allowLocalRepos?: boolean;
}): Promise<LocalUi> {
  const token = randomToken();
  // Printed in the URL; traded by the tab for the token, so a link with a token of its own signs no one in.
  const code = randomToken();
  const user = opts.kc.getCurrentUser()?.name ?? "kubeconfig user";
  const routes = uiRoutes({
    kc: opts.kc, namespace: opts.namespace, access: localAccess(new KubeHttp(opts.kc), token, user), cacheDir: opts.cacheDir,
    allowLocalRepos: opts.allowLocalRepos ?? false, login: { code, token }, prefetch: true,
    // Only these names: a web page that rebinds its own DNS name to 127.0.0.1 is refused.
    allowedHosts: [...new Set([opts.address, "localhost", "127.0.0.1", "::1"])],
  });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (routes.handles(url.pathname)) return void routes.handle(req, res, url);
    if (url.pathname === "/") {
      res.writeHead(302, { location: "/ui/" });
      return void res.end();
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.address, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  const host = opts.address === "0.0.0.0" || opts.address === "::" ? "127.0.0.1" : opts.address;
  return {
    url: `http://${host}:${port}/ui/#login=${code}`,
    stop: async () => {
      routes.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export function uiCommand(): Command {
  return kubeOptions(new Command("ui")
    .description("Serve the web UI on localhost, acting with the kubeconfig's credentials"))
    .option("--port <port>", "port to listen on (0: any free port)", "8081")
    .option("--address <ip>", "address to listen on", "127.0.0.1")
    .option("--repo-cache <dir>", "where to keep the git mirrors the diff view reads")
    .option("--allow-local-repos", "let the diff view read file:// and plain-path repoURLs (refused by default, as the agent refuses them)", false)
    .addHelpText("after", "\nOpen the printed URL; it carries a token for this session only.\nExample:\n  tether ui --kubeconfig ./kubeconfig --port 8081")
    .action(async (flags: UiFlags) => {
      if (!/^\d+$/.test(flags.port) || Number(flags.port) > 65535) throw new UsageError(`--port ${flags.port}: expected a port number (0-65535)`);
      useRepoTools();
      await ensureUiBuilt((line) => console.log(line));
      const ui = await startLocalUi({
        kc: loadKubeConfig(flags), namespace: flags.namespace ?? DEFAULT_NAMESPACE, address: flags.address, port: Number(flags.port),
        cacheDir: flags.repoCache ?? path.join(os.homedir(), ".cache", "tether", "repos"), allowLocalRepos: flags.allowLocalRepos,
      }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "EADDRINUSE") throw new UsageError(`port ${flags.port} on ${flags.address} is taken; pass --port 0 or another port`);
        throw err;
      });
      console.log(`Tether UI: ${ui.url}`);
      console.log("Ctrl-C to stop.");
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
      await ui.stop();
      process.exit(0);
    });
}
