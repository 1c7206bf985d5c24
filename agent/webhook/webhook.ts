// The git webhook: a push names a repository, and every Application reading it is refreshed now.
import type http from "node:http";
import type { Send, ServerOptions } from "../server.ts";

export function webhook(req: http.IncomingMessage, url: URL, opts: ServerOptions, send: Send): void {
  const token = req.headers["x-tether-token"] ?? url.searchParams.get("token");
  if (opts.webhookToken && token !== opts.webhookToken) return send(401, "bad or missing token\n");
  let body = "";
  req.on("data", (chunk: Buffer) => { if (body.length < 1_000_000) body += chunk.toString("utf8"); });
  req.on("end", () => {
    // GitHub, GitLab and Gitea all name the repository; without one every app is refreshed.
    let repo: string | undefined;
    try {
      const payload = JSON.parse(body || "{}") as { repository?: { clone_url?: string; html_url?: string; git_http_url?: string }; repoURL?: string };
      repo = payload.repoURL ?? payload.repository?.clone_url ?? payload.repository?.git_http_url ?? payload.repository?.html_url;
    } catch {
      return send(400, "payload is not JSON\n");
    }
    const n = opts.controller.refreshRepository(repo);
    send(202, `refreshing ${n} application(s)\n`);
  });
}
