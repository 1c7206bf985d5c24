// client-node's generated API clients (TetherClient: Applications, AppProjects, status writes,
// Events) build a new https.Agent for every request, so every request opened its own TCP connection
// and TLS handshake: in a profile of the agent, about an eighth of its CPU went to handshakes. This
// gives a KubeConfig's API clients one keep-alive agent per set of TLS credentials instead.
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

type Authenticate = KubeConfig["applySecurityAuthentication"];
const patched = new WeakSet<KubeConfig>();

/**
 * Makes the API clients of `kc` reuse connections. Credentials are still read per request (a token,
 * or a rotated client certificate, is taken up at once: new credentials get an agent of their own);
 * proxies and plain HTTP keep client-node's own agent. Returns `kc`.
 */
export function keepAlive(kc: KubeConfig): KubeConfig {
  if (patched.has(kc)) return kc;
  patched.add(kc);
  const agents = new Map<string, https.Agent>();
  const authenticate: Authenticate = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    await authenticate(context);
    const fresh = context.getAgent();
    if (!(fresh instanceof https.Agent) || fresh.constructor !== https.Agent || kc.getCurrentCluster()?.proxyUrl) return;
    const o = fresh.options;
    const key = [kc.getCurrentCluster()?.server, o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername].map(String).join("\0");
    let agent = agents.get(key);
    if (!agent) {
      // Credentials rotate seldom; the agents of old ones are let go (their idle sockets close).
      for (const old of agents.values()) old.destroy();
      agents.clear();
      agent = new https.Agent({ ...o, keepAlive: true, maxSockets: 32 });
      agents.set(key, agent);
    }
    context.setAgent(agent);
  };
  return kc;
}
