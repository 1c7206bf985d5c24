import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { findExecutable } from "../../agent/render/tool.ts";
import { agentEndpoint, agentGet, AgentRefused, AgentUnreachable, missingToolHint } from "./remote.ts";

describe("which agent renders for tether app diff and tether preview", () => {
  it.each([
    ["no URL", {}, /no agent given \(--agent-url URL --auth-token TOKEN/],
    ["a URL and no token", { agentUrl: "http://a:8080" }, /no token for the agent at http:\/\/a:8080/],
  ])("none with %s: the note says how to give one", (_what, flags, note) => {
    const ep = agentEndpoint(flags, undefined, {});
    expect("none" in ep && ep.none).toMatch(note);
  });

  it.each([
    ["the flags", { agentUrl: "http://a:8080/", authToken: "f" }, { TETHER_AGENT_URL: "http://e", TETHER_AUTH_TOKEN: "e" }, { url: "http://a:8080", token: "f" }],
    ["the environment", {}, { TETHER_AGENT_URL: "http://e", TETHER_AUTH_TOKEN: "e" }, { url: "http://e", token: "e" }],
    ["the kubeconfig user's token last", {}, { TETHER_AGENT_URL: "http://e" }, { url: "http://e", token: "k" }],
  ])("from %s", (_what, flags, env, want) => {
    expect(agentEndpoint(flags, "k", env)).toEqual(want);
  });

  it("an agent that is not there is AgentUnreachable (fall back); one that answers an error is AgentRefused with its message", async () => {
    await expect(agentGet({ url: "http://127.0.0.1:9", token: "t" }, "applications")).rejects.toBeInstanceOf(AgentUnreachable);
    const server = http.createServer((req, res) => {
      res.writeHead(req.headers.authorization === "Bearer good" ? 200 : 401, { "content-type": "application/json" });
      res.end(JSON.stringify(req.headers.authorization === "Bearer good" ? { items: [] } : { message: "sign in" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(agentGet({ url, token: "good" }, "applications")).resolves.toEqual({ items: [] });
      const refused = agentGet({ url, token: "bad" }, "applications");
      await expect(refused).rejects.toBeInstanceOf(AgentRefused);
      await expect(refused).rejects.toThrow(`the agent at ${url} answered HTTP 401: sign in`);
    } finally {
      server.close();
    }
  });

  it("a tool missing on this machine is said with where to get it and how to render on the agent instead", async () => {
    const err = await findExecutable("kustomize", "/nonexistent").catch((e: unknown) => e);
    const hinted = missingToolHint(err) as Error;
    expect(hinted.message).toMatch(/^kustomize was not found on PATH, and this app needs it to render here: install it \(https:\/\/kubectl.docs.kubernetes.io/);
    expect(hinted.message).toContain("or let the agent render: --agent-url URL");
    const other = new Error("boom");
    expect(missingToolHint(other)).toBe(other);
  });
});
